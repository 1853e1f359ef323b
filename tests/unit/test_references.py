import datetime

import pytest

from portal.returns.errors import DomainError
from portal.returns.references import counter_name, format_reference, validate_pattern

WHEN = datetime.datetime(2026, 3, 9)


def test_default_pattern():
    assert format_reference("RMA-{year}-{seq:05d}", 42, WHEN) == "RMA-2026-00042"
    assert counter_name("RMA-{year}-{seq:05d}", WHEN) == "rma:2026"
    assert counter_name("R{year}{month:02d}-{seq}", WHEN) == "rma:2026-03"
    assert format_reference("R{year}{month:02d}-{seq}", 7, WHEN) == "R202603-7"
    assert counter_name("RET-{seq:06d}", WHEN) == "rma"


@pytest.mark.parametrize(
    "pattern", ["RMA-{year}", "RMA-{customer}-{seq}", "RMA {seq}", "RMA-{seq", "RMA/{seq}", ""]
)
def test_bad_patterns_are_refused_in_words(pattern):
    with pytest.raises(DomainError):
        validate_pattern(pattern)

"""The restocking fee's percent <-> basis points conversion (the policy form shows percent, the
policy stores basis points). A 10% fee once came back from the form as 1%."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.returns.errors import DomainError
from portal.returns.settings import bps_to_percent, percent_to_bps


@pytest.mark.parametrize(
    ("bps", "text"),
    [(0, "0"), (1, "0.01"), (10, "0.1"), (100, "1"), (1000, "10"), (1005, "10.05"),
     (1050, "10.5"), (2000, "20"), (9999, "99.99"), (10000, "100")],
)  # fmt: skip
def test_whole_percentages_keep_their_zeros(bps, text):
    assert bps_to_percent(bps) == text


def test_every_value_the_form_accepts_round_trips():
    """Every stored fee, 0 to 10000 bps, shows as a percent that saves back as the same fee."""
    for bps in range(0, 10001):
        assert percent_to_bps(bps_to_percent(bps)) == bps


@given(st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False))
def test_a_typed_percentage_is_shown_back_as_the_same_number(value):
    typed = f"{value:f}"
    shown = bps_to_percent(percent_to_bps(typed))
    assert Decimal(shown) == Decimal(typed)


@pytest.mark.parametrize("text", ["-1", "100.01", "12.345", "ten", "", "nan", "1e3"])
def test_out_of_range_or_malformed_percentages_are_refused(text):
    with pytest.raises(DomainError):
        percent_to_bps(text)

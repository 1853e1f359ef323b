"""Return reference numbers from the store's pattern, e.g. RMA-{year}-{seq:05d} -> RMA-2026-00042."""

import string

from portal.returns.errors import DomainError

ALLOWED_FIELDS = {"year", "month", "seq"}


def validate_pattern(pattern):
    """Raise DomainError unless `pattern` is a usable reference pattern containing {seq}."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError as exc:
        raise DomainError(f"The reference pattern is malformed: {exc}.") from None
    unknown = set(fields) - ALLOWED_FIELDS
    if unknown:
        raise DomainError(
            f"The reference pattern may only use {{year}}, {{month}} and {{seq}}, "
            f"not {', '.join(sorted(unknown))}."
        )
    if "seq" not in fields:
        raise DomainError("The reference pattern must contain {seq}, e.g. RMA-{year}-{seq:05d}.")
    try:
        sample = pattern.format(year=2026, month=1, seq=1)
    except (ValueError, KeyError) as exc:
        raise DomainError(f"The reference pattern can't be formatted: {exc}.") from None
    if not sample or len(sample) > 60 or any(c in sample for c in "/?#% "):
        raise DomainError("References must be 1-60 characters without spaces, /, ?, # or %.")
    return pattern


def counter_name(pattern, when):
    """Sequences restart when the year (or month) in the pattern changes."""
    if "{month" in pattern:
        return f"rma:{when.year}-{when.month:02d}"
    if "{year" in pattern:
        return f"rma:{when.year}"
    return "rma"


def format_reference(pattern, seq, when):
    return pattern.format(year=when.year, month=when.month, seq=seq)

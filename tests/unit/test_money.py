"""portal.returns.money: the one rounding rule, formatting and parsing of amounts."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.returns.money import format_money, parse_money, percent_of

amounts = st.integers(min_value=0, max_value=10**12)
rates = st.integers(min_value=0, max_value=10_000)  # basis points: 0% .. 100%


def reference_percent(amount, bps):
    """The same rule, computed independently with Decimal."""
    exact = Decimal(amount) * Decimal(bps) / Decimal(10_000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (0, 1000, 0),
        (1000, 0, 0),
        (1000, 10_000, 1000),
        (1000, 1000, 100),  # 10% of $10.00
        (5, 1000, 1),  # 0.5 cent rounds up
        (4, 1000, 0),  # 0.4 cent rounds down
        (15, 1000, 2),  # 1.5 -> 2
        (25, 1000, 3),  # 2.5 -> 3 (half-up, not banker's rounding)
        (1999, 1500, 300),  # 299.85 -> 300
        (333, 3333, 111),  # 110.9889 -> 111
        (1, 5000, 1),  # 0.5 -> 1
        (1, 4999, 0),
    ],
)
def test_percent_of_examples(amount, bps, expected):
    assert percent_of(amount, bps) == expected


@given(amounts, rates)
def test_percent_of_rounds_half_up(amount, bps):
    assert percent_of(amount, bps) == reference_percent(amount, bps)


@given(amounts, rates)
def test_percent_of_is_an_int_within_the_amount(amount, bps):
    result = percent_of(amount, bps)
    assert isinstance(result, int)
    assert 0 <= result <= amount


@given(amounts, rates)
def test_percent_of_is_within_half_a_cent_of_the_exact_value(amount, bps):
    exact = Decimal(amount) * bps / 10_000
    assert abs(Decimal(percent_of(amount, bps)) - exact) <= Decimal("0.5")


@given(amounts, rates, rates)
def test_percent_of_is_monotonic_in_the_rate(amount, a, b):
    low, high = sorted((a, b))
    assert percent_of(amount, low) <= percent_of(amount, high)


@given(amounts, rates)
def test_the_fee_is_the_exact_share_rounded_half_up(amount, bps):
    """Checked in exact rational arithmetic (Fraction: no Decimal context, no float): the fee is
    within half a cent of amount * bps / 10000, a tie goes up, and it never exceeds the amount
    (bps <= 10000), so the remainder refunded is never negative."""
    fee = percent_of(amount, bps)
    exact = Fraction(amount * bps, 10_000)
    assert abs(fee - exact) <= Fraction(1, 2)
    if abs(fee - exact) == Fraction(1, 2):
        assert fee > exact  # half-up
    assert 0 <= fee <= amount


@given(amounts, amounts, rates, rates)
def test_the_fee_never_shrinks_when_the_amount_or_the_rate_grows(a, b, r, s):
    low, high = sorted((a, b))
    low_rate, high_rate = sorted((r, s))
    assert percent_of(low, low_rate) <= percent_of(high, low_rate) <= percent_of(high, high_rate)
    assert percent_of(low, low_rate) <= percent_of(low, high_rate) <= percent_of(high, high_rate)


@pytest.mark.parametrize(("amount", "bps"), [(-1, 100), (100, -1), (-5, -5)])
def test_percent_of_refuses_negative_input(amount, bps):
    with pytest.raises(ValueError, match="non-negative"):
        percent_of(amount, bps)


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (0, "USD", "$0.00"),
        (5, "USD", "$0.05"),
        (1234, "USD", "$12.34"),
        (123456789, "USD", "$1,234,567.89"),
        (-1234, "USD", "-$12.34"),
        (1050, "EUR", "€10.50"),
        (99, "GBP", "£0.99"),
        (1234, "CHF", "12.34 CHF"),
        (-100, "SEK", "-1.00 SEK"),
        (1500, "JPY", "1,500 JPY"),
    ],
)
def test_format_money(cents, currency, text):
    assert format_money(cents, currency) == text


def test_format_money_defaults_to_usd():
    assert format_money(250) == "$2.50"


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12.34", 1234),
        ("12", 1200),
        ("12.3", 1230),
        ("12.", 1200),
        (".5", 50),
        ("0.05", 5),
        ("  7.00 ", 700),
        ("1,234.56", 123456),
        ("0", 0),
    ],
)
def test_parse_money(text, cents):
    assert parse_money(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not an amount"),
        (None, "is not an amount"),
        ("abc", "is not an amount"),
        ("12a", "is not an amount"),
        ("$12", "is not an amount"),
        ("1e3", "is not an amount"),
        (".", "is not an amount"),
        ("12.345", "more than two decimals"),
        ("12.3x", "'12.3x'"),  # the message quotes what was typed
        ("1.2.3", "'1.2.3'"),
        ("-5", "can't be negative"),
        ("-0.01", "can't be negative"),
    ],
)
def test_parse_money_rejects_bad_input_with_a_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_money(text)


@given(st.integers(min_value=0, max_value=10**12))
def test_format_then_parse_round_trips(cents):
    text = format_money(cents, "USD").removeprefix("$")
    assert parse_money(text) == cents

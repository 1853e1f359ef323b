"""Exchange money (portal/returns/exchange_money.py) and the exchange row of the refund
calculation: pure functions, no database. The properties hold for any prices, quantities,
taxes, bonus and settings."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.returns.errors import DomainError
from portal.returns.exchange_money import (
    ExchangeLine,
    Price,
    replacement_price,
    split_exchange,
)
from portal.returns.money import percent_of
from portal.returns.refund_calc import RefundLine, RefundTerms, calculate_refund

cents = st.integers(min_value=0, max_value=500_000)
quantities = st.integers(min_value=0, max_value=20)
prices = st.builds(Price, cents, st.integers(min_value=0, max_value=100_000))


@st.composite
def exchange_lines(draw):
    """An exchange line from prices and taxes: what was paid and the replacement, with tax."""
    paid, new = draw(prices), draw(prices)
    return ExchangeLine(draw(quantities), paid.total, new.total)


lines_st = st.lists(exchange_lines(), max_size=6)


# --- the split ------------------------------------------------------------------------------------


def test_a_same_price_exchange_costs_and_refunds_nothing():
    split = split_exchange([ExchangeLine(1, 3000, 3000)], bonus=1000, absorb_up_to=500)
    assert (split.refunded, split.credited, split.absorbed, split.due) == (0, 0, 0, 0)
    assert split.bonus_unused == 1000  # the bonus is for dearer replacements, never money


def test_a_cheaper_replacement_refunds_the_difference():
    split = split_exchange([ExchangeLine(2, 3000, 2500)])
    assert (split.difference, split.refunded, split.due) == (1000, 1000, 0)


def test_a_dearer_replacement_is_covered_by_bonus_then_absorbed_then_due():
    split = split_exchange([ExchangeLine(1, 6900, 8900)], bonus=500, absorb_up_to=300)
    assert (split.credited, split.absorbed, split.due) == (500, 300, 1200)
    assert split.refunded == 0


def test_a_dearer_line_never_takes_from_a_cheaper_one():
    """Each line on its own: the cheaper tee's difference is refunded, the dearer hoodie's is
    due; one doesn't pay for the other (DESIGN: never taken from the refund of other lines)."""
    split = split_exchange([ExchangeLine(1, 3000, 2000), ExchangeLine(1, 6900, 7900)])
    assert [(p.refunded, p.due) for p in split.lines] == [(1000, 0), (0, 1000)]


def test_the_bonus_and_what_is_absorbed_are_shared_across_the_dearer_lines_in_order():
    split = split_exchange([ExchangeLine(1, 1000, 1600), ExchangeLine(2, 1000, 1500)],
                           bonus=800, absorb_up_to=300)  # fmt: skip
    assert [(p.credited, p.absorbed, p.due) for p in split.lines] == [(600, 0, 0), (200, 300, 500)]


def test_refuses_negative_amounts():
    with pytest.raises(DomainError):
        split_exchange([ExchangeLine(1, -1, 0)])
    with pytest.raises(DomainError):
        split_exchange([], bonus=-5)


@given(lines_st, cents, cents)
def test_the_parts_add_up_to_the_difference(lines, bonus, absorb):
    split = split_exchange(lines, bonus, absorb)
    for line, part in zip(lines, split.lines, strict=True):
        difference = line.quantity * (line.paid - line.replacement)
        assert part.difference == difference
        assert part.refunded - (part.credited + part.absorbed + part.due) == difference
        assert part.refunded + part.credited + part.absorbed + part.due == abs(difference)
    assert split.refunded - (split.credited + split.absorbed + split.due) == split.difference


@given(lines_st, cents, cents)
def test_no_part_is_negative_or_above_what_was_paid(lines, bonus, absorb):
    split = split_exchange(lines, bonus, absorb)
    for line, part in zip(lines, split.lines, strict=True):
        assert min(part.refunded, part.credited, part.absorbed, part.due) >= 0
        assert part.refunded <= line.quantity * line.paid  # never more than was paid
        assert part.due <= line.quantity * line.replacement  # never more than it costs
    assert split.credited <= bonus and split.absorbed <= absorb
    assert split.bonus_unused >= 0


@given(lines_st, cents, cents)
def test_nothing_is_due_while_bonus_or_absorbing_is_left(lines, bonus, absorb):
    split = split_exchange(lines, bonus, absorb)
    if split.due:
        assert split.credited == bonus and split.absorbed == absorb


# --- what a replacement costs -------------------------------------------------------------------


def test_a_size_swap_at_the_same_list_price_keeps_the_shoppers_discount():
    paid = Price(2250, 450)  # 10% off 2500 + 500
    assert replacement_price(paid, Price(2500, 500), Price(2500, 500), True) == paid


def test_a_dearer_variant_costs_its_share_more_and_another_product_its_list_price():
    paid = Price(2250, 450)
    dearer = replacement_price(paid, Price(2500, 500), Price(3000, 600), True)
    assert dearer.total == 3240 and dearer.tax == 540  # 2700 x 3600 / 3000
    assert replacement_price(paid, Price(2500, 500), Price(8900, 1780), False) == Price(8900, 1780)
    assert replacement_price(paid, None, Price(2500, 500), False) == Price(2500, 500)


@given(prices, prices, prices)
def test_a_replacements_price_is_never_negative_and_keeps_its_order(paid, returned, chosen):
    price = replacement_price(paid, returned, chosen, True)
    assert price.price >= 0 and price.tax >= 0
    if returned.total and chosen.total >= returned.total:
        assert price.total >= paid.total
    if returned.total and chosen.total <= returned.total:
        assert price.total <= paid.total


# --- the refund calculation's exchange row ---------------------------------------------------------


def test_exchange_lines_refund_only_their_difference_with_no_fees_by_default():
    lines = [
        RefundLine(1, 3000, 600, False, replacement=3000),  # cheaper by 600
        RefundLine(1, 6900, 0, False, replacement=7900),  # dearer: due, not here
    ]
    b = calculate_refund(lines, RefundTerms(restocking_fee_bps=1000, return_shipping_fee=500))
    assert (b.items, b.restocking, b.return_shipping, b.exchange, b.total) == (0, 0, 0, 600, 600)


def test_exchange_fees_are_settings_taken_from_the_refund_never_below_zero():
    lines = [RefundLine(1, 3000, 0, False, replacement=3000)]
    terms = RefundTerms(restocking_fee_bps=1000, return_shipping_fee=500,
                        exchange_restocking_fee=True, exchange_return_shipping=True)  # fmt: skip
    b = calculate_refund(lines, terms)
    assert (b.restocking, b.exchange, b.total) == (300, 0, 0)
    with_refund = lines + [RefundLine(1, 2000, 0, False)]
    b = calculate_refund(with_refund, terms)
    assert (b.items, b.restocking, b.return_shipping, b.total) == (2000, 500, 500, 1000)


def test_a_refund_line_beside_an_exchange_pays_return_shipping_as_before():
    lines = [RefundLine(1, 3000, 0, False, replacement=3000), RefundLine(1, 2000, 0, False)]
    b = calculate_refund(lines, RefundTerms(restocking_fee_bps=0, return_shipping_fee=500))
    assert (b.items, b.return_shipping, b.total) == (2000, 500, 1500)


@st.composite
def refund_lines(draw):
    price, tax = draw(cents), draw(st.integers(min_value=0, max_value=100_000))
    exchange = draw(st.booleans())
    return RefundLine(draw(quantities), price, tax, draw(st.booleans()),
                      replacement=draw(prices).total if exchange else None)  # fmt: skip


@given(st.lists(refund_lines(), max_size=6), st.integers(0, 10_000), cents, st.booleans(),
       st.booleans())  # fmt: skip
def test_the_refund_with_exchange_lines_adds_up(lines, bps, ship_fee, ex_fee, ex_ship):
    terms = RefundTerms(restocking_fee_bps=bps, return_shipping_fee=ship_fee,
                        exchange_restocking_fee=ex_fee, exchange_return_shipping=ex_ship)  # fmt: skip
    b = calculate_refund(lines, terms)
    refund = [ln for ln in lines if ln.replacement is None]
    swaps = [ln for ln in lines if ln.replacement is not None]
    assert b.items == sum(ln.quantity * (ln.unit_price + ln.unit_tax) for ln in refund)
    split = split_exchange([ExchangeLine(ln.quantity, ln.unit_price + ln.unit_tax,
                                         ln.replacement) for ln in swaps])  # fmt: skip
    assert b.exchange == split.refunded  # the same difference as the exchange money says
    fees = sum(
        percent_of(ln.quantity * (ln.unit_price + ln.unit_tax), bps)
        for ln in lines
        if not ln.merchant_fault and (ln.replacement is None or ex_fee)
    )
    assert b.restocking == fees
    assert b.subtotal == b.items - b.restocking - b.return_shipping + b.exchange
    assert 0 <= b.total <= b.items + b.exchange  # never negative, never above what was paid

"""The refund formula and the payment split: pure functions, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.returns.errors import DomainError
from portal.returns.money import percent_of
from portal.returns.refund_calc import (
    PaymentRoom,
    RefundLine,
    RefundTerms,
    calculate_refund,
    split_refund,
)

TERMS = RefundTerms(restocking_fee_bps=1000, return_shipping_fee=500, shipping_total=800)


def test_shopper_choice_pays_restocking_and_return_shipping():
    lines = [RefundLine(quantity=2, unit_price=1000, unit_tax=200, merchant_fault=False)]
    b = calculate_refund(lines, TERMS)
    assert (b.items, b.restocking, b.return_shipping, b.shipping) == (2400, 240, 500, 0)
    assert b.total == 2400 - 240 - 500


def test_merchant_fault_waives_fees_and_refunds_shipping():
    lines = [
        RefundLine(quantity=1, unit_price=1000, unit_tax=0, merchant_fault=True),
        RefundLine(quantity=1, unit_price=2000, unit_tax=0, merchant_fault=False),
    ]
    b = calculate_refund(lines, TERMS)
    # restocking only on the shopper-choice line; no return shipping; original shipping back
    assert (b.restocking, b.return_shipping, b.shipping) == (200, 0, 800)
    assert b.total == 3000 - 200 + 800


def test_shipping_refunded_at_most_once_per_order():
    lines = [RefundLine(quantity=1, unit_price=1000, unit_tax=0, merchant_fault=True)]
    terms = RefundTerms(0, 0, shipping_total=800, shipping_already_refunded=True)
    assert calculate_refund(lines, terms).shipping == 0


def test_staff_can_choose_shipping_and_additional_value():
    lines = [RefundLine(quantity=1, unit_price=1000, unit_tax=0, merchant_fault=False)]
    terms = RefundTerms(0, 0, shipping_total=800, refund_shipping=True, additional=150)
    b = calculate_refund(lines, terms)
    assert (b.shipping, b.additional, b.total) == (800, 150, 1950)


def test_total_capped_at_order_refundable_with_reason():
    lines = [RefundLine(quantity=3, unit_price=1000, unit_tax=0, merchant_fault=True)]
    b = calculate_refund(lines, RefundTerms(0, 0, order_refundable=1200))
    assert b.subtotal == 3000 and b.total == 1200 and "still refundable" in b.capped_by


def test_override_within_billed_amount():
    lines = [RefundLine(1, 1000, 0, False, override=600)]
    b = calculate_refund(lines, RefundTerms(1000, 0))
    assert b.lines[0].amount == 600 and b.lines[0].overridden and b.total == 600
    with pytest.raises(DomainError, match="exceed"):
        calculate_refund([RefundLine(1, 1000, 0, False, override=1001)], RefundTerms(0, 0))
    with pytest.raises(DomainError, match="negative"):
        calculate_refund([RefundLine(1, 1000, 0, False, override=-1)], RefundTerms(0, 0))


def test_partial_returns_never_refund_more_than_the_line_billed():
    # 3 units billed 1000 each; 2500 already refunded by earlier returns: at most 500 left
    lines = [RefundLine(2, 1000, 0, True, line_refundable=500)]
    assert calculate_refund(lines, RefundTerms(0, 0)).total == 500


def test_return_shipping_never_makes_a_refund_negative():
    lines = [RefundLine(1, 300, 0, False)]
    b = calculate_refund(lines, RefundTerms(0, 500))
    assert b.return_shipping == 300 and b.total == 0


def test_no_accepted_units_means_no_fee():
    b = calculate_refund([RefundLine(0, 1000, 0, False)], TERMS)
    assert b.total == 0 and b.return_shipping == 0


line_strategy = st.builds(
    RefundLine,
    quantity=st.integers(0, 20),
    unit_price=st.integers(0, 500_000),
    unit_tax=st.integers(0, 100_000),
    merchant_fault=st.booleans(),
    line_refundable=st.one_of(st.none(), st.integers(0, 10_000_000)),
)
terms_strategy = st.builds(
    RefundTerms,
    restocking_fee_bps=st.integers(0, 10_000),
    return_shipping_fee=st.integers(0, 5_000),
    shipping_total=st.integers(0, 5_000),
    shipping_already_refunded=st.booleans(),
    refund_shipping=st.one_of(st.none(), st.booleans()),
    additional=st.integers(0, 10_000),
    order_refundable=st.one_of(st.none(), st.integers(0, 50_000_000)),
)


@given(st.lists(line_strategy, max_size=6), terms_strategy)
def test_refund_invariants(lines, terms):
    b = calculate_refund(lines, terms)
    assert all(isinstance(v, int) for v in (b.items, b.restocking, b.total, b.subtotal))
    assert b.total >= 0
    if terms.order_refundable is not None:
        assert b.total <= terms.order_refundable
    for line, amount in zip(lines, b.lines, strict=True):
        assert 0 <= amount.amount <= line.quantity * (line.unit_price + line.unit_tax)
        if line.line_refundable is not None:
            assert amount.amount <= line.line_refundable
        if line.merchant_fault:
            assert amount.restocking == 0
    if any(line.merchant_fault and line.quantity for line in lines):
        assert b.return_shipping == 0
    assert (
        b.subtotal == sum(a.amount for a in b.lines) - b.return_shipping + b.shipping + b.additional
    )


@given(st.integers(0, 10**9), st.integers(0, 10_000))
def test_percent_rounds_half_up(amount, bps):
    exact = amount * bps / 10_000
    assert abs(percent_of(amount, bps) - exact) <= 0.5
    if (amount * bps) % 10_000 == 5_000:
        assert percent_of(amount, bps) == (amount * bps + 5_000) // 10_000


def test_split_card_first_then_gift_card():
    rooms = [PaymentRoom(2, "gift_card", 1, 2000), PaymentRoom(1, "card", 2, 3000)]
    split = split_refund(4000, rooms)
    assert [(a.payment_id, a.amount) for a in split.allocations] == [(1, 3000), (2, 1000)]


def test_split_to_store_credit():
    split = split_refund(4000, [], store_credit=True)
    assert [(a.payment_id, a.method, a.amount) for a in split.allocations] == [
        (None, "store_credit", 4000)
    ]


def test_split_refuses_more_than_payments_hold():
    with pytest.raises(DomainError, match="larger than"):
        split_refund(5001, [PaymentRoom(1, "card", 0, 5000)])


@given(
    st.lists(
        st.builds(
            PaymentRoom,
            st.integers(1, 10**6),
            st.sampled_from(["card", "gift_card"]),
            st.integers(0, 5),
            st.integers(0, 100_000),
        ),  # fmt: skip
        max_size=4,
        unique_by=lambda p: p.payment_id,
    ),
    st.integers(0, 400_000),
)
def test_split_never_exceeds_any_payment(rooms, total):
    room = {p.payment_id: p.refundable for p in rooms}
    if total > sum(room.values()):
        with pytest.raises(DomainError):
            split_refund(total, rooms)
        return
    split = split_refund(total, rooms)
    assert split.total == total
    assert all(0 < a.amount <= room[a.payment_id] for a in split.allocations)

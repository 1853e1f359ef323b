"""The withdrawal's refund arithmetic (refund_calc.withdrawal_delivery, withdrawal_terms) under
many inputs: a full withdrawal never refunds less than the goods and the standard delivery,
nothing ever refunds more than was paid."""

from hypothesis import given
from hypothesis import strategies as st

from portal.returns.refund_calc import (
    RefundLine,
    calculate_refund,
    withdrawal_delivery,
    withdrawal_terms,
)

cents = st.integers(min_value=0, max_value=50_000)
# A withdrawal line carries the law's reason: never the store's fault.
lines = st.lists(
    st.tuples(st.integers(1, 5), cents, st.integers(0, 5_000), st.just(False)), min_size=1,
    max_size=6,
)  # fmt: skip


def refund_lines(rows, taken=None):
    return [RefundLine(quantity=q if taken is None else taken[i], unit_price=p, unit_tax=t,
                       merchant_fault=fault)
            for i, (q, p, t, fault) in enumerate(rows)]  # fmt: skip


def goods(rows, quantities=None):
    return sum((q if quantities is None else quantities[i]) * (p + t)
               for i, (q, p, t, _) in enumerate(rows))  # fmt: skip


@given(rows=lines, shipping=cents, standard=st.none() | cents, extra_paid=cents)
def test_a_full_withdrawal_refunds_at_least_goods_and_standard_delivery(rows, shipping, standard,
                                                                        extra_paid):  # fmt: skip
    paid = goods(rows) + shipping + extra_paid
    delivery = withdrawal_delivery(shipping, standard, goods(rows), goods(rows))
    assert delivery == (shipping if standard is None else min(shipping, standard))
    result = calculate_refund(refund_lines(rows), withdrawal_terms(delivery, order_refundable=paid))
    assert result.restocking == 0 and result.return_shipping == 0
    assert result.total >= goods(rows) + delivery
    assert result.total <= paid


@given(rows=lines, shipping=cents, standard=st.none() | cents, data=st.data(),
       return_cost=cents, refundable_cut=cents)  # fmt: skip
def test_never_more_than_paid_and_the_share_is_never_more_than_delivery(
    rows, shipping, standard, data, return_cost, refundable_cut
):
    taken = [data.draw(st.integers(0, q)) for q, *_ in rows]
    paid = goods(rows) + shipping
    refundable = max(paid - refundable_cut, 0)  # earlier refunds on the order
    delivery = withdrawal_delivery(shipping, standard, goods(rows, taken), goods(rows))
    assert 0 <= delivery <= (shipping if standard is None else min(shipping, standard))
    terms = withdrawal_terms(delivery, return_cost, order_refundable=refundable)
    result = calculate_refund(refund_lines(rows, taken), terms)
    assert 0 <= result.total <= refundable <= paid
    assert result.restocking == 0
    assert result.return_shipping <= return_cost
    if refundable >= paid:  # nothing refunded before: the goods and their share, less the cost
        taken_goods = goods(rows, taken)
        assert result.return_shipping == min(return_cost, taken_goods)
        assert result.total == taken_goods - result.return_shipping + delivery


def test_the_share_is_rounded_half_up():
    assert withdrawal_delivery(500, None, 1500, 10_500) == 71  # 71.43
    assert withdrawal_delivery(500, 300, 1, 2) == 150
    assert withdrawal_delivery(5, None, 1, 2) == 3  # 2.5 -> 3
    assert withdrawal_delivery(500, 300, 0, 0) == 300

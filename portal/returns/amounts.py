"""The bridge between stored returns and the pure refund calculation: what is still refundable
per payment, per order and per line, and the calculation inputs for a return. The shopper's
estimate and the refund prefilled for staff both come from refund_for_return()."""

from dataclasses import dataclass

from peewee import fn

from portal.models import Payment, Refund, Return, ReturnExtraLine, ReturnLine
from portal.returns.refund_calc import (
    PaymentRoom,
    RefundLine,
    RefundTerms,
    calculate_refund,
    withdrawal_terms,
)
from portal.returns.refund_states import HOLDS_MONEY


def _committed_query(order_id):
    return (
        Refund.select(Refund.payment, fn.SUM(Refund.amount).alias("total"))
        .join(Return)
        .where((Return.order == order_id) & Refund.status.in_(HOLDS_MONEY))
        .group_by(Refund.payment)
    )


def committed_by_payment(order, rows=None):
    """{payment_id: cents held by refunds that are not cancelled}; None key = store credit."""
    rows = _committed_query(order.id) if rows is None else rows
    return {row.payment_id: int(row.total or 0) for row in rows}


def payment_rooms(order, payments=None, committed=None):
    """Each payment's room for refunds (`payments`, `committed`: the order's payments and
    committed_by_payment(), when read already)."""
    committed = committed_by_payment(order) if committed is None else committed
    if payments is None:
        payments = Payment.select().where(Payment.order == order.id)
    return [
        PaymentRoom(p.id, p.method, p.position, p.amount - committed.get(p.id, 0)) for p in payments
    ]


def _captured_query(order_id):
    return Payment.select(fn.COALESCE(fn.SUM(Payment.amount), 0)).where(Payment.order == order_id)


def order_refundable(order, captured=None, committed=None):
    """Captured on the order minus every refund that holds money (store credit included)."""
    captured = _captured_query(order.id).scalar() if captured is None else captured
    return int(captured) - sum(committed_by_payment(order, committed).values())


def _shipping_query(order_id, exclude_rma_id=None):
    query = (
        Refund.select(Refund.breakdown)
        .join(Return)
        .where((Return.order == order_id) & Refund.status.in_(HOLDS_MONEY))
    )
    if exclude_rma_id is not None:
        query = query.where(Return.id != exclude_rma_id)
    return query


def shipping_refunded(order, exclude_rma_id=None, rows=None):
    """Original shipping is refunded at most once per order, across all its returns."""
    rows = _shipping_query(order.id, exclude_rma_id) if rows is None else rows
    return any((r.breakdown or {}).get("shipping", 0) > 0 for r in rows)


def _line_refunded_query(order_line_ids, exclude_rma_id=None):
    query = (
        ReturnLine.select(ReturnLine.order_line, fn.SUM(ReturnLine.refund_amount).alias("total"))
        .join(Return)
        .where(ReturnLine.order_line.in_(order_line_ids) & ReturnLine.refund_amount.is_null(False))
        .group_by(ReturnLine.order_line)
    )
    if exclude_rma_id is not None:
        query = query.where(Return.id != exclude_rma_id)
    return query


def line_refunded(order_line_ids, exclude_rma_id=None, rows=None):
    """{order_line_id: cents already set as refund on lines of other returns}."""
    if rows is None:
        rows = _line_refunded_query(list(order_line_ids), exclude_rma_id)
    return {row.order_line_id: int(row.total or 0) for row in rows}


@dataclass
class Known:
    """What refund_for_return() reads about the order, read beforehand (with other queries
    of a page, portal.prebuilt.rows_together): see known_queries()."""

    line_refunded: dict
    shipping_refunded: bool
    order_refundable: int
    committed: dict  # committed_by_payment()


def known_queries(rma_id, order_id):
    """(queries, scalars) whose answers known_from() turns into Known, for a return's order."""
    line_ids = ReturnLine.select(ReturnLine.order_line).where(ReturnLine.rma == rma_id)
    queries = [
        _line_refunded_query(line_ids, rma_id),
        _shipping_query(order_id, rma_id),
        _committed_query(order_id),
    ]
    return queries, [_captured_query(order_id)]


def known_from(rma, line_rows, shipping_rows, committed_rows, captured):
    return Known(
        line_refunded=line_refunded((), rows=line_rows),
        shipping_refunded=shipping_refunded(rma.order, rows=shipping_rows),
        order_refundable=order_refundable(rma.order, captured or 0, committed_rows),
        committed=committed_by_payment(rma.order, committed_rows),
    )


def pending_extras(rma_id):
    """The return's extra lines no refund has settled yet, oldest first."""
    if rma_id is None or rma_id < 0:  # an estimate for a return not written yet
        return []
    return list(
        ReturnExtraLine.select()
        .where((ReturnExtraLine.rma == rma_id) & ReturnExtraLine.refund_batch.is_null())
        .order_by(ReturnExtraLine.id)
    )


def terms_for(rma, order, refund_shipping=None, additional=0, cap=True, extra=0, known=None):
    """The refund terms of `rma`. A withdrawal's are the law's (withdrawal_terms): whatever
    `refund_shipping` says, its delivery share is refunded (once per order). `known`: what
    known_from() read beforehand (shipping already refunded, what the order can still refund)."""
    if known is None:
        shipping = shipping_refunded(order, exclude_rma_id=rma.id)
        refundable = order_refundable(order) if cap else None
    else:
        shipping, refundable = known.shipping_refunded, known.order_refundable if cap else None
    if rma.kind == "withdrawal":
        return withdrawal_terms(
            rma.withdrawal_shipping,
            rma.policy_return_shipping_fee,
            shipping_already_refunded=shipping,
            order_refundable=refundable,
            extra=extra,
            additional=additional,
        )
    return RefundTerms(
        restocking_fee_bps=rma.policy_restocking_fee_bps,
        return_shipping_fee=rma.policy_return_shipping_fee,
        return_shipping_free_merchant_fault=rma.policy_return_shipping_free_merchant_fault,
        shipping_total=order.shipping_total,
        shipping_already_refunded=shipping,
        refund_shipping=refund_shipping,
        additional=additional,
        extra=extra,
        order_refundable=refundable,
        exchange_restocking_fee=bool(rma.policy_exchange_restocking_fee),
        exchange_return_shipping=bool(rma.policy_exchange_return_shipping),
    )


def refund_lines(items, exclude_rma_id=None, already=None):
    """RefundLine inputs from (order_line, quantity, reason, override[, replacement]) tuples
    (replacement: an exchange line's replacement unit price with tax); `already`: what
    line_refunded() answers, when read beforehand."""
    items = [tuple(item) + (None,) * (5 - len(item)) for item in items]
    if already is None:
        already = line_refunded([ol.id for ol, *_ in items], exclude_rma_id)
    return [
        RefundLine(
            quantity=qty,
            unit_price=ol.unit_price,
            unit_tax=ol.unit_tax,
            merchant_fault=reason.merchant_fault,
            line_refundable=ol.quantity * ol.unit_total - already.get(ol.id, 0),
            override=override,
            replacement=replacement,
        )
        for ol, qty, reason, override, replacement in items
    ]


def replacement_totals(lines):
    """{line_id: its replacement's unit price with tax} for the exchange lines among `lines`
    (ReturnLines read by facts.lines_of, their Replacement joined as `swap`)."""
    return {ln.id: ln.swap.unit_total for ln in lines if getattr(ln, "swap", None) is not None}


def refund_items(lines, quantities, overrides=None, replacements=None):
    """The (order_line, quantity, reason, override, replacement) tuples of refund_lines()."""
    overrides = overrides or {}
    replacements = replacement_totals(lines) if replacements is None else replacements
    return [
        (ln.order_line, quantities.get(ln.id, 0), ln.reason, overrides.get(ln.id),
         replacements.get(ln.id))
        for ln in lines
    ]  # fmt: skip


def refund_for_return(rma, lines, quantities, overrides=None, refund_shipping=None,
                      additional=0, cap=True, extra=None, replacements=None,
                      known=None):  # fmt: skip
    """The breakdown for `lines` (ReturnLines of `rma`) with {line_id: units} to refund, and the
    return's extra lines not settled yet (or `extra` cents). Exchange lines refund only their
    replacement's difference (`replacements`: {line_id: unit price with tax}, read from the
    lines when not given).

    For the shopper's estimate pass the requested quantities; for staff, the accepted ones.
    `known`: the order's figures read beforehand (Known), else read here."""
    if extra is None:
        extra = sum(x.amount for x in pending_extras(rma.id))
    items = refund_items(lines, quantities, overrides, replacements)
    return calculate_refund(
        refund_lines(items, exclude_rma_id=rma.id, already=known.line_refunded if known else None),
        terms_for(rma, rma.order, refund_shipping, additional, cap, extra, known),
    )

"""How many units of each order line are already taken by returns (rule 1).

A return counts its requested units while it is open; once completed it counts only what was
received (units never received are released); cancelled and rejected returns count nothing."""

from peewee import Case, fn

from portal.models import Return, ReturnLine
from portal.returns.states import ACTIVE, COMPLETED, COUNTING, ON_HOLD

OPEN = (*ACTIVE, ON_HOLD)

COUNTED_UNITS = Case(
    None,
    [(Return.status == COMPLETED, ReturnLine.received_quantity)],
    ReturnLine.quantity,
)


def units_by_line(order_line_ids):
    """{order_line_id: (returned, in_a_return)}: units received back by returns that count, and
    units still on their way in open returns (requested, not received yet)."""
    ids = list(order_line_ids)
    if not ids:
        return {}
    open_units = Case(None, [(Return.status.in_(OPEN), ReturnLine.quantity)], 0)
    query = (
        ReturnLine.select(
            ReturnLine.order_line,
            fn.SUM(ReturnLine.received_quantity).alias("returned"),
            fn.SUM(
                open_units
                - Case(None, [(Return.status.in_(OPEN), ReturnLine.received_quantity)], 0)
            ).alias("on_way"),
        )  # fmt: skip
        .join(Return)
        .where(ReturnLine.order_line.in_(ids) & Return.status.in_(COUNTING))
        .group_by(ReturnLine.order_line)
    )
    return {row.order_line_id: (int(row.returned or 0), int(row.on_way or 0)) for row in query}


def taken_by_line(order_line_ids, exclude_rma_id=None):
    """{order_line_id: units taken by returns that count}."""
    ids = list(order_line_ids)
    if not ids:
        return {}
    query = (
        ReturnLine.select(ReturnLine.order_line, fn.SUM(COUNTED_UNITS).alias("taken"))
        .join(Return)
        .where(ReturnLine.order_line.in_(ids) & Return.status.in_(COUNTING))
        .group_by(ReturnLine.order_line)
    )
    if exclude_rma_id is not None:
        query = query.where(Return.id != exclude_rma_id)
    return {row.order_line_id: int(row.taken or 0) for row in query}

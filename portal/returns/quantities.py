"""How many units of each order line are already taken by returns (rule 1).

A return counts its requested units while it is open; once completed it counts only what was
received (units never received are released); cancelled and rejected returns count nothing."""

from peewee import Case, fn

from portal.models import Return, ReturnLine
from portal.returns.states import COMPLETED, COUNTING

COUNTED_UNITS = Case(
    None,
    [(Return.status == COMPLETED, ReturnLine.received_quantity)],
    ReturnLine.quantity,
)


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

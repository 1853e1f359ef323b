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


def units_by_line(order_line_ids, rows=None):
    """{order_line_id: (returned, in_a_return)}: units received back by returns that count, and
    units still on their way in open returns (requested, not received yet). `rows`: those of
    units_query(), when read already."""
    if rows is None:
        ids = list(order_line_ids)
        if not ids:
            return {}
        rows = units_query(ids)
    return {row.order_line_id: (int(row.returned or 0), int(row.on_way or 0)) for row in rows}


def units_query(order_line_ids):
    """The query of units_by_line() (`order_line_ids`: a list or a subquery)."""
    open_units = Case(None, [(Return.status.in_(OPEN), ReturnLine.quantity)], 0)
    return (
        ReturnLine.select(
            ReturnLine.order_line,
            fn.SUM(ReturnLine.received_quantity).alias("returned"),
            fn.SUM(
                open_units
                - Case(None, [(Return.status.in_(OPEN), ReturnLine.received_quantity)], 0)
            ).alias("on_way"),
        )  # fmt: skip
        .join(Return)
        .where(ReturnLine.order_line.in_(order_line_ids) & Return.status.in_(COUNTING))
        .group_by(ReturnLine.order_line)
    )


def taken_query(order_line_ids, exclude_rma_id=None):
    """The query of taken_by_line() (`order_line_ids`: a list or a subquery)."""
    query = (
        ReturnLine.select(ReturnLine.order_line, fn.SUM(COUNTED_UNITS).alias("taken"))
        .join(Return)
        .where(ReturnLine.order_line.in_(order_line_ids) & Return.status.in_(COUNTING))
        .group_by(ReturnLine.order_line)
    )
    if exclude_rma_id is not None:
        query = query.where(Return.id != exclude_rma_id)
    return query


def taken_by_line(order_line_ids, exclude_rma_id=None, rows=None):
    """{order_line_id: units taken by returns that count} (`rows`: taken_query()'s, if read)."""
    if rows is None:
        ids = list(order_line_ids)
        if not ids:
            return {}
        rows = taken_query(ids, exclude_rma_id)
    return {row.order_line_id: int(row.taken or 0) for row in rows}

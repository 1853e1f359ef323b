"""Actions on several returns at once from the queue: approve (managers), assign, and the rows
of an export. Each return changes in its own transaction through the same domain function as
on its page, so one refusal never holds up the others; the outcome says which did what."""

from dataclasses import dataclass

from portal.models import Order, Refund, Return, ReturnLine
from portal.returns import refund_states, review
from portal.returns.errors import DomainError
from portal.returns.transitions import require_staff

MAX_SELECTED = 200


@dataclass
class Outcome:
    done: list  # references changed
    refused: list  # (reference, why)


def _selected(ids):
    ids = [int(i) for i in ids or [] if str(i).isdigit()][:MAX_SELECTED]
    if not ids:
        raise DomainError("Select at least one return first.")
    found = list(Return.select().where(Return.id.in_(ids)).order_by(Return.created_at))
    if not found:
        raise DomainError("None of the selected returns exist any more.")
    return found


def _each(ids, act):
    outcome = Outcome([], [])
    for rma in _selected(ids):
        try:
            act(rma)
        except DomainError as exc:
            outcome.refused.append((rma.reference, str(exc)))
        else:
            outcome.done.append(rma.reference)
    return outcome


def approve(ids, actor):
    require_staff(actor, "manager", "Only managers can approve returns.")
    return _each(ids, lambda rma: review.approve(rma, actor))


def assign(ids, actor, user_id):
    require_staff(actor)
    return _each(ids, lambda rma: review.assign_responsible(rma, actor, user_id))


EXPORT_HEADER = ("reference", "order", "email", "status", "requested_at", "units", "received",
                 "refund_cents", "refund_kind", "currency")  # fmt: skip


def export_rows(ids):
    """The selected returns as CSV rows (the header first)."""
    rows = _selected(ids)
    by_id = {rma.id: rma for rma in rows}
    units = {rma_id: [0, 0] for rma_id in by_id}
    for rma_id, qty, received in (
        ReturnLine.select(ReturnLine.rma, ReturnLine.quantity, ReturnLine.received_quantity)
        .where(ReturnLine.rma.in_(list(by_id)))
        .tuples()
    ):
        units[rma_id][0] += qty
        units[rma_id][1] += received
    refunded = {}
    for rma_id, amount in (
        Refund.select(Refund.rma, Refund.amount)
        .where(Refund.rma.in_(list(by_id)) & (Refund.status != refund_states.CANCELLED))
        .tuples()
    ):
        refunded[rma_id] = refunded.get(rma_id, 0) + amount
    numbers = dict(
        Order.select(Order.id, Order.number)
        .where(Order.id.in_([rma.order_id for rma in rows]))
        .tuples()
    )
    yield EXPORT_HEADER
    for rma in rows:
        amount = refunded.get(rma.id)
        kind = "actual" if amount is not None else "estimated"
        if amount is None:
            amount = rma.estimated_refund
        yield (rma.reference, numbers.get(rma.order_id, ""), rma.email, rma.status,
               rma.created_at.isoformat(), *units[rma.id], "" if amount is None else amount, kind,
               rma.currency)  # fmt: skip

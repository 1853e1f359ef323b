"""Actions on several returns at once from the queue: approve (managers), assign, and the rows
of an export. Each return changes in its own transaction through the same domain function as
on its page, so one refusal never holds up the others; the outcome says which did what."""

from dataclasses import dataclass

from portal.models import Return
from portal.returns import review
from portal.returns.errors import DomainError
from portal.returns.exports import EXPORT_HEADER, export_values
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


def export_rows(ids):
    """The selected returns as CSV rows (the header first)."""
    yield EXPORT_HEADER
    yield from export_values(_selected(ids))

"""Changing a return: the one place that writes its status and version.

Every change re-reads the return inside the caller's transaction (load(): SELECT ... FOR UPDATE
on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), checks the version the caller
saw, applies a compare-and-set on status + version (bumping the version) and writes its
ReturnEvent, in that same transaction:

- transition(): a status change, its next status taken from the state table (states.py);
- change(): a change that keeps the status (assign, note, inspect, restock, refund prepared);
- touch(): the version bump alone, for a change whose event another life writes (a refund's).

The checks every staff action starts with (who may act, whether the return may still change)
live here too. Refusals are DomainErrors whose message can be shown as is.
"""

from portal.db import locked
from portal.models import Return, now
from portal.returns import states, timeline, webhook_events
from portal.returns.errors import Conflict, InvalidTransition, NotAllowed, NotFound
from portal.returns.states import COMPLETED, ON_HOLD, PARTIALLY_RECEIVED, RECEIVED

STALE = (
    "Someone else changed this return a moment ago. The page now shows its latest state: "
    "check it and try again."
)
LOCKED = "This return is completed and locked: nothing on it can change."
LINE_WORK = (PARTIALLY_RECEIVED, RECEIVED)  # where inspect, restock and refund happen

# The timeline event of each status change.
EVENT_KINDS = {
    "approve": "approved",
    "reject": "rejected",
    "cancel": "cancelled",
    "expire": "expired",
    "receive": "received",
    "finish": "completed",
    "hold": "on_hold",
    "resume": "resumed",
}


def load(rma):
    """The return, re-read inside the caller's transaction (locked on PostgreSQL)."""
    rma_id = getattr(rma, "id", rma)
    current = locked(Return.select().where(Return.id == rma_id)).first()
    if current is None:
        raise NotFound("That return doesn't exist.")
    return current


def check_version(current, version):
    """Refuse when the caller acted on an older version of the return than the stored one."""
    if version in (None, ""):
        return
    try:
        seen = int(version)
    except (TypeError, ValueError):
        raise Conflict(STALE) from None
    if seen != current.version:
        raise Conflict(STALE)


def touch(current, at=None, **changes):
    """Compare-and-set on status + version; bumps the version. Updates `current` in place."""
    changes["updated_at"] = at or now()
    rows = (
        Return.update(version=Return.version + 1, **changes)
        .where(
            (Return.id == current.id)
            & (Return.status == current.status)
            & (Return.version == current.version)
        )
        .execute()
    )
    if rows != 1:
        raise Conflict(STALE)
    for name, value in changes.items():
        setattr(current, name, value)
    current.version += 1
    return current


def change(current, kind, actor=None, internal=False, changes=None, at=None, **payload):
    """A change that keeps the status: the version bump and its event `kind`."""
    touch(current, at, **(changes or {}))
    return timeline.record(current, kind, actor, internal=internal, **payload)


def transition(current, event, actor=None, changes=None, fully_received=False, at=None,
               **payload):  # fmt: skip
    """Move `current` by `event`: the next status from the state table, the compare-and-set,
    and the event (EVENT_KINDS) with `payload`. Hold remembers the state to resume to."""
    target = states.next_status(current.status, event, held_from=current.held_from,
                                fully_received=fully_received)  # fmt: skip
    changes = dict(changes or {})
    if event == "hold":
        changes["held_from"] = current.status
    elif event == "resume":
        changes["held_from"] = None
    touch(current, at, status=target, **changes)
    recorded = timeline.record(current, EVENT_KINDS[event], actor, **payload)
    webhook_events.return_changed(current, recorded)  # its webhooks, in this transaction
    return current


# --- the checks before a change ---------------------------------------------------------------


def require_staff(actor, minimum="agent", message=None):
    if actor is None or not actor.is_staff or not actor.active or not actor.has_role(minimum):
        raise NotAllowed(message or "Only staff can change returns.")


def ensure_editable(current, policy):
    if current.status == COMPLETED and not policy.allow_edit_completed:
        raise InvalidTransition(LOCKED)


def ensure_line_work(current, policy, verb):
    """Inspect, restock and refund happen once something arrived (or on editable completed ones)."""
    ensure_editable(current, policy)
    if current.status == ON_HOLD:
        raise InvalidTransition(f"This return is on hold; resume it before you {verb}.")
    if current.status in LINE_WORK or current.status == COMPLETED:
        return
    label = states.LABELS[current.status].lower()
    if current.status in (states.REQUESTED, states.APPROVED):
        raise InvalidTransition(
            f"Nothing has been received on this return yet, so you can't {verb}."
        )
    raise InvalidTransition(f"You can't {verb} on a return that is {label}.")

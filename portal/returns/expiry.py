"""Approved returns whose parcel never arrived: a reminder halfway, then cancellation.

The deadline is the store's `expire_unshipped_days` counted from approval (0 turns it off).
Each return changes in its own transaction, with its event and its email in the outbox, so one
bad row never holds up the others and a run that dies half-way is simply repeated next time.
"""

import datetime

from portal.db import db, locked
from portal.models import OutboxMessage, Return, ReturnPolicy, now
from portal.outbox.messages import enqueue_email
from portal.returns import states, timeline
from portal.returns.transitions import transition


def _days():
    return ReturnPolicy.current().expire_unshipped_days


def reminder_key(rma_id):
    return f"return:{rma_id}:email:return_reminder"


def deadline(rma, days):
    return rma.approved_at + datetime.timedelta(days=days)


def expire_unshipped(at=None, limit=500):
    """Cancel approved returns approved more than the policy's days ago. Returns references."""
    at, days = at or now(), _days()
    if days <= 0:
        return []
    cutoff = at - datetime.timedelta(days=days)
    ids = [
        r.id
        for r in Return.select(Return.id)
        .where((Return.status == states.APPROVED) & (Return.approved_at <= cutoff))
        .order_by(Return.approved_at)
        .limit(limit)
    ]
    return [ref for ref in (expire_one(rma_id, at, days) for rma_id in ids) if ref]


def expire_one(rma_id, at, days):
    """Cancel one return if it is still approved and past its deadline; its reference or None."""
    with db.atomic():
        rma = locked(Return.select().where(Return.id == rma_id)).first()
        if rma is None or rma.status != states.APPROVED or rma.approved_at is None:
            return None
        if deadline(rma, days) > at:
            return None
        transition(rma, "expire", None, at=at, days=days, approved_at=rma.approved_at.isoformat())
        enqueue_email("return_expired", rma.email, f"return:{rma.id}:email:return_expired",
                      rma=rma, context={"days": days})  # fmt: skip
    return rma.reference


def send_reminders(at=None, limit=500):
    """Remind shoppers halfway to the deadline, once per return. Returns references."""
    at, days = at or now(), _days()
    if days <= 0:
        return []
    halfway = at - datetime.timedelta(days=days / 2)
    expired = at - datetime.timedelta(days=days)
    candidates = list(
        Return.select(Return.id)
        .where(
            (Return.status == states.APPROVED)
            & (Return.approved_at <= halfway)
            & (Return.approved_at > expired)
        )
        .order_by(Return.approved_at)
        .limit(limit)
    )
    keys = {reminder_key(r.id): r.id for r in candidates}
    sent = {
        m.dedupe_key
        for m in OutboxMessage.select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(list(keys))
        )
    }
    return [
        ref
        for ref in (remind_one(rma_id, at, days) for key, rma_id in keys.items() if key not in sent)
        if ref
    ]


def remind_one(rma_id, at, days):
    with db.atomic():
        rma = locked(Return.select().where(Return.id == rma_id)).first()
        if rma is None or rma.status != states.APPROVED or rma.approved_at is None:
            return None
        key = reminder_key(rma.id)
        if OutboxMessage.select().where(OutboxMessage.dedupe_key == key).exists():
            return None
        ends = deadline(rma, days)
        enqueue_email("return_reminder", rma.email, key, rma=rma, context={
            "days": days,
            "days_left": max((ends - at).days, 0),
            "deadline": ends.strftime("%d %b %Y"),
        })  # fmt: skip
        timeline.record(rma, "reminder_sent", internal=True, deadline=ends.date().isoformat())
    return rma.reference

"""Approved returns whose parcel never arrived: a reminder halfway, then cancellation.

Each return keeps the date it was told to reach the store by (`target_date`, set at approval
from the store's `expire_unshipped_days`; none when that was 0, and then it never expires).
That date, not today's setting, is its deadline: it is cancelled once the day after it begins
in the store's time zone, and reminded halfway between its approval and that moment.

Each return changes in its own transaction, with its event and its email in the outbox, so one
bad row never holds up the others and a run that dies half-way is simply repeated next time.
"""

import datetime

from portal.db import db, locked
from portal.models import OutboxMessage, Return, ReturnPolicy, now
from portal.outbox.messages import enqueue_email
from portal.returns import exchanges, states, timeline
from portal.returns.eligibility import store_date, zone
from portal.returns.transitions import transition

CHUNK = 1000  # approved returns read at a time when looking for reminders


def reminder_key(rma_id):
    return f"return:{rma_id}:email:return_reminder"


def deadline(rma, timezone="UTC"):
    """The moment the return expires (naive UTC): the start of the day after its target date
    in the store's time zone. None when it has no target date."""
    if rma.target_date is None:
        return None
    day_after = rma.target_date + datetime.timedelta(days=1)
    start = datetime.datetime.combine(day_after, datetime.time(), tzinfo=zone(timezone))
    return start.astimezone(datetime.UTC).replace(tzinfo=None)


def _approved():
    return (
        (Return.status == states.APPROVED)
        & Return.target_date.is_null(False)
        & Return.approved_at.is_null(False)
    )


def expire_unshipped(at=None, limit=500):
    """Cancel approved returns past their target date. Returns their references."""
    at = at or now()
    timezone = ReturnPolicy.current().timezone
    ids = [
        r.id
        for r in Return.select(Return.id)
        .where(_approved() & (Return.target_date < store_date(at, timezone)))
        .order_by(Return.target_date, Return.id)
        .limit(limit)
    ]
    return [ref for ref in (expire_one(rma_id, at, timezone) for rma_id in ids) if ref]


def expire_one(rma_id, at, timezone="UTC"):
    """Cancel one return if it is still approved and past its deadline; its reference or None."""
    with db.atomic():
        rma = locked(Return.select().where(Return.id == rma_id)).first()
        if rma is None or rma.status != states.APPROVED or rma.approved_at is None:
            return None
        ends = deadline(rma, timezone)
        if ends is None or ends > at:
            return None
        days = (rma.target_date - rma.approved_at.date()).days
        transition(rma, "expire", None, at=at, days=days, approved_at=rma.approved_at.isoformat(),
                   target_date=rma.target_date.isoformat())  # fmt: skip
        exchanges.release(rma, None, "the parcel did not arrive in time")
        enqueue_email("return_expired", rma.email, f"return:{rma.id}:email:return_expired",
                      rma=rma, context={"days": days})  # fmt: skip
    return rma.reference


def _halfway(rma, ends):
    return rma.approved_at + (ends - rma.approved_at) / 2


def send_reminders(at=None, limit=500):
    """Remind shoppers halfway to their deadline, once per return. Returns references."""
    at = at or now()
    timezone = ReturnPolicy.current().timezone
    due = []
    query = (
        Return.select(Return.id, Return.approved_at, Return.target_date)
        .where(_approved() & (Return.target_date >= store_date(at, timezone)))
        .order_by(Return.target_date, Return.id)
    )
    for rma in query.iterator():
        ends = deadline(rma, timezone)
        if _halfway(rma, ends) <= at < ends:
            due.append(rma.id)
        if len(due) >= CHUNK:
            break
    keys = {reminder_key(rma_id): rma_id for rma_id in due}
    sent = {
        m.dedupe_key
        for m in OutboxMessage.select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(list(keys))
        )
    }
    todo = [rma_id for key, rma_id in keys.items() if key not in sent][:limit]
    return [ref for ref in (remind_one(rma_id, at, timezone) for rma_id in todo) if ref]


def remind_one(rma_id, at, timezone="UTC"):
    with db.atomic():
        rma = locked(Return.select().where(Return.id == rma_id)).first()
        if rma is None or rma.status != states.APPROVED or rma.approved_at is None:
            return None
        ends = deadline(rma, timezone)
        if ends is None or not _halfway(rma, ends) <= at < ends:
            return None
        key = reminder_key(rma.id)
        if OutboxMessage.select().where(OutboxMessage.dedupe_key == key).exists():
            return None
        enqueue_email("return_reminder", rma.email, key, rma=rma, context={
            "days": (rma.target_date - rma.approved_at.date()).days,
            "days_left": (rma.target_date - store_date(at, timezone)).days,
            "deadline": rma.target_date.strftime("%d %b %Y"),
        })  # fmt: skip
        timeline.record(rma, "reminder_sent", internal=True,
                        deadline=rma.target_date.isoformat())  # fmt: skip
    return rma.reference

"""Carrying out outbox messages (worker side): claim, run the handler, record the outcome.

A message is claimed with a compare-and-set that pushes `available_at` forward by a lease, so a
message published twice (commit hook and sweeper) is worked on once; a worker killed mid-way
leaves the lease to expire and the sweeper publishes the message again."""

import datetime
import logging
import random

from portal.db import db
from portal.models import OutboxMessage, now

log = logging.getLogger(__name__)

LEASE = datetime.timedelta(seconds=60)
SWEEP_GRACE = datetime.timedelta(seconds=10)
MAX_ATTEMPTS = 8
HANDLERS = {}


class RetryLater(Exception):
    """A transient failure: try the message again after a backoff."""


class GiveUp(Exception):
    """A permanent failure: retrying can't help; staff must look at it."""


def handler(kind):
    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


def backoff(attempts):
    """Exponential backoff with jitter: ~2s, 4s, 8s ... capped at 10 minutes."""
    base = min(2**attempts, 600)
    return base / 2 + random.uniform(0, base / 2)


def claim(message_id):
    """Take the message for this worker, or None if it is done, failed or claimed elsewhere."""
    current = now()
    with db.atomic():
        claimed = (
            OutboxMessage.update(available_at=current + LEASE, attempts=OutboxMessage.attempts + 1)
            .where(
                (OutboxMessage.id == message_id)
                & (OutboxMessage.status == "pending")
                & (OutboxMessage.available_at <= current)
            )
            .execute()
        )
    return OutboxMessage.get_by_id(message_id) if claimed else None


def deliver(message_id):
    """Run one message's handler. Returns its outcome as a word, for logs and tests."""
    message = claim(message_id)
    if message is None:
        return "skipped"
    run = HANDLERS.get(message.kind)
    try:
        if run is None:
            raise GiveUp(f"no handler for {message.kind!r} messages")
        run(message)
    except RetryLater as exc:
        return _reschedule(message, str(exc))
    except GiveUp as exc:
        _mark(message, "failed", str(exc))
        log.error("outbox %s (%s, return %s) failed: %s", message.id, message.kind,
                  message.rma_id, exc)  # fmt: skip
        return "failed"
    _mark(message, "sent")
    log.info("outbox %s (%s, return %s) done", message.id, message.kind, message.rma_id)
    return "sent"


def _reschedule(message, error):
    if message.attempts >= MAX_ATTEMPTS:
        _mark(message, "failed", error)
        log.error("outbox %s (%s, return %s) gave up after %s attempts: %s",
                  message.id, message.kind, message.rma_id, message.attempts, error)  # fmt: skip
        return "failed"
    delay = datetime.timedelta(seconds=backoff(message.attempts))
    OutboxMessage.update(available_at=now() + delay, last_error=error).where(
        OutboxMessage.id == message.id
    ).execute()
    log.warning("outbox %s (%s, return %s) attempt %s failed, retry in %ss: %s", message.id,
                message.kind, message.rma_id, message.attempts, delay.seconds, error)  # fmt: skip
    return "retry"


def _mark(message, status, error=""):
    values = {"status": status, "last_error": error}
    if status == "sent":
        values["sent_at"] = now()
    OutboxMessage.update(**values).where(OutboxMessage.id == message.id).execute()


def sweep(limit=500):
    """Publish pending messages that are due and older than a short grace period."""
    from portal.outbox import publish

    due = now() - SWEEP_GRACE
    ids = [
        m.id
        for m in OutboxMessage.select(OutboxMessage.id)
        .where((OutboxMessage.status == "pending") & (OutboxMessage.available_at <= due))
        .order_by(OutboxMessage.available_at)
        .limit(limit)
    ]
    published = sum(1 for message_id in ids if publish(message_id))
    return published


def retry(message_id):
    """Staff retry of a failed message: back to pending, due now."""
    with db.atomic():
        return (
            OutboxMessage.update(status="pending", available_at=now(), last_error="", attempts=0)
            .where((OutboxMessage.id == message_id) & (OutboxMessage.status == "failed"))
            .execute()
        )


@handler("email")
def send_email(message):
    from portal import mail
    from portal.models import Return

    payload = message.payload
    context = dict(payload.get("context") or {})
    if payload.get("rma_id"):
        context["rma"] = Return.get_or_none(Return.id == payload["rma_id"])
    subject, text, html = mail.render(payload["template"], **context)
    msg = mail.build(payload["to"], subject, text, html,
                     message_id=f"<outbox-{message.id}@returns.portal>")  # fmt: skip
    try:
        mail.send(msg)
    except mail.MailError as exc:
        raise (GiveUp if exc.permanent else RetryLater)(str(exc)) from exc

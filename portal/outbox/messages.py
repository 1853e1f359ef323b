"""Writing outbox messages: a row in the same transaction as the change that causes it, then
published to Celery after commit. If Redis is down at that moment the row stays pending and the
beat sweeper (tasks.outbox.sweep) publishes it later."""

import contextvars
import logging
from contextlib import contextmanager
from functools import partial

from celery import current_app as current_celery

from portal.db import db
from portal.models import OutboxMessage, now
from portal.prebuilt import prebuilt_create, prebuilt_rows

log = logging.getLogger(__name__)

DELIVER_TASK = "tasks.outbox.deliver"

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
SUPERSEDED = "superseded"  # a failed refund message replaced by a manager's retry (a fresh one)
STATUSES = (PENDING, SENT, FAILED, SUPERSEDED)


def enqueue(kind, payload, dedupe_key, rma=None):
    """Write an outbox row (inside the caller's transaction); publish it after commit.

    A second enqueue with the same dedupe key is a no-op and returns the existing row.
    (Both statements built once per process: every refund, email and webhook comes here.)"""
    existing = prebuilt_rows("outbox-by-dedupe-key", _by_dedupe_key, key=dedupe_key)
    if existing:
        return existing[0]
    message = prebuilt_create(OutboxMessage, kind=kind, payload=payload, dedupe_key=dedupe_key,
                              rma=rma, status=PENDING)  # fmt: skip
    db.after_commit(partial(_committed, message.id, kind))
    return message


# The messages committed while a worker carries out an outbox message (delivery.deliver holds
# them, see holding()): those of the kinds it holds are left to it, to deliver itself once its
# own message is done, instead of going through Celery.
_held = contextvars.ContextVar("outbox_held", default=None)


@contextmanager
def holding(kinds):
    """While the block runs, the messages of `kinds` committed in this thread are not published
    but collected in the list this yields (their rows are written and pending like any other:
    whoever holds them must deliver or publish each)."""
    held = []
    token = _held.set((frozenset(kinds), held))
    try:
        yield held
    finally:
        _held.reset(token)


def _committed(message_id, kind):
    holder = _held.get()
    if holder is not None and kind in holder[0]:
        holder[1].append(message_id)
        return True
    return publish(message_id)


def _by_dedupe_key(key):
    return OutboxMessage.select().where(OutboxMessage.dedupe_key == key).limit(1)


# (email address, language) of the person whose request this is, set by the web layer: an email
# to that address is written in that language (a guest has no account to keep one).
requester_locale = contextvars.ContextVar("requester_locale", default=None)


def enqueue_email(template, to, dedupe_key, rma=None, context=None, locale=None):
    """An email rendered from templates/emails/<template>.{txt,html} by the worker; `locale`:
    the language the recipient asked in (a guest), when no account says otherwise."""
    payload = {"template": template, "to": to, "context": context or {}}
    requester = requester_locale.get()
    if requester and to and requester[0] == to.strip().lower():
        payload["locale"] = requester[1]
    elif locale:
        payload["locale"] = locale
    if rma is not None:
        payload["rma_id"] = rma.id
    return enqueue("email", payload, dedupe_key, rma=rma)


def publish(message_id, countdown=None):
    """Hand a message to Celery. Never raises and never blocks long (the broker settings in
    portal.celery_app fail fast): a failure leaves the row for the sweeper."""
    try:
        current_celery.send_task(DELIVER_TASK, args=[message_id], countdown=countdown,
                              retry=False, ignore_result=True)  # fmt: skip
        return True
    except Exception as exc:  # broker down, DNS, timeouts: the sweeper will retry
        log.warning("outbox %s not published (%s); the sweeper will retry", message_id, exc)
        return False


def supersede_failed(kind, dedupe_prefix):
    """Mark the failed messages of `kind` whose dedupe key starts with `dedupe_prefix` as
    superseded (a fresh message carries the work now). Returns how many messages of that key
    there were, failed or not, so the caller can give the fresh one a key of its own."""
    tries = list(
        OutboxMessage.select(OutboxMessage.id, OutboxMessage.status).where(
            (OutboxMessage.kind == kind) & OutboxMessage.dedupe_key.startswith(dedupe_prefix)
        )
    )
    failed = [m.id for m in tries if m.status == FAILED]
    if failed:
        OutboxMessage.update(status=SUPERSEDED).where(OutboxMessage.id.in_(failed)).execute()
    return len(tries)


def oldest_pending_seconds():
    """Age in whole seconds of the oldest pending message; 0 when none is waiting (work that
    waits: a growing age means the workers or Redis are not keeping up)."""
    oldest = (
        OutboxMessage.select(OutboxMessage.created_at)
        .where(OutboxMessage.status == PENDING)
        .order_by(OutboxMessage.created_at)
        .first()
    )
    return 0 if oldest is None else max(int((now() - oldest.created_at).total_seconds()), 0)

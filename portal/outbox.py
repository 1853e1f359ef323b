"""The transactional outbox: background work is written as rows in the same transaction as the
change that causes it, then published to Celery after commit. If Redis is down at that moment
the row stays pending and the beat sweeper (tasks.outbox.sweep) publishes it later."""

import logging
from functools import partial

from portal.db import db
from portal.models import OutboxMessage

log = logging.getLogger(__name__)

DELIVER_TASK = "tasks.outbox.deliver"


def enqueue(kind, payload, dedupe_key, rma=None):
    """Write an outbox row (inside the caller's transaction); publish it after commit.

    A second enqueue with the same dedupe key is a no-op and returns the existing row."""
    existing = OutboxMessage.get_or_none(OutboxMessage.dedupe_key == dedupe_key)
    if existing is not None:
        return existing
    message = OutboxMessage.create(kind=kind, payload=payload, dedupe_key=dedupe_key, rma=rma)
    db.after_commit(partial(publish, message.id))
    return message


def enqueue_email(template, to, dedupe_key, rma=None, context=None):
    """An email rendered from templates/emails/<template>.{txt,html} by the worker."""
    payload = {"template": template, "to": to, "context": context or {}}
    if rma is not None:
        payload["rma_id"] = rma.id
    return enqueue("email", payload, dedupe_key, rma=rma)


def publish(message_id, countdown=None):
    """Hand a message to Celery. Never raises and never blocks long (the broker settings in
    portal.celery_app fail fast): a failure leaves the row for the sweeper."""
    from celery import current_app

    try:
        current_app.send_task(DELIVER_TASK, args=[message_id], countdown=countdown,
                              retry=False, ignore_result=True)  # fmt: skip
        return True
    except Exception as exc:  # broker down, DNS, timeouts: the sweeper will retry
        log.warning("outbox %s not published (%s); the sweeper will retry", message_id, exc)
        return False

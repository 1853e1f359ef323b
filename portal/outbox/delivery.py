"""Carrying out outbox messages (worker side): claim, run the handler, record the outcome.

A message is claimed with a compare-and-set that pushes `available_at` forward by a lease, so a
message published twice (commit hook and sweeper) is worked on once. The worker renews the
lease while the handler runs; a worker killed mid-way stops renewing, the lease runs out and
the sweeper publishes the message again.

What each kind of message does is in handlers.HANDLERS. A handler raises RetryLater for a
transient failure (retried with exponential backoff and jitter) or GiveUp for a permanent one;
after OUTBOX_MAX_ATTEMPTS transient failures the message is failed too. A handler's `on_failure`
runs in the transaction that marks the message failed, so the domain row behind it (a refund)
fails with it; its `on_retry` replaces the plain reset when staff retry a message of that kind.

Every function takes the app's config (a mapping with the OUTBOX_* settings of portal.config,
and whatever the handlers need): the caller, a Celery task or a view, passes it in.
"""

import datetime
import logging
import random

from peewee import JOIN, OperationalError

from portal.db import db, renewing
from portal.models import OutboxMessage, Return, now
from portal.outbox.errors import GiveUp, RetryLater
from portal.outbox.handlers import HANDLERS
from portal.outbox.messages import FAILED, PENDING, SENT, holding, publish
from portal.prebuilt import prebuilt_models, prebuilt_set, prebuilt_update

log = logging.getLogger(__name__)


def backoff(attempts, config):
    """Exponential backoff with jitter: base, 2x base, 4x base ... capped, then a random half
    of it on top of the other half (so workers retrying together spread out)."""
    base = float(config["OUTBOX_BACKOFF_BASE"])
    delay = min(base * 2 ** max(attempts - 1, 0), float(config["OUTBOX_BACKOFF_MAX"]))
    return delay / 2 + random.uniform(0, delay / 2)


def describe(message):
    """How log lines name a message: its id, kind and the return it is about."""
    reference = getattr(message, "rma_reference", None)
    if reference is None and message.rma_id:
        rma = Return.select(Return.reference).where(Return.id == message.rma_id).first()
        reference = rma.reference if rma else message.rma_id
    about = f", return {reference}" if reference else ""
    return f"outbox {message.id} ({message.kind}{about})"


def _lease(config):
    return float(config["OUTBOX_LEASE_SECONDS"])


def _renew(message, config):
    """Push our claim's lease forward while the handler runs (a slow gateway or mail server):
    the sweeper re-publishes a message only once its worker has stopped renewing, i.e. died.
    False when the claim is no longer ours (another worker claimed it: attempts moved on)."""
    renewed = (
        OutboxMessage.update(available_at=now() + datetime.timedelta(seconds=_lease(config)))
        .where(
            (OutboxMessage.id == message.id)
            & (OutboxMessage.status == PENDING)
            & (OutboxMessage.attempts == message.attempts)
        )
        .execute()
    )
    return bool(renewed)


def _claiming(message_id, until, current):
    return OutboxMessage.update(available_at=until, attempts=OutboxMessage.attempts + 1).where(
        (OutboxMessage.id == message_id)
        & (OutboxMessage.status == PENDING)
        & (OutboxMessage.available_at <= current)
    )


def _claimed(message_id):
    return (
        OutboxMessage.select(OutboxMessage, Return.reference.alias("rma_reference"))
        .join(Return, JOIN.LEFT_OUTER, on=(OutboxMessage.rma == Return.id))
        .where(OutboxMessage.id == message_id)
        .limit(1)
        .objects()
    )


def claim(message_id, config):
    """Take the message for this worker, or None if it is done, failed or claimed elsewhere.

    The claim is one compare-and-set UPDATE, committed on its own (a single statement
    outside a transaction is one: no BEGIN and COMMIT around it); both statements are built
    once per process (every message comes here)."""
    current = now()
    lease = datetime.timedelta(seconds=_lease(config))
    claimed = prebuilt_update("outbox-claim", _claiming, message_id=message_id,
                              until=OutboxMessage.available_at.db_value(current + lease),
                              current=OutboxMessage.available_at.db_value(current))  # fmt: skip
    if not claimed:
        return None
    found = prebuilt_models("outbox-claimed", _claimed, message_id=message_id)
    if not found:
        raise OutboxMessage.DoesNotExist(f"outbox {message_id} is gone")
    return found[0]


BUSY_DELAY = 1.0  # seconds before a message whose claim found the database busy is tried again


# Messages a handler's change writes that the same worker delivers right after the handler's
# own message is done, instead of publishing them to Celery: a refund's email to the shopper (a
# task through the broker cost about as much of the worker's time as the email itself).
INLINE_KINDS = ("email",)


def deliver(message_id, config):
    """Run one message's handler (deliver_one), then deliver the emails its change wrote (held
    from Celery while it ran: INLINE_KINDS), each claimed like any other message; one that
    cannot even be tried here is published instead. Returns the outcome of `message_id`."""
    with holding(INLINE_KINDS) as held:
        try:
            outcome = deliver_one(message_id, config)
        except BaseException:
            for held_id in held:
                publish(held_id)
            raise
    for n, held_id in enumerate(held):
        try:
            deliver(held_id, config)
        except Exception:  # the database went away: the rest go through Celery
            log.exception("outbox %s: not delivered here; publishing it", held_id)
            for left in held[n:]:
                publish(left)
            break
    return outcome


def deliver_one(message_id, config):
    """Run one message's handler. Returns its outcome as a word, for logs and tests.

    A claim that cannot even be made (SQLite's write lock held past its busy timeout by a
    loaded machine, PostgreSQL unreachable) changes nothing: the task is published again
    after a short, jittered delay instead of ending with an error, which would leave the
    message to the sweeper (and to nothing at all where no beat runs, as in the bench)."""
    try:
        message = claim(message_id, config)
    except OperationalError as exc:
        delay = BUSY_DELAY / 2 + random.uniform(0, BUSY_DELAY)
        log.warning("outbox %s not claimed, the database is busy (%s): again in %.1fs",
                    message_id, exc, delay)  # fmt: skip
        publish(message_id, countdown=delay)
        return "busy"
    if message is None:
        return "skipped"
    entry = HANDLERS.get(message.kind)
    try:
        if entry is None:
            raise GiveUp(f"no handler for {message.kind!r} messages")
        with renewing(lambda: _renew(message, config), _lease(config) / 3,
                      name=f"outbox-{message.id}-lease"):  # fmt: skip
            entry.run(message, config)
    except RetryLater as exc:
        return _reschedule(message, exc, config)
    except GiveUp as exc:
        _fail(message, str(exc), config)
        log.error("%s failed: %s", describe(message), exc)
        return "failed"
    except Exception as exc:  # a bug or a database hiccup: retry with backoff, then fail
        log.exception("%s raised", describe(message))
        return _reschedule(message, RetryLater(f"{exc.__class__.__name__}: {exc}"), config)
    _mark(message, SENT)
    log.info("%s done", describe(message))
    return "sent"


def _reschedule(message, exc, config):
    error = str(exc)
    attempts = message.attempts if exc.counts else message.attempts - 1
    entry = HANDLERS.get(message.kind)
    if entry is not None and entry.max_attempts is not None:
        limit = entry.max_attempts(config)
    else:
        limit = int(config["OUTBOX_MAX_ATTEMPTS"])
    if attempts >= limit:
        _fail(message, error, config)
        log.error("%s gave up after %s attempts: %s", describe(message), attempts, error)
        return "failed"
    delay = exc.delay if exc.delay is not None else backoff(attempts, config)
    OutboxMessage.update(
        available_at=now() + datetime.timedelta(seconds=delay), last_error=error, attempts=attempts
    ).where(OutboxMessage.id == message.id).execute()
    if exc.counts:
        log.warning("%s attempt %s failed, retry in %.1fs: %s", describe(message), attempts,
                    delay, error)  # fmt: skip
    else:  # not a failure: it waits its turn (a busy refund, an older webhook of its return)
        log.info("%s waits %.1fs: %s", describe(message), delay, error)
    # A delayed task retries on time; if it is lost, the sweeper still finds the message due.
    publish(message.id, countdown=delay + 0.25)
    return "retry"


def _fail(message, error, config):
    entry = HANDLERS.get(message.kind)
    with db.atomic():
        _mark(message, FAILED, error)
        if entry is not None and entry.on_failure is not None:
            entry.on_failure(message, error, config)


def _mark(message, status, error=""):
    values = {"status": status, "last_error": error}
    if status == SENT:
        values["sent_at"] = now()
    prebuilt_set(OutboxMessage, values, id=message.id)


def sweep(config, limit=500):
    """Publish pending messages that are due and older than a short grace period (Redis was
    down at commit time, a task was lost, or a worker died holding the lease)."""
    due = now() - datetime.timedelta(seconds=float(config["OUTBOX_SWEEP_GRACE_SECONDS"]))
    ids = [
        m.id
        for m in OutboxMessage.select(OutboxMessage.id)
        .where((OutboxMessage.status == PENDING) & (OutboxMessage.available_at <= due))
        .order_by(OutboxMessage.available_at)
        .limit(limit)
    ]
    published = 0
    for message_id in ids:
        if not publish(message_id):
            break  # the broker is down: the next sweep tries again
        published += 1
    if ids:
        log.info("sweep: %s of %s due outbox messages published", published, len(ids))
    return published


def retry(message_id, actor=None):
    """Staff retry of a failed message, in its own transaction: back to pending, due now,
    published after commit. Kinds with an on_retry hook (refunds) decide for themselves.
    Returns 1 when the message was retried, 0 when it was not failed."""
    with db.atomic():
        message = OutboxMessage.get_or_none(OutboxMessage.id == message_id)
        if message is None or message.status != FAILED:
            return 0
        entry = HANDLERS.get(message.kind)
        if entry is not None and entry.on_retry is not None:
            return entry.on_retry(message, actor)
        changed = (
            OutboxMessage.update(status=PENDING, available_at=now(), last_error="", attempts=0)
            .where((OutboxMessage.id == message_id) & (OutboxMessage.status == FAILED))
            .execute()
        )
        if changed:
            db.after_commit(lambda: publish(message_id))
        return changed

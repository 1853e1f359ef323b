"""Workers under load: N refunds end to end against N no-op tasks, same worker, same Redis.

Refunds: Refund rows (pending) and their outbox "refund" messages are written in bulk, then one
`tasks.outbox.deliver` task per message is published, as portal.outbox.messages.publish does after a
commit. The portal's worker (`celery -A wsgi:celery_app worker --pool=prefork -c 2`) claims each
message, runs portal.returns.refund_execution (ledger gateway), marks the refund succeeded and writes the
shopper's refund_sent email to the outbox, which it then delivers too. The clock stops when every
refund has succeeded and has its email row; when the emails are sent is reported beside it.

Baseline: N `tasks.maintenance.noop` tasks through the same Redis to the same worker; the clock
stops when the queue and the worker's unacknowledged set are both empty (tasks ack late).
"""

import time
import uuid

from bench import services

DELIVER = "tasks.outbox.deliver"
NOOP = "tasks.maintenance.noop"
MIN_AMOUNT = 100  # cents left on the payment for a bench refund


def refund_handler_available():
    try:
        from portal.outbox.handlers import HANDLERS
    except ImportError as exc:
        return False, f"portal.outbox.handlers is not importable ({exc})"
    if "refund" not in HANDLERS:
        return False, "no outbox handler for 'refund' messages"
    return True, ""


def celery_client(redis_url):
    from celery import Celery

    client = Celery("bench", broker=redis_url)
    client.conf.update(broker_connection_retry_on_startup=True, task_ignore_result=True)
    return client


def _drained(redis_client):
    return redis_client.llen("celery") == 0 and redis_client.hlen("unacked") == 0


def run_noop(client, redis_client, count, timeout):
    started = time.perf_counter()
    for _ in range(count):
        client.send_task(NOOP, ignore_result=True)
    sent = time.perf_counter()
    deadline = started + timeout
    while not _drained(redis_client):
        if time.perf_counter() > deadline:
            raise RuntimeError("no-op tasks did not drain in time")
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    return {
        "count": count,
        "seconds": round(seconds, 2),
        "per_s": round(count / seconds, 1),
        "publish_seconds": round(sent - started, 2),
    }


def create_refunds(count):
    """Pending refunds on open returns (their order's first payment), with outbox messages.

    Written in bulk in one transaction; returns (refund ids, message ids)."""
    from peewee import fn

    from bench.datagen import Writer, _reset_sequences
    from portal.db import db, is_postgres
    from portal.models import LedgerTransaction, OutboxMessage, Payment, Refund, Return, now

    open_statuses = ("requested", "approved", "partially_received", "received", "on_hold")
    refunded = (
        LedgerTransaction.select(fn.COALESCE(fn.SUM(LedgerTransaction.amount), 0))
        .where(LedgerTransaction.payment == Payment.id)
    )  # fmt: skip
    room = Payment.amount - refunded
    candidates = list(
        Return.select(Return.id, Payment.id, Payment.method, room)
        .join(Payment, on=(Payment.order == Return.order))
        .where(
            Return.status.in_(open_statuses)
            & (Payment.position == 0)
            & ~fn.EXISTS(Refund.select().where(Refund.rma == Return.id))
            & (room >= MIN_AMOUNT)
        )
        .order_by(Return.id)
        .limit(count * 2)
        .tuples()
    )
    # Two open returns on one order share its payment: give each what the other left.
    room_by_payment, chosen = {}, []
    for rma_id, payment_id, method, room_left in candidates:
        left = room_by_payment.get(payment_id, room_left)
        if left >= MIN_AMOUNT and len(chosen) < count:
            amount = min(left, 2500)
            chosen.append((rma_id, payment_id, method, amount))
            room_by_payment[payment_id] = left - amount
    candidates = chosen
    if len(candidates) < count:
        raise RuntimeError(f"only {len(candidates)} open returns to refund, {count} wanted")
    with db.atomic():
        first_refund = (Refund.select(fn.MAX(Refund.id)).scalar() or 0) + 1
        first_message = (OutboxMessage.select(fn.MAX(OutboxMessage.id)).scalar() or 0) + 1
        w = Writer(is_postgres())
        current = now()
        refund_ids, message_ids = [], []
        for n, (rma_id, payment_id, method, amount) in enumerate(candidates):
            refund_id, message_id = first_refund + n, first_message + n
            key = uuid.uuid4().hex
            w.add(Refund, ["id", "rma", "payment", "method", "amount", "currency", "status",
                           "idempotency_key", "attempts", "breakdown", "created_at"],
                  (refund_id, rma_id, payment_id, method, amount, "USD", "pending", key, 0,
                   {"items": amount, "restocking_fee": 0, "return_shipping": 0, "shipping": 0,
                    "additional": 0}, current))  # fmt: skip
            w.add(OutboxMessage, ["id", "kind", "payload", "dedupe_key", "status", "attempts",
                                  "rma", "created_at", "available_at"],
                  (message_id, "refund", {"refund_id": refund_id}, f"refund:{key}", "pending", 0,
                   rma_id, current, current))  # fmt: skip
            refund_ids.append(refund_id)
            message_ids.append(message_id)
        w.flush()
        _reset_sequences()
    return refund_ids, message_ids


def _progress(refund_ids, after_message):
    """(succeeded, failed, email rows written, emails sent) for the bench's refunds. Every
    outbox row after the bench's own messages is one of their refund_sent emails."""
    from portal.models import OutboxMessage, Refund

    lo, hi = refund_ids[0], refund_ids[-1]
    mine = Refund.select().where(Refund.id.between(lo, hi))
    succeeded = mine.where(Refund.status == "succeeded").count()
    failed = mine.where(Refund.status == "failed").count()
    emails = OutboxMessage.select().where(
        (OutboxMessage.id > after_message) & (OutboxMessage.kind == "email")
    )
    return succeeded, failed, emails.count(), emails.where(OutboxMessage.status == "sent").count()


def run_refunds(client, count, timeout, wait_emails=True):
    from portal.db import db

    refund_ids, message_ids = create_refunds(count)
    db.close()
    started = time.perf_counter()
    for message_id in message_ids:
        client.send_task(DELIVER, args=[message_id], ignore_result=True)
    published = time.perf_counter()
    deadline = started + timeout
    done_at = None
    while True:
        with db.connection_context():
            succeeded, failed, written, sent = _progress(refund_ids, message_ids[-1])
        now_ = time.perf_counter()
        if done_at is None and succeeded + failed >= count and written >= succeeded:
            done_at = now_
        if done_at is not None and (sent >= written or not wait_emails):
            break
        if now_ > deadline:
            break
        time.sleep(0.2)
    finished = time.perf_counter()
    seconds = (done_at or finished) - started
    return {
        "count": count,
        "succeeded": succeeded,
        "failed": failed,
        "email_rows": written,
        "emails_sent": sent,
        "seconds": round(seconds, 2),
        "per_s": round(succeeded / seconds, 1) if seconds else 0.0,
        "with_emails_sent_seconds": round(finished - started, 2) if sent >= written else None,
        "publish_seconds": round(published - started, 2),
        "complete": done_at is not None and succeeded == count,
    }


def bench_workers(database_url, redis, instance, count, log=None, wait_emails=True):
    """Start the worker, run the baseline and the refunds, stop it. Returns the figures."""
    available, why = refund_handler_available()
    env = services.portal_env(database_url, redis.url, instance)
    client = celery_client(redis.url)
    worker = services.CeleryWorker(env, log=log).start(client)
    timeout = 120 + count / 5
    try:
        baseline = run_noop(client, redis.client(), count, timeout)
        refunds = run_refunds(client, count, timeout, wait_emails) if available else None
        memory = worker.peak_rss()
    finally:
        worker.stop()
        client.close()
    result = {"baseline": baseline, "refunds": refunds, "worker_peak_rss_mb": memory}
    if not available:
        result["not_available"] = why
    elif refunds:
        result["ratio"] = round(refunds["per_s"] / baseline["per_s"], 2)
    return result

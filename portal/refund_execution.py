"""Carrying out a refund (worker side): the outbox's "refund" messages land here.

execute_refund() runs in three steps so that money leaves at most once per idempotency key:

1. one transaction: lock the refund (SELECT ... FOR UPDATE on PostgreSQL; SQLite's BEGIN
   IMMEDIATE serialises writers), do nothing unless it is `pending` (or `processing` for longer
   than the stale timeout: the worker that had it died), move it to `processing`, attempts + 1;
2. outside any transaction: ask the gateway, with the refund's idempotency key;
3. one transaction: record the reference, `succeeded`, the timeline event, the shopper's email
   (outbox) and, for store credit, the StoreCredit entry the shopper sees.

Transient gateway errors put the refund back to `pending` and raise RetryLater, so the outbox
retries it with backoff and jitter; after the last try (or a permanent error) the refund is
`failed` with a "refund_failed" event, and a manager can retry it with the same key.
"""

import logging

from portal import payments
from portal.db import db, locked
from portal.models import OutboxMessage, Refund, Return, StoreCredit, now
from portal.outbox import enqueue, enqueue_email
from portal.outbox_delivery import GiveUp, RetryLater, handler, setting
from portal.returns import timeline
from portal.returns.errors import InvalidTransition, NotAllowed, NotFound

log = logging.getLogger(__name__)

STALE_AFTER = 300.0  # seconds a refund may stay `processing` before another worker takes over
GATEWAY_SETTINGS = ("PAYMENT_GATEWAY", "STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_TIMEOUT")


class Busy(Exception):
    """Another worker is carrying out this refund right now."""

    def __init__(self, wait):
        super().__init__(f"being processed by another worker; look again in {wait:.0f}s")
        self.wait = wait


def about(refund, rma=None):
    """How log lines name a refund: its id and its return's reference."""
    rma = rma or Return.select(Return.reference).where(Return.id == refund.rma_id).first()
    return f"refund {refund.id} (return {rma.reference if rma else refund.rma_id})"


def _lock(refund_id):
    return locked(Refund.select().where(Refund.id == refund_id)).first()


def start(refund_id, stale_after=STALE_AFTER):
    """Step 1. The refund, now `processing` and owned by the caller, or None when there is
    nothing to do (missing, already succeeded, failed, awaiting approval). Raises Busy."""
    with db.atomic():
        refund = _lock(refund_id)
        if refund is None:
            return None
        current = now()
        if refund.status == "processing":
            started = refund.processing_started_at or current
            age = (current - started).total_seconds()
            if age < stale_after:
                raise Busy(stale_after - age)
            log.warning("%s was processing for %.0fs: taking it over", about(refund), age)
        elif refund.status != "pending":
            return None
        Refund.update(
            status="processing", attempts=Refund.attempts + 1, processing_started_at=current
        ).where(Refund.id == refund.id).execute()
        refund.status, refund.attempts = "processing", refund.attempts + 1
        refund.processing_started_at = current
        return refund


def _still_ours(refund):
    """Compare-and-set condition: still processing under the claim this worker made."""
    return (
        (Refund.id == refund.id)
        & (Refund.status == "processing")
        & (Refund.processing_started_at == refund.processing_started_at)
    )


def call_gateway(refund, config):
    """Step 2: the only place a refund reaches a gateway. Returns the gateway's reference."""
    payment = refund.payment
    order = payment.order_id if payment is not None else refund.rma.order_id
    gateway = payments.gateway_for(payment, config)
    return gateway.refund(
        payment, refund.amount, refund.currency, refund.idempotency_key,
        order=order, method=refund.method,
    )  # fmt: skip


def succeed(refund_id, reference):
    """Step 3: record the gateway's answer. Once only: a second call changes nothing.

    Success wins over any other status: if the gateway said yes, the money has moved."""
    with db.atomic():
        refund = _lock(refund_id)
        if refund is None or refund.status == "succeeded":
            return False
        rma = Return.get_by_id(refund.rma_id)
        settled = now()
        Refund.update(
            status="succeeded", gateway_reference=reference, settled_at=settled, last_error=""
        ).where(Refund.id == refund.id).execute()
        if (
            refund.method == "store_credit"
            and not StoreCredit.select().where(StoreCredit.refund == refund.id).exists()
        ):
            order = rma.order
            StoreCredit.create(
                customer=order.customer_id or rma.requested_by_id,
                email=rma.email,
                currency=refund.currency,
                amount=refund.amount,
                refund=refund.id,
                note=f"Refund for return {rma.reference}",
            )
        timeline.record(
            rma, "refund_succeeded", refund_id=refund.id, amount=refund.amount,
            currency=refund.currency, method=refund.method, reference=reference,
            attempts=refund.attempts,
        )  # fmt: skip
        enqueue_email(
            "refund_sent", rma.email, f"refund:{refund.id}:email:refund_sent", rma=rma,
            context={"amount": refund.amount, "currency": refund.currency,
                     "method": refund.method, "reference": reference},
        )  # fmt: skip
    log.info("%s succeeded: %s cents %s, reference %s, attempt %s", about(refund, rma),
             refund.amount, refund.currency, reference, refund.attempts)  # fmt: skip
    return True


def back_to_pending(refund, error):
    """A transient failure: pending again (if still ours), to be retried with the same key."""
    with db.atomic():
        Refund.update(status="pending", last_error=error).where(_still_ours(refund)).execute()


def fail(refund_id, error, only_if=None):
    """The refund is `failed` (staff can retry it) with a "refund_failed" event. `only_if` is a
    condition the row must meet (our claim); without it, any pending/processing refund fails."""
    with db.atomic():
        refund = _lock(refund_id)
        if refund is None or refund.status not in ("pending", "processing"):
            return False
        condition = only_if if only_if is not None else (Refund.id == refund.id)
        if not Refund.update(status="failed", last_error=error).where(condition).execute():
            return False
        rma = Return.get_by_id(refund.rma_id)
        timeline.record(rma, "refund_failed", refund_id=refund.id, amount=refund.amount,
                        attempts=refund.attempts, error=error)  # fmt: skip
    log.error("%s failed after %s attempts: %s", about(refund, rma), refund.attempts, error)
    return True


def execute_refund(refund_id, config, stale_after=STALE_AFTER):
    """Carry out one refund. Returns what happened, as a word; raises RetryLater or GiveUp for
    the outbox to reschedule or fail the message."""
    try:
        refund = start(refund_id, stale_after)
    except Busy as busy:
        raise RetryLater(str(busy), delay=busy.wait + 0.5, counts=False) from busy
    if refund is None:
        return "nothing to do"
    label = about(refund)
    log.info("%s: calling the %s gateway, attempt %s, key %s", label,
             payments.gateway_name(refund.payment, config), refund.attempts,
             refund.idempotency_key)  # fmt: skip
    try:
        reference = call_gateway(refund, config)
    except payments.PermanentGatewayError as exc:
        fail(refund.id, str(exc), only_if=_still_ours(refund))
        raise GiveUp(f"{label}: {exc}") from exc
    except Exception as exc:  # transient, or unknown: the same key makes a retry safe
        error = str(exc) or exc.__class__.__name__
        back_to_pending(refund, error)
        log.warning("%s attempt %s failed: %s", label, refund.attempts, error)
        raise RetryLater(f"{label}: {error}") from exc
    succeed(refund.id, reference)
    return "succeeded"


def retry_refund(refund, actor):
    """A manager retries a failed refund: pending again with the SAME idempotency key (so the
    gateway never pays twice), a fresh outbox message and a timeline event."""
    if actor is None or not actor.is_staff or not actor.has_role("manager"):
        raise NotAllowed("Only a manager can retry a refund.")
    with db.atomic():
        current = _lock(getattr(refund, "id", refund))
        if current is None:
            raise NotFound("That refund does not exist.")
        if current.status != "failed":
            raise InvalidTransition("Only a failed refund can be retried.")
        Refund.update(status="pending").where(Refund.id == current.id).execute()
        rma = Return.get_by_id(current.rma_id)
        base = f"refund:{current.idempotency_key}"
        tries = OutboxMessage.select().where(
            (OutboxMessage.kind == "refund") & OutboxMessage.dedupe_key.startswith(base)
        )
        # Earlier messages for this refund are done with: the new one carries it.
        OutboxMessage.update(status="superseded").where(
            (OutboxMessage.id.in_([m.id for m in tries])) & (OutboxMessage.status == "failed")
        ).execute()
        enqueue("refund", {"refund_id": current.id}, f"{base}:retry-{tries.count()}", rma=rma)
        timeline.record(rma, "refund_retried", actor=actor, internal=True,
                        refund_id=current.id, previous_error=current.last_error)  # fmt: skip
    log.info("%s retried by %s", about(current, rma), actor.email)
    return current


# --- the outbox handler ---------------------------------------------------------------------


def gateway_config():
    return {name: setting(name) for name in GATEWAY_SETTINGS}


def _on_failure(message, error):
    """The refund message failed for good: so does the refund (staff see it and can retry)."""
    refund_id = (message.payload or {}).get("refund_id")
    if refund_id:
        fail(refund_id, error)


def _on_retry(message, actor):
    refund = Refund.get_or_none(Refund.id == (message.payload or {}).get("refund_id"))
    if refund is None:
        raise NotFound("The refund behind this message no longer exists.")
    retry_refund(refund, actor)
    return 1


@handler("refund", on_failure=_on_failure, on_retry=_on_retry)
def handle_refund(message):
    refund_id = (message.payload or {}).get("refund_id")
    if not refund_id:
        raise GiveUp("refund message without a refund_id")
    stale_after = float(setting("REFUND_STALE_SECONDS", STALE_AFTER))
    execute_refund(refund_id, gateway_config(), stale_after=stale_after)

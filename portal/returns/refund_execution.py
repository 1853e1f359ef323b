"""Carrying out a refund (worker side), and a manager's retry of a failed one.

execute_refund() runs in three steps so that money leaves at most once per idempotency key:

1. one transaction: lock the refund (SELECT ... FOR UPDATE on PostgreSQL; SQLite's BEGIN
   IMMEDIATE serialises writers), do nothing unless it is `pending` (or `processing` with its
   lease run out: the worker that had it died), move it to `processing`, attempts + 1, with a
   lease of `lease` seconds (refund_lease);
2. outside any transaction: ask the gateway, with the refund's idempotency key, while a
   heartbeat renews the lease;
3. one transaction: record the reference, `succeeded`, the timeline event, the shopper's email
   (outbox) and, for store credit, the StoreCredit entry the shopper sees.

A transient gateway error moves the refund back to `pending` and raises RefundDeferred (the
outbox retries it with backoff and jitter); a permanent one fails it and raises RefundRefused.
After the last try the outbox fails the refund too (fail()); a manager can retry it with the
same key (retry_refund()). Every status change goes through refund_states.move().
"""

import logging
import uuid

from portal import payments
from portal.db import db, locked
from portal.models import Payment, Refund, Return, ReturnPolicy, StoreCredit, User, now
from portal.outbox.messages import enqueue, enqueue_email, supersede_failed
from portal.prebuilt import prebuilt_rows
from portal.returns import refund_lease, refund_states, return_invoices
from portal.returns.errors import (
    InvalidTransition,
    NotFound,
    RefundBusy,
    RefundDeferred,
    RefundRefused,
)
from portal.returns.refund_states import FAILED, PENDING, PROCESSING, move
from portal.returns.transitions import ensure_editable, load, require_staff

log = logging.getLogger(__name__)

STALE_AFTER = 300.0  # a `processing` refund claimed with no lease (before leases) is stale then
LEASE = 30.0  # seconds a worker's claim lasts unless renewed (REFUND_LEASE_SECONDS)
IDEMPOTENCY_WINDOW = 86400.0  # Stripe keeps an idempotency key this long


def about(refund, rma=None):
    """How log lines name a refund: its id and its return's reference (read with the refund by
    start(), else here)."""
    reference = rma.reference if rma is not None else getattr(refund, "rma_reference", None)
    if reference is None:
        rma = Return.select(Return.reference).where(Return.id == refund.rma_id).first()
        reference = rma.reference if rma else refund.rma_id
    return f"refund {refund.id} (return {reference})"


def _locked_refund(refund_id):
    return locked(Refund.select().where(Refund.id == refund_id).limit(1))


def _locked_refund_and_reference(refund_id):
    reference = Return.select(Return.reference).where(Return.id == Refund.rma)
    return locked(
        Refund.select(Refund, reference.alias("rma_reference"))
        .where(Refund.id == refund_id)
        .limit(1)
    )


def _lock(refund_id, reference=False):
    """The refund, its row locked (PostgreSQL; SQLite's writers are serialised), or None;
    `reference`: with its return's reference as `rma_reference` (for the log lines). Built
    once per process: every refund is locked twice."""
    if reference:
        rows = prebuilt_rows("refund-locked-with-reference", _locked_refund_and_reference,
                             refund_id=refund_id)  # fmt: skip
    else:
        rows = prebuilt_rows("refund-locked", _locked_refund, refund_id=refund_id)
    return rows[0] if rows else None


def _payment(payment_id):
    return Payment.select().where(Payment.id == payment_id).limit(1)


def _with_payment(refund):
    """The refund with its payment loaded (what `refund.payment` would read), the statement
    built once per process."""
    if refund.payment_id is not None and "payment" not in refund.__rel__:
        found = prebuilt_rows("refund-payment", _payment, payment_id=refund.payment_id)
        if found:
            refund.__rel__["payment"] = found[0]
    return refund


def _return_for_success(rma_id):
    return Return.select(Return.id, Return.reference, Return.email, Return.order,
                         Return.requested_by).where(Return.id == rma_id).limit(1)  # fmt: skip


def dedupe_key(refund):
    """The outbox key of a refund's message (a manager's retry adds a suffix)."""
    return f"refund:{refund.idempotency_key}"


def enqueue_refund(refund, rma, suffix=""):
    """The outbox message that has a worker carry the refund out (in the caller's transaction)."""
    return enqueue("refund", {"refund_id": refund.id}, dedupe_key(refund) + suffix, rma=rma)


def start(refund_id, stale_after=STALE_AFTER, lease=LEASE):
    """Step 1. The refund, now `processing` and owned by the caller for `lease` seconds, or None
    when there is nothing to do (missing, already succeeded, failed, awaiting approval). Raises
    RefundBusy while another worker's lease runs."""
    with db.atomic():
        refund = _lock(refund_id, reference=True)
        if refund is None:
            return None
        current = now()
        if refund.status == PROCESSING:
            started = refund.processing_started_at or current
            age = (current - started).total_seconds()
            if refund.lease_expires_at is not None:
                left = (refund.lease_expires_at - current).total_seconds()
            else:
                left = stale_after - age
            if left > 0:
                raise RefundBusy(left)
            log.warning("%s was processing for %.0fs, its lease run out: taking it over",
                        about(refund), age)  # fmt: skip
            event = "take_over"
        elif refund.status == PENDING:
            event = "start"
        else:
            return None
        # Plain values, from the row as locked above (no other writer until the commit), so
        # that move() writes them in one prebuilt compare-and-set.
        move([refund], event, refund.rma_id, payload={"attempt": refund.attempts + 1},
             attempts=refund.attempts + 1, processing_started_at=current,
             first_attempted_at=refund.first_attempted_at or current,
             lease_expires_at=refund_lease.expiry(lease, current))  # fmt: skip
        return refund


def _still_ours(refund):
    """Compare-and-set condition: still processing under the claim this worker made."""
    return Refund.processing_started_at == refund.processing_started_at


def past_key_window(refund, config, at=None):
    """Whether the refund's first attempt is older than the gateway keeps idempotency keys
    (STRIPE_IDEMPOTENCY_WINDOW, 24 h): then the gateway must look the refund up first."""
    window = float(config.get("STRIPE_IDEMPOTENCY_WINDOW") or IDEMPOTENCY_WINDOW)
    first = refund.first_attempted_at
    return first is not None and ((at or now()) - first).total_seconds() > window


def call_gateway(refund, config):
    """Step 2: the only place a refund reaches a gateway. Returns the gateway's reference (a
    GatewayRefund: with the gateway's status)."""
    payment = refund.payment
    order = payment.order_id if payment is not None else refund.rma.order_id
    gateway = payments.gateway_for(payment, config)
    reference = gateway.refund(
        payment, refund.amount, refund.currency, refund.idempotency_key,
        order=order, method=refund.method, refund_id=refund.id,
        look_up=past_key_window(refund, config),
    )  # fmt: skip
    if not isinstance(reference, payments.GatewayRefund):
        reference = payments.GatewayRefund(reference)
    return reference


def wait_for_gateway(refund, reference):
    """The gateway took the refund but has not paid it yet (Stripe: pending, requires_action):
    `at_gateway`, shown as such; the gateway's event completes or fails it."""
    with db.atomic():
        move([refund], "wait", refund.rma_id, only_if=_still_ours(refund),
             payload={"reference": str(reference), "gateway_status": reference.gateway_status,
                      "reason": reference.reason, "adopted": reference.adopted},
             gateway_reference=str(reference), gateway_status=reference.gateway_status,
             gateway_reason=reference.reason[:250])  # fmt: skip


def succeed(refund_id, reference, adopted=False):
    """Step 3: record the gateway's answer. Once only: a second call changes nothing.

    Success wins over a failure recorded meanwhile: if the gateway said yes, the money moved."""
    with db.atomic():
        refund = _lock(refund_id)
        if refund is None or not refund_states.can(refund.status, "succeed"):
            return False
        # What this step reads of the return (the timeline and webhooks take its id and read
        # the whole row themselves when an endpoint wants it).
        found = prebuilt_rows("return-for-refund-success", _return_for_success,
                              rma_id=refund.rma_id)  # fmt: skip
        if not found:
            raise Return.DoesNotExist(f"no return {refund.rma_id}")
        rma = found[0]
        details = {"currency": refund.currency, "method": refund.method,
                   "reference": str(reference), "attempts": refund.attempts}  # fmt: skip
        if adopted:
            details["adopted"] = True  # found at the gateway, made by an earlier attempt
        move([refund], "succeed", rma.id, payload=details, gateway_reference=str(reference),
             settled_at=now(), last_error="", gateway_status="succeeded",
             gateway_reason="")  # fmt: skip
        if (
            refund.method == "store_credit"
            and not StoreCredit.select().where(StoreCredit.refund == refund.id).exists()
        ):
            StoreCredit.create(
                customer=rma.order.customer_id or rma.requested_by_id,
                email=rma.email,
                currency=refund.currency,
                amount=refund.amount,
                refund=refund.id,
                note=f"Refund for return {rma.reference}",
            )
        enqueue_email(
            "refund_sent", rma.email, f"refund:{refund.id}:email:refund_sent", rma=rma,
            context={"amount": refund.amount, "currency": refund.currency,
                     "method": refund.method, "reference": reference},
        )  # fmt: skip
    log.info("%s succeeded: %s cents %s, reference %s, attempt %s", about(refund, rma),
             refund.amount, refund.currency, reference, refund.attempts)  # fmt: skip
    return True


def defer(refund, error):
    """A transient failure: pending again (if still ours), to be retried with the same key."""
    with db.atomic():
        move([refund], "defer", refund.rma_id, only_if=_still_ours(refund),
             payload={"error": error}, last_error=error)  # fmt: skip


def fail(refund_id, error, only_if=None, staff_email=None):
    """The refund is `failed` (a manager can retry it) with a "refund_failed" event, and staff
    are told by email (to `staff_email`). `only_if` is a condition the row must meet (our
    claim); without it, any pending/processing refund fails."""
    with db.atomic():
        refund = _lock(refund_id)
        if refund is None or not refund_states.can(refund.status, "fail"):
            return False
        moved = move([refund], "fail", refund.rma_id, only_if=only_if,
                     payload={"attempts": refund.attempts, "error": error},
                     last_error=error)  # fmt: skip
        if not moved:
            return False
        if staff_email:
            rma = Return.get_by_id(refund.rma_id)
            enqueue_email("staff_refund_failed", staff_email,
                          f"refund:{refund.id}:email:staff_refund_failed:{refund.attempts}",
                          rma=rma, context={"refund_id": refund.id, "amount": refund.amount,
                                            "currency": refund.currency, "method": refund.method,
                                            "error": error, "attempts": refund.attempts})  # fmt: skip
    log.error("%s failed after %s attempts: %s", about(refund), refund.attempts, error)
    return True


def execute_refund(refund_id, config, stale_after=None):
    """Carry out one refund. Returns what happened, as a word; raises RefundBusy,
    RefundDeferred or RefundRefused for the outbox to reschedule or fail the message."""
    if stale_after is None:
        stale_after = float(config.get("REFUND_STALE_SECONDS") or STALE_AFTER)
    lease = float(config.get("REFUND_LEASE_SECONDS") or LEASE)
    refund = start(refund_id, stale_after, lease)
    if refund is None:
        return "nothing to do"
    _with_payment(refund)
    label = about(refund)
    log.info("%s: calling the %s gateway, attempt %s, key %s", label,
             payments.gateway_name(refund.payment, config), refund.attempts,
             refund.idempotency_key)  # fmt: skip
    try:
        with refund_lease.kept(refund, lease):
            reference = call_gateway(refund, config)
    except payments.PermanentGatewayError as exc:
        fail(
            refund.id, str(exc), only_if=_still_ours(refund), staff_email=config.get("STAFF_EMAIL")
        )
        raise RefundRefused(f"{label}: {exc}") from exc
    except Exception as exc:  # transient, or unknown: the same key makes a retry safe
        error = str(exc) or exc.__class__.__name__
        defer(refund, error)
        log.warning("%s attempt %s failed: %s", label, refund.attempts, error)
        raise RefundDeferred(f"{label}: {error}") from exc
    if reference.status != "succeeded":
        wait_for_gateway(refund, reference)
        log.info("%s is %s at the gateway (%s): %s", label, reference.gateway_status,
                 reference.reason or "no reason given", reference)  # fmt: skip
        return "pending at the gateway"
    if succeed(refund.id, reference, adopted=reference.adopted):
        return_invoices.issue(refund.rma_id)  # the credit note's number, if staff gave none
    return "succeeded"


# Gateway statuses that mean the gateway itself failed the refund (after it was sent).
GATEWAY_FAILED = ("failed", "canceled")


def failed_at_gateway(refund):
    return refund.status == FAILED and refund.gateway_status in GATEWAY_FAILED


def _failed_for_manager(refund, actor, refusal, done):
    """The failed refund, locked, and its return, for a manager's retry or store credit. A
    return that is completed and locked only lets a refund the gateway failed later be fixed
    (its money never arrived: fixing it is not editing the return)."""
    require_staff(actor, "manager", refusal)
    refund_id = getattr(refund, "id", refund)
    found = Refund.select(Refund.rma).where(Refund.id == refund_id).first()
    if found is None:
        raise NotFound("That refund does not exist.")
    rma = load(found.rma_id)
    current = _lock(refund_id)
    if current is None:
        raise NotFound("That refund does not exist.")
    if not failed_at_gateway(current):
        ensure_editable(rma, ReturnPolicy.current())
    if current.status != FAILED:
        raise InvalidTransition(f"Only a failed refund can be {done}.")
    return rma, current


def retry_refund(refund, actor):
    """A manager retries a failed refund: pending again with the SAME idempotency key (so the
    gateway never pays twice), a fresh outbox message and a timeline event. Every retry path
    (the return's page, the operations page, a failed outbox message) comes through here.

    A refund the gateway failed after taking it (Stripe's refund.failed) gets a NEW key: the
    old one would only replay the failed refund. Its first attempt starts again."""
    with db.atomic():
        rma, current = _failed_for_manager(
            refund, actor, "Only a manager can retry a refund.", "retried"
        )
        changes, details = {}, {"previous_error": current.last_error}
        if failed_at_gateway(current):
            changes = {"idempotency_key": uuid.uuid4().hex, "first_attempted_at": None,
                       "gateway_reference": None, "gateway_status": "", "gateway_reason": ""}  # fmt: skip
            details.update(new_key=True, previous_reference=current.gateway_reference)
        earlier = dedupe_key(current)  # its messages so far, under the key it had
        move([current], "retry", rma, actor, payload=details, **changes)
        # Earlier messages for this refund are done with: the new one carries it.
        tries = supersede_failed("refund", earlier)
        enqueue_refund(current, rma, suffix=f":retry-{tries}")
    log.info("%s retried by %s", about(current, rma), actor.email)
    return current


def to_store_credit(refund, actor):
    """A manager turns a failed refund into store credit: the failed row is `cancelled`
    (replaced) and a store-credit refund of the same amount and breakdown is made, carried out
    by the worker through the ledger like any other (the shopper sees the credit then)."""
    with db.atomic():
        rma, current = _failed_for_manager(
            refund,
            actor,
            "Only a manager can turn a refund into store credit.",
            "turned into store credit",
        )
        if current.method == "store_credit":
            raise InvalidTransition("This refund is store credit already: retry it instead.")
        credit = Refund.create(
            rma=rma.id, payment=None, method="store_credit", amount=current.amount,
            currency=current.currency, status=PENDING, idempotency_key=uuid.uuid4().hex,
            breakdown={**(current.breakdown or {}), "replaces_refund": current.id},
            created_by=actor, approved_by=current.approved_by_id,
        )  # fmt: skip
        move([current], "replace", rma, actor,
             payload={"store_credit_refund": credit.id, "previous_error": current.last_error})  # fmt: skip
        enqueue_refund(credit, rma)
    log.info("%s turned into store credit (refund %s) by %s", about(current, rma), credit.id,
             actor.email)  # fmt: skip
    return credit


def staff_to_tell():
    """Who hears that a refund failed at the gateway: every active manager and admin."""
    return [
        u.email
        for u in User.select(User.email)
        .where(User.role.in_(("manager", "admin")) & (User.active == True))  # noqa: E712
        .order_by(User.id)
    ]

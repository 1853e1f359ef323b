"""The refund worker's domain (portal.returns.refund_execution) called directly: the status
rules, the stale takeover, failures, the failed-after-last-try hook and a manager's retry."""

import datetime

import pytest

from portal.models import LedgerTransaction, OutboxMessage, Refund, ReturnEvent, now
from portal.outbox import delivery
from portal.returns.errors import (
    InvalidTransition,
    NotAllowed,
    RefundBusy,
    RefundDeferred,
    RefundRefused,
)
from portal.returns.refund_execution import execute_refund, retry_refund, succeed
from tests.fake_stripe import API_KEY

LEDGER = {"PAYMENT_GATEWAY": "ledger"}


def refund_on(make, amount=1000, captured=5000, gateway="ledger"):
    order, payment = make.paid_order(captured, gateway, reference="pi_x")
    return make.one_refund(order, payment, amount)


def kinds(rma):
    return [e.kind for e in ReturnEvent.select().where(ReturnEvent.rma == rma.id)]


def shown(rma):
    """The events staff and shoppers read about the refund (not the internal attempts)."""
    return [
        e.kind
        for e in ReturnEvent.select().where(
            (ReturnEvent.rma == rma.id) & (ReturnEvent.internal == False)  # noqa: E712
        )
    ]


def test_a_pending_refund_is_carried_out_once(ctx, make):
    rma, refund = refund_on(make)
    assert execute_refund(refund.id, LEDGER) == "succeeded"
    assert execute_refund(refund.id, LEDGER) == "nothing to do"
    done = Refund.get_by_id(refund.id)
    assert (done.status, done.attempts) == ("succeeded", 1)
    assert LedgerTransaction.select().count() == 1
    # The first refund to succeed issues the return invoice (credit note) number.
    assert kinds(rma) == ["refund_processing", "refund_succeeded", "return_invoice_issued"]
    emails = OutboxMessage.select().where(OutboxMessage.kind == "email")
    assert [m.dedupe_key for m in emails] == [f"refund:{refund.id}:email:refund_sent"]


def test_recording_success_twice_changes_nothing(ctx, make):
    rma, refund = refund_on(make)
    assert succeed(refund.id, "ref-1") is True
    assert succeed(refund.id, "ref-2") is False
    assert Refund.get_by_id(refund.id).gateway_reference == "ref-1"
    assert kinds(rma) == ["refund_succeeded"]


def test_a_refund_processing_elsewhere_is_left_alone_until_stale(ctx, make):
    rma, refund = refund_on(make)
    started = now() - datetime.timedelta(seconds=10)
    Refund.update(status="processing", processing_started_at=started, attempts=1).execute()
    with pytest.raises(RefundBusy) as busy:
        execute_refund(refund.id, LEDGER, stale_after=60)
    assert 45 < busy.value.wait < 55
    assert LedgerTransaction.select().count() == 0
    # past the stale timeout the worker that had it is presumed dead: take over, same key
    assert execute_refund(refund.id, LEDGER, stale_after=5) == "succeeded"
    assert Refund.get_by_id(refund.id).attempts == 2
    assert LedgerTransaction.get().idempotency_key == refund.idempotency_key


def test_a_transient_error_puts_the_refund_back_to_pending(ctx, make, fake_stripe):
    fake = fake_stripe
    fake.always_fail = True
    _, refund = refund_on(make, gateway="stripe")
    config = {"STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": fake.url, "STRIPE_TIMEOUT": 5}
    with pytest.raises(RefundDeferred) as retry:
        execute_refund(refund.id, config)
    assert f"refund {refund.id}" in str(retry.value)
    again = Refund.get_by_id(refund.id)
    assert (again.status, again.attempts) == ("pending", 1) and "500" in again.last_error


def test_a_permanent_error_fails_the_refund_with_an_event(ctx, make):
    rma, refund = refund_on(make, amount=6000, captured=5000)  # more than the ledger allows
    with pytest.raises(RefundRefused):
        execute_refund(refund.id, LEDGER)
    failed = Refund.get_by_id(refund.id)
    assert failed.status == "failed" and "Refusing to refund" in failed.last_error
    assert kinds(rma) == ["refund_processing", "refund_failed"]


def test_busy_elsewhere_does_not_use_up_an_attempt(ctx, make):
    _, refund = refund_on(make)
    message = OutboxMessage.get(OutboxMessage.kind == "refund")
    OutboxMessage.update(attempts=7).execute()
    Refund.update(status="processing", processing_started_at=now(), attempts=1).execute()
    assert delivery.deliver(message.id, ctx.config) == "retry"
    again = OutboxMessage.get_by_id(message.id)
    assert again.attempts == 7 and again.status == "pending"
    assert again.available_at > now() + datetime.timedelta(seconds=200)


def test_the_last_failed_try_fails_the_refund(ctx, make, fake_stripe):
    fake = fake_stripe
    fake.always_fail = True
    ctx.config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake.url, STRIPE_TIMEOUT=5,
                      OUTBOX_MAX_ATTEMPTS=8)  # fmt: skip
    rma, refund = refund_on(make, gateway="stripe")
    message = OutboxMessage.get(OutboxMessage.kind == "refund")
    OutboxMessage.update(attempts=6).execute()
    assert delivery.deliver(message.id, ctx.config) == "retry"  # the 7th try
    assert Refund.get_by_id(refund.id).status == "pending"
    OutboxMessage.update(available_at=now()).execute()
    assert delivery.deliver(message.id, ctx.config) == "failed"  # the 8th and last
    failed = Refund.get_by_id(refund.id)
    assert (failed.status, failed.attempts) == ("failed", 2) and "500" in failed.last_error
    assert shown(rma) == ["refund_failed"]
    assert OutboxMessage.get_by_id(message.id).status == "failed"
    assert fake.executions == []


def test_only_a_manager_retries_and_only_a_failed_refund(ctx, make):
    rma, refund = refund_on(make)
    agent, manager = make.staff("agent"), make.staff("manager")
    with pytest.raises(InvalidTransition):
        retry_refund(refund, manager)
    Refund.update(status="failed", last_error="boom").execute()
    OutboxMessage.update(status="failed").execute()
    with pytest.raises(NotAllowed):
        retry_refund(refund, agent)
    retry_refund(refund, manager)
    again = Refund.get_by_id(refund.id)
    assert again.status == "pending" and again.idempotency_key == refund.idempotency_key
    messages = {m.dedupe_key: m.status for m in OutboxMessage.select()}
    assert messages == {
        f"refund:{refund.idempotency_key}": "superseded",
        f"refund:{refund.idempotency_key}:retry-1": "pending",
    }
    [event] = ReturnEvent.select().where(ReturnEvent.kind == "refund_retried")
    assert event.actor_id == manager.id and event.internal and event.payload["previous_error"]
    assert execute_refund(refund.id, LEDGER) == "succeeded"
    assert LedgerTransaction.select().count() == 1

"""Refunds carried out by a real Celery worker (in-process thread) against real Redis, the
built-in ledger or a local Stripe endpoint, and a real SMTP server (aiosmtpd)."""

import collections
import logging
import re

import pytest

from portal.db import db
from portal.models import LedgerTransaction, OutboxMessage, Refund, ReturnEvent
from tests import factories
from tests.apps import make_app
from tests.fake_stripe import API_KEY
from tests.waiting import broker_idle, wait_until


@pytest.fixture
def app(tmp_path, redis_url, smtp_server, fake_stripe):
    controller, _ = smtp_server
    app = make_app(
        tmp_path, redis_url, MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port,
        STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_stripe.url, STRIPE_TIMEOUT=10,
        OUTBOX_BACKOFF_BASE=0.05, OUTBOX_MAX_ATTEMPTS=4, OUTBOX_SWEEP_GRACE_SECONDS=0.5,
    )  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


def shop(make, gateway="ledger", amount=100_000, method="card"):
    shopper = make.user(email=f"shopper-{gateway}-{method}@example.com")
    order, payment = make.paid_order(amount, gateway, method, "pi_test_42", customer=shopper)
    return shopper, order, payment


def refund_status(refund_id):
    return Refund.get_by_id(refund_id).status


def wait_status(refund_id, status, timeout=30):
    wait_until(lambda: refund_status(refund_id) == status, timeout, message=f"refund {status}")
    return Refund.get_by_id(refund_id)


def events(rma, kind):
    return list(
        ReturnEvent.select().where((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == kind))
    )


def test_a_refund_is_carried_out_once_and_the_shopper_is_emailed(ctx, make, celery_worker,
                                                                 smtp_server, caplog):  # fmt: skip
    caplog.set_level(logging.INFO)
    _, mailbox = smtp_server
    shopper, order, payment = shop(make)
    rma, refund = factories.one_refund(order, payment)

    done = wait_status(refund.id, "succeeded")
    [entry] = LedgerTransaction.select()
    assert entry.idempotency_key == refund.idempotency_key and entry.amount == 1500
    assert done.gateway_reference == entry.reference and done.settled_at and done.attempts == 1
    [event] = events(rma, "refund_succeeded")
    assert event.payload["reference"] == entry.reference and event.actor_id is None

    [(sender, rcpts, content)] = mailbox.wait_for(1)
    assert rcpts == [shopper.email]
    assert f"Subject: Your refund for return {rma.reference} is on its way" in content
    assert "$15.00" in content
    email_msg = OutboxMessage.get(OutboxMessage.kind == "email")
    assert f"Message-ID: <outbox-{email_msg.id}@returns.portal>" in content
    wait_until(lambda: OutboxMessage.get_by_id(email_msg.id).status == "sent", 10)
    assert OutboxMessage.get(OutboxMessage.kind == "refund").status == "sent"
    # worker log lines name the refund and its return
    about = f"refund {refund.id} (return {rma.reference})"
    assert any(about in r.getMessage() and "succeeded" in r.getMessage() for r in caplog.records)


def test_store_credit_is_added_to_the_shoppers_account_page(ctx, make, celery_worker, client,
                                                            auth, smtp_server):  # fmt: skip
    shopper, order, payment = shop(make)
    rma, refund = factories.one_refund(order, None, amount=2550, method="store_credit")
    wait_status(refund.id, "succeeded")
    entry = LedgerTransaction.get(LedgerTransaction.idempotency_key == refund.idempotency_key)
    assert (entry.method, entry.payment_id, entry.order_id) == ("store_credit", None, order.id)
    auth(client, shopper.email)
    page = client.get("/account").get_data(as_text=True)
    assert "$25.50" in page and rma.reference in page
    assert "See your balance" in smtp_server[1].wait_for(1)[0][2]


@pytest.mark.slow  # ~17 s
def test_a_thousand_refunds_at_once_each_reach_the_gateway_once(ctx, make, celery_worker,
                                                                smtp_server):  # fmt: skip
    _, mailbox = smtp_server
    _, order, payment = shop(make, amount=1_000_000)
    refunds = factories.refunds_for(
        order, 1000, 700, payment=payment
    )  # one transaction, 1000 tasks

    wait_until(
        lambda: Refund.select().where(Refund.status == "succeeded").count() == 1000,
        timeout=240, interval=0.5, message="1000 refunds succeeded",
    )  # fmt: skip
    book = collections.Counter(t.idempotency_key for t in LedgerTransaction.select())
    assert set(book) == {r.idempotency_key for r in refunds}
    assert set(book.values()) == {1}  # each key reached the gateway exactly once
    by_key = {t.idempotency_key: t.reference for t in LedgerTransaction.select()}
    assert all(r.gateway_reference == by_key[r.idempotency_key] for r in Refund.select())
    assert Refund.select().where(Refund.attempts != 1).count() == 0
    # and each shopper email went out once
    messages = mailbox.wait_for(1000, timeout=120)
    ids = collections.Counter(re.search(r"Message-ID: (\S+)", m[2]).group(1) for m in messages)
    assert len(ids) == 1000 and set(ids.values()) == {1}


def test_a_task_published_twice_reaches_the_gateway_once(ctx, make, celery_worker, fake_stripe,
                                                         redis_url):  # fmt: skip
    from celery import current_app

    _, order, payment = shop(make, gateway="stripe")
    _, refund = factories.one_refund(order, payment)
    message = OutboxMessage.get(OutboxMessage.kind == "refund")
    for _ in range(3):  # the commit hook published it once already; the broker repeats it
        current_app.send_task("tasks.outbox.deliver", args=[message.id], ignore_result=True)
    wait_status(refund.id, "succeeded")
    wait_until(lambda: len(fake_stripe.requests) >= 1, 5)
    # Rather than give the duplicates a second to run, wait until every one of the four
    # published tasks has run to its end (acked late: the broker holds none, queued or unacked).
    wait_until(lambda: broker_idle(redis_url), 30, message="the duplicate tasks done")
    assert fake_stripe.requests_per_key() == {refund.idempotency_key: 1}
    assert len(events(refund.rma, "refund_succeeded")) == 1
    assert OutboxMessage.select().where(OutboxMessage.kind == "email").count() == 1


def test_a_gateway_failing_twice_then_succeeding_refunds_once(ctx, make, celery_worker,
                                                              fake_stripe):  # fmt: skip
    _, order, payment = shop(make, gateway="stripe")
    fake_stripe.fail_next = 2  # two 500s, then it answers
    rma, refund = factories.one_refund(order, payment, amount=4200)
    done = wait_status(refund.id, "succeeded")
    assert done.attempts == 3
    assert done.gateway_reference == "re_fake_00001"
    assert fake_stripe.requests_per_key() == {refund.idempotency_key: 3}
    assert fake_stripe.executions_per_key() == {refund.idempotency_key: 1}
    assert [r["fields"]["amount"] for r in fake_stripe.requests] == ["4200"] * 3
    # The outbox marks its message sent just after the refund's own commit: wait for it.
    wait_until(lambda: OutboxMessage.get(OutboxMessage.kind == "refund").status == "sent", 10)
    assert OutboxMessage.get(OutboxMessage.kind == "refund").attempts == 3
    [event] = events(rma, "refund_succeeded")
    assert event.payload["attempts"] == 3


def test_a_gateway_that_always_fails_leaves_a_failed_refund_a_manager_retries_once(
    ctx, make, celery_worker, fake_stripe, client, auth
):
    _, order, payment = shop(make, gateway="stripe")
    fake_stripe.always_fail = True
    rma, refund = factories.one_refund(order, payment, amount=3300)
    failed = wait_status(refund.id, "failed")
    assert failed.attempts == 4  # OUTBOX_MAX_ATTEMPTS in this app
    assert "500" in failed.last_error
    assert fake_stripe.executions == []
    message = OutboxMessage.get(OutboxMessage.kind == "refund")
    assert message.status == "failed" and "500" in message.last_error
    [event] = events(rma, "refund_failed")
    assert event.internal is False and event.payload["refund_id"] == refund.id

    # staff see it; an agent can't retry it
    agent = make.staff("agent")
    auth(client, agent.email)
    page = client.get("/merchant/operations").get_data(as_text=True)
    assert f'id="refund-{refund.id}"' in page and rma.reference in page and "$33.00" in page
    assert "Retry refund" not in page
    assert client.post(f"/merchant/operations/refunds/{refund.id}/retry").status_code == 403
    assert refund_status(refund.id) == "failed"
    client.post("/logout")

    # a manager retries it once Stripe answers again: the same key, one refund at Stripe
    manager = make.staff("manager")
    auth(client, manager.email)
    assert "Retry refund" in client.get("/merchant/operations").get_data(as_text=True)
    fake_stripe.always_fail = False
    response = client.post(f"/merchant/operations/refunds/{refund.id}/retry")
    assert response.status_code == 302
    done = wait_status(refund.id, "succeeded")
    assert done.idempotency_key == refund.idempotency_key and done.attempts == 5
    assert set(fake_stripe.requests_per_key()) == {refund.idempotency_key}
    assert fake_stripe.executions_per_key() == {refund.idempotency_key: 1}
    # a second retry (double click) changes nothing: the refund is no longer failed
    again = client.post(f"/merchant/operations/refunds/{refund.id}/retry")
    assert again.status_code == 302
    assert fake_stripe.executions_per_key() == {refund.idempotency_key: 1}
    keys = [m.dedupe_key for m in OutboxMessage.select().where(OutboxMessage.kind == "refund")]
    assert keys == [f"refund:{refund.idempotency_key}",
                    f"refund:{refund.idempotency_key}:retry-1"]  # fmt: skip
    assert OutboxMessage.get(OutboxMessage.dedupe_key == keys[0]).status == "superseded"
    assert len(events(rma, "refund_retried")) == 1
    assert events(rma, "refund_retried")[0].actor_id == manager.id


def test_a_permanent_gateway_error_fails_the_refund_at_once(ctx, make, celery_worker,
                                                            fake_stripe):  # fmt: skip
    _, order, payment = shop(make, gateway="stripe")
    fake_stripe.always_fail, fake_stripe.fail_status = True, 402
    rma, refund = factories.one_refund(order, payment)
    failed = wait_status(refund.id, "failed")
    assert failed.attempts == 1 and "refused" in failed.last_error
    wait_until(lambda: OutboxMessage.get(OutboxMessage.kind == "refund").status == "failed", 5)
    assert len(events(rma, "refund_failed")) == 1


def test_a_refund_awaiting_approval_is_not_sent(ctx, make, celery_worker):
    _, order, payment = shop(make)
    with db.atomic():
        rma = factories.make_return(order)
        refund = factories.make_refund(rma, 100, payment=payment, status="awaiting_approval")
        # a stray message for it (e.g. a buggy caller) must not move money
        from portal.outbox.messages import enqueue

        enqueue("refund", {"refund_id": refund.id}, "stray", rma=rma)
    wait_until(lambda: OutboxMessage.get(OutboxMessage.dedupe_key == "stray").status == "sent", 10)
    assert refund_status(refund.id) == "awaiting_approval"
    assert LedgerTransaction.select().count() == 0

"""Stripe's side of a refund (issue 12) against the local fake Stripe (tests/fake_stripe.py) and
a real SMTP server: POST /webhooks/stripe verified with the official library; a late
refund.failed reverses a succeeded refund, emails every manager and admin, shows on the return
page, and a manager retries it (a new key) or gives store credit; the same event three times
acts once; bad signatures and old timestamps change nothing; past the idempotency window a
retry adopts the refund Stripe already has; a pending refund is shown as pending."""

import datetime
import logging
import threading
import time

import pytest

from portal.models import (
    GatewayEvent,
    OutboxMessage,
    Refund,
    ReturnEvent,
    StoreCredit,
    now,
)
from portal.outbox import delivery
from portal.returns import refund_execution
from tests import factories
from tests.apps import close_db, make_app
from tests.fake_stripe import API_KEY
from tests.pages import login

SECRET = "whsec_test_stripe_events"


@pytest.fixture
def app(tmp_path, fake_stripe, smtp_server):
    controller, _ = smtp_server
    app = make_app(tmp_path, STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_stripe.url,
                   STRIPE_TIMEOUT=5, STRIPE_WEBHOOK_SECRET=SECRET, MAIL_SERVER="127.0.0.1",
                   MAIL_PORT=controller.port, MAIL_USE_TLS=False)  # fmt: skip
    yield app
    close_db()


@pytest.fixture
def paid(app):
    """A received return with one Stripe refund sent and succeeded (re_fake_00001)."""
    with app.app_context():
        staff = [factories.staff("manager"), factories.staff("manager"), factories.staff("admin"),
                 factories.staff("agent")]  # fmt: skip
        order, payment = factories.paid_order(5000, "stripe", reference="pi_late")
        rma, refund = factories.one_refund(order, payment, 1500)
        [message] = OutboxMessage.select().where(OutboxMessage.kind == "refund")
        assert delivery.deliver(message.id, app.config) == "sent"
        assert Refund.get_by_id(refund.id).status == "succeeded"
    close_db()
    return rma, Refund.get_by_id(refund.id), staff


def post_event(client, fake, event_type, obj, event_id="evt_1", secret=SECRET, at=None):
    body, header = fake.signed_event(secret, event_type, obj, event_id, at)
    return client.post("/webhooks/stripe", data=body, content_type="application/json",
                       headers={"Stripe-Signature": header})  # fmt: skip


def state(app, refund):
    with app.app_context():
        return Refund.get_by_id(refund.id)


def deliver_emails(app):
    with app.app_context():
        for m in OutboxMessage.select().where(
            (OutboxMessage.kind == "email") & (OutboxMessage.status == "pending")
        ):
            assert delivery.deliver(m.id, app.config) == "sent"


def test_a_late_failure_reverses_the_refund_notifies_staff_and_counts_once(
    app, client, fake_stripe, smtp_server, paid
):
    rma, refund, staff = paid
    _, mailbox = smtp_server
    assert (
        refund.metadata
        if False
        else fake_stripe.created[0]["metadata"]["refund_id"] == str(refund.id)
    )
    failed = fake_stripe.set_status(refund.gateway_reference, "failed", "expired_or_canceled_card")
    for _ in range(3):
        answer = post_event(client, fake_stripe, "refund.failed", failed, "evt_late_1")
        assert answer.status_code == 200
    assert answer.get_json()["message"] == "already applied"
    now_ = state(app, refund)
    assert (now_.status, now_.gateway_status, now_.gateway_reason) == (
        "failed", "failed", "expired_or_canceled_card")  # fmt: skip
    with app.app_context():
        assert GatewayEvent.select().count() == 1
        reversed_ = ReturnEvent.select().where(ReturnEvent.kind == "refund_reversed")
        assert reversed_.count() == 1
        assert reversed_.get().payload["reason"] == "expired_or_canceled_card"
    # Every manager and admin is told, once each, by email through the outbox.
    before = len(mailbox.messages)
    deliver_emails(app)
    told = [m for m in mailbox.parsed()[before:] if "failed" in m["Subject"]]
    assert sorted(m["To"] for m in told) == sorted(s.email for s in staff[:3])
    assert "after it had succeeded" in told[0].get_body(("plain",)).get_content()
    # The return's page shows it, with the manager's two ways out.
    login(client, staff[0].email)
    page = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert "Expired or canceled card" in page or "expired or canceled card" in page
    assert "Give store credit instead" in page and "Retry refund" in page
    # A retry uses a new idempotency key: Stripe makes a second refund for it.
    old_key = now_.idempotency_key
    answer = client.post(f"/merchant/returns/{rma.reference}/refunds/{refund.id}/retry")
    assert answer.status_code in (200, 303)
    retried = state(app, refund)
    assert retried.status == "pending" and retried.idempotency_key != old_key
    with app.app_context():
        [message] = OutboxMessage.select().where(
            (OutboxMessage.kind == "refund") & (OutboxMessage.status == "pending")
        )
        assert delivery.deliver(message.id, app.config) == "sent"
    done = state(app, refund)
    assert done.status == "succeeded" and done.gateway_reference == "re_fake_00002"
    assert fake_stripe.executions == [old_key, retried.idempotency_key]


def test_a_reversed_refund_can_become_store_credit(app, client, fake_stripe, paid):
    rma, refund, staff = paid
    failed = fake_stripe.set_status(refund.gateway_reference, "failed", "lost_or_stolen_card")
    assert post_event(client, fake_stripe, "refund.failed", failed).status_code == 200
    login(client, staff[3].email)  # an agent can't
    assert (
        client.post(
            f"/merchant/returns/{rma.reference}/refunds/{refund.id}/store-credit"
        ).status_code
        == 403
    )
    client.post("/logout")
    login(client, staff[0].email)
    answer = client.post(f"/merchant/returns/{rma.reference}/refunds/{refund.id}/store-credit")
    assert answer.status_code in (200, 303)
    with app.app_context():
        old = Refund.get_by_id(refund.id)
        credit = Refund.get(Refund.method == "store_credit")
        assert (old.status, credit.status, credit.amount) == ("cancelled", "pending", 1500)
        [message] = OutboxMessage.select().where(
            (OutboxMessage.kind == "refund") & (OutboxMessage.status == "pending")
        )
        assert delivery.deliver(message.id, app.config) == "sent"
        assert StoreCredit.get().amount == 1500
        assert Refund.get_by_id(credit.id).status == "succeeded"
    assert len(fake_stripe.executions) == 1  # Stripe was not asked again
    again = client.post(f"/merchant/returns/{rma.reference}/refunds/{refund.id}/store-credit")
    assert again.status_code == 422 and "Only a failed refund" in again.get_data(as_text=True)


def test_the_same_event_three_times_at_once_acts_once(app, fake_stripe, paid):
    _, refund, _ = paid
    failed = fake_stripe.set_status(refund.gateway_reference, "failed", "lost_or_stolen_card")
    answers = []

    def send():
        with app.test_client() as c:
            answers.append(
                post_event(c, fake_stripe, "refund.failed", failed, "evt_race").status_code
            )

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [200, 200, 200]
    with app.app_context():
        assert GatewayEvent.select().count() == 1
        assert ReturnEvent.select().where(ReturnEvent.kind == "refund_reversed").count() == 1
        staff_mails = OutboxMessage.select().where(
            OutboxMessage.dedupe_key.contains(":email:gateway_failed:")
        )
        assert staff_mails.count() == 3  # two managers and the admin, once each


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "old timestamp", "no header", "tampered body"],
)
def test_bad_signatures_and_old_events_are_400_and_change_nothing(app, client, fake_stripe,
                                                                  paid, how):  # fmt: skip
    _, refund, _ = paid
    failed = fake_stripe.set_status(refund.gateway_reference, "failed", "lost_or_stolen_card")
    body, header = fake_stripe.signed_event(SECRET, "refund.failed", failed, "evt_bad")
    if how == "wrong secret":
        body, header = fake_stripe.signed_event("whsec_other", "refund.failed", failed, "evt_bad")
    elif how == "old timestamp":
        body, header = fake_stripe.signed_event(SECRET, "refund.failed", failed, "evt_bad",
                                                at=time.time() - 3600)  # fmt: skip
    elif how == "no header":
        header = ""
    elif how == "tampered body":
        body = body.replace("lost_or_stolen_card", "something_else")
    answer = client.post("/webhooks/stripe", data=body, content_type="application/json",
                         headers={"Stripe-Signature": header})  # fmt: skip
    assert answer.status_code == 400
    assert "Nothing changed" in answer.get_json()["message"]
    assert state(app, refund).status == "succeeded"
    with app.app_context():
        assert GatewayEvent.select().count() == 0


def test_an_unknown_refund_is_logged_and_answered_200(app, client, fake_stripe, paid, caplog,
                                                      monkeypatch):  # fmt: skip
    # A worker started by an earlier test may have configured logging and disabled the loggers
    # that existed then: this one must be heard.
    monkeypatch.setattr(logging.getLogger("portal.returns.gateway_events"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="portal.returns.gateway_events")
    stranger = {"id": "re_not_ours", "object": "refund", "status": "failed", "metadata": {},
                "failure_reason": "lost_or_stolen_card"}  # fmt: skip
    answer = post_event(client, fake_stripe, "refund.failed", stranger, "evt_stranger")
    assert (
        answer.status_code == 200 and "unknown refund re_not_ours" in answer.get_json()["message"]
    )
    assert "unknown refund re_not_ours" in caplog.text
    with app.app_context():
        assert "unknown refund re_not_ours" in GatewayEvent.get().outcome  # recorded, once
    assert state(app, paid[1]).status == "succeeded"
    other = post_event(client, fake_stripe, "customer.created", {"id": "cus_1"}, "evt_other")
    assert (
        other.status_code == 200
        and "not an event the portal acts on" in other.get_json()["message"]
    )


def test_charge_refunded_carries_its_refunds(app, client, fake_stripe, paid):
    _, refund, _ = paid
    failed = fake_stripe.set_status(refund.gateway_reference, "failed", "lost_or_stolen_card")
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_late",
              "refunds": {"object": "list", "data": [failed], "has_more": False}}  # fmt: skip
    assert post_event(client, fake_stripe, "charge.refunded", charge, "evt_ch").status_code == 200
    assert state(app, refund).status == "failed"


def test_a_retry_past_the_key_window_adopts_the_refund_stripe_already_has(app, fake_stripe):
    with app.app_context():
        order, payment = factories.paid_order(5000, "stripe", reference="pi_window")
        _, refund = factories.one_refund(order, payment, 1500)
        fake_stripe.delay = 1.5  # Stripe makes the refund, but answers after we gave up
        conf = {**app.config, "STRIPE_TIMEOUT": 0.5}
        with pytest.raises(Exception, match="unreachable|timed out|Stripe"):
            refund_execution.execute_refund(refund.id, conf)
        first = Refund.get_by_id(refund.id)
        assert first.status == "pending" and first.first_attempted_at is not None
        assert len(fake_stripe.executions) == 1
        fake_stripe.delay = 0
        fake_stripe.forget_keys()  # a day later Stripe no longer knows the key ...
        a_day_ago = now() - datetime.timedelta(hours=25)
        Refund.update(first_attempted_at=a_day_ago).where(Refund.id == refund.id).execute()
        assert refund_execution.execute_refund(refund.id, app.config) == "succeeded"
        done = Refund.get_by_id(refund.id)
        assert done.status == "succeeded" and done.gateway_reference == "re_fake_00001"
        event = ReturnEvent.get(ReturnEvent.kind == "refund_succeeded")
        assert event.payload["adopted"] is True
    assert len(fake_stripe.executions) == 1  # ... and still saw exactly one refund created
    assert [r["method"] for r in fake_stripe.requests if r.get("method")] == ["GET"]


def test_within_the_key_window_the_key_alone_keeps_it_once(app, fake_stripe):
    with app.app_context():
        order, payment = factories.paid_order(5000, "stripe", reference="pi_inside")
        _, refund = factories.one_refund(order, payment, 1500)
        Refund.update(status="processing", attempts=1, first_attempted_at=now(),
                      processing_started_at=now() - datetime.timedelta(hours=1)).execute()  # fmt: skip
        assert refund_execution.execute_refund(refund.id, app.config) == "succeeded"
    assert not [r for r in fake_stripe.requests if r.get("method") == "GET"]


def test_a_pending_refund_is_shown_as_pending_until_stripe_says_succeeded(app, client,
                                                                        fake_stripe):  # fmt: skip
    fake_stripe.refund_status, fake_stripe.pending_reason = "pending", "charge_pending"
    with app.app_context():
        manager = factories.staff("manager")
        order, payment = factories.paid_order(5000, "stripe", reference="pi_slow")
        rma, refund = factories.one_refund(order, payment, 1500)
        assert refund_execution.execute_refund(refund.id, app.config) == "pending at the gateway"
        assert (
            not OutboxMessage.select()
            .where(OutboxMessage.dedupe_key.contains("refund_sent"))
            .exists()
        )
    now_ = state(app, refund)
    assert (now_.status, now_.gateway_status, now_.gateway_reason) == (
        "at_gateway", "pending", "charge_pending")  # fmt: skip
    login(client, manager.email)
    page = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert "Pending at the gateway" in page and "charge pending" in page
    assert ">Succeeded<" not in page
    done = fake_stripe.set_status(now_.gateway_reference, "succeeded")
    assert post_event(client, fake_stripe, "refund.updated", done, "evt_ok").status_code == 200
    assert state(app, refund).status == "succeeded"
    with app.app_context():
        assert (
            OutboxMessage.select().where(OutboxMessage.dedupe_key.contains("refund_sent")).exists()
        )
    # an older "pending" event arriving late changes nothing
    late = {**done, "status": "pending"}
    post_event(client, fake_stripe, "refund.updated", late, "evt_late_pending")
    assert state(app, refund).gateway_status == "succeeded"

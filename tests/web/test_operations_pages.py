"""The staff operations page (outbox and failed refunds, retry for managers), /healthz's outbox
age, and the shopper's account page with their store credit."""

import datetime
import re

import pytest

from portal.db import db
from portal.models import OutboxMessage, Payment, Refund, StoreCredit, now
from portal.outbox.messages import enqueue_email
from tests import factories
from tests.pages import login
from tests.querycount import count_queries


def failed_refund(make, amount=1234):
    order = make.order()
    payment = Payment.get(Payment.order == order.id)
    with db.atomic():
        rma = factories.make_return(order)
        refund = factories.make_refund(rma, amount, payment=payment)
    Refund.update(status="failed", last_error="Stripe error 500: down",
                  attempts=8).where(Refund.id == refund.id).execute()  # fmt: skip
    OutboxMessage.update(status="failed", last_error="gave up").where(
        OutboxMessage.kind == "refund"
    ).execute()
    return rma, refund


@pytest.mark.parametrize("role, status", [(None, 302), ("shopper", 403), ("agent", 200),
                                          ("manager", 200), ("admin", 200)])  # fmt: skip
def test_the_page_is_for_staff(app, client, make, role, status):
    with app.app_context():
        if role:
            user = make.user(role=role) if role == "shopper" else make.staff(role)
            login(client, user.email)
    assert client.get("/merchant/operations").status_code == status


def test_only_managers_retry(app, client, make):
    with app.app_context():
        _, refund = failed_refund(make)
        message = OutboxMessage.get()
        login(client, make.staff("agent").email)
    assert client.post(f"/merchant/operations/refunds/{refund.id}/retry").status_code == 403
    assert client.post(f"/merchant/operations/messages/{message.id}/retry").status_code == 403
    with app.app_context():
        assert Refund.get_by_id(refund.id).status == "failed"


def test_the_page_shows_the_outbox_and_failed_refunds(app, client, make):
    with app.app_context():
        rma, refund = failed_refund(make)
        with db.atomic():
            enqueue_email("refund_sent", "someone@example.com", "waiting-1", rma=rma)
        OutboxMessage.update(created_at=now() - datetime.timedelta(minutes=7)).where(
            OutboxMessage.dedupe_key == "waiting-1"
        ).execute()
        login(client, make.staff("manager").email)
    page = client.get("/merchant/operations").get_data(as_text=True)
    assert '<dd data-testid="outbox-pending">1</dd>' in page
    assert '<dd data-testid="outbox-failed">1</dd>' in page
    assert '<dd data-testid="outbox-oldest">7 min</dd>' in page
    row = re.search(rf'<tr id="refund-{refund.id}">(.*?)</tr>', page, re.S).group(1)
    assert rma.reference in row and "$12.34" in row and "Stripe error 500: down" in row
    assert "Retry refund" in row
    assert 'href="/merchant/operations"' in page  # the staff nav link


def test_the_page_runs_the_same_queries_for_3_or_30_rows(app, client, make):
    with app.app_context():
        login(client, make.staff("manager").email)
        for _ in range(3):
            failed_refund(make)
    with app.app_context(), count_queries() as few:
        client.get("/merchant/operations")
    with app.app_context():
        for _ in range(27):
            failed_refund(make)
    with app.app_context(), count_queries() as many:
        page = client.get("/merchant/operations").get_data(as_text=True)
    assert page.count("Retry refund") == 30
    assert many.count == few.count, many


def test_a_manager_retry_queues_the_refund_again_and_htmx_gets_the_partial(app, client, make):
    with app.app_context():
        rma, refund = failed_refund(make)
        login(client, make.staff("manager").email)
    response = client.post(f"/merchant/operations/refunds/{refund.id}/retry",
                           headers={"HX-Request": "true"})  # fmt: skip
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "queued again with the same idempotency key" in body and "No failed refunds." in body
    with app.app_context():
        again = Refund.get_by_id(refund.id)
        assert again.status == "pending" and again.idempotency_key == refund.idempotency_key
    # a second click: nothing to retry, said clearly, nothing changes
    response = client.post(f"/merchant/operations/refunds/{refund.id}/retry",
                           headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 422
    assert "Only a failed refund can be retried." in response.get_data(as_text=True)
    with app.app_context():
        assert OutboxMessage.select().where(OutboxMessage.kind == "refund").count() == 2


def test_retrying_a_refund_message_retries_the_refund(app, client, make):
    with app.app_context():
        _, refund = failed_refund(make)
        message = OutboxMessage.get(OutboxMessage.kind == "refund")
        login(client, make.staff("manager").email)
    response = client.post(f"/merchant/operations/messages/{message.id}/retry")
    assert response.status_code == 302
    with app.app_context():
        assert Refund.get_by_id(refund.id).status == "pending"
        assert OutboxMessage.get_by_id(message.id).status == "superseded"


def test_unknown_refund_is_404(app, client, make):
    with app.app_context():
        login(client, make.staff("manager").email)
    assert client.post("/merchant/operations/refunds/999/retry").status_code == 404


def test_a_retry_without_a_csrf_token_is_refused_and_changes_nothing(csrf_app, make):
    client = csrf_app.test_client()
    with csrf_app.app_context():
        _, refund = failed_refund(make)
        manager = make.staff("manager")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": manager.email, "password": make.PASSWORD,
                                "csrf_token": token})  # fmt: skip
    response = client.post(f"/merchant/operations/refunds/{refund.id}/retry")
    assert response.status_code == 400
    with csrf_app.app_context():
        assert Refund.get_by_id(refund.id).status == "failed"
    page = client.get("/merchant/operations").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/merchant/operations/refunds/{refund.id}/retry",
                           data={"csrf_token": token})  # fmt: skip
    assert response.status_code == 302
    with csrf_app.app_context():
        assert Refund.get_by_id(refund.id).status == "pending"


def test_the_account_page_shows_the_shoppers_store_credit(app, client, make):
    with app.app_context():
        sam = make.user("sam@example.com")
        jo = make.user("jo@example.com")
        order = make.order(customer=sam)
        with db.atomic():
            rma = factories.make_return(order)
            refund = factories.make_refund(rma, 2500, method="store_credit", status="succeeded")
        StoreCredit.create(customer=sam, email=sam.email, currency="USD", amount=2500,
                           refund=refund, note=f"Refund for return {rma.reference}")  # fmt: skip
        # credit from a guest order placed with the same address counts too
        StoreCredit.create(customer=None, email="SAM@example.com", currency="USD", amount=150,
                           note="Goodwill")  # fmt: skip
        StoreCredit.create(customer=jo, email=jo.email, currency="USD", amount=9999, note="Jo's")
    login(client, "sam@example.com")
    page = client.get("/account").get_data(as_text=True)
    assert "$26.50" in page and rma.reference in page and "Goodwill" in page
    assert "$99.99" not in page and "Jo&#39;s" not in page
    assert 'href="/account"' in page  # the shopper nav link
    client.post("/logout")
    login(client, "jo@example.com")
    assert "$99.99" in client.get("/account").get_data(as_text=True)


def test_the_account_page_needs_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]

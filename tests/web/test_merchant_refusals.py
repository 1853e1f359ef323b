"""Every merchant action is refused with a clear message, and changes nothing, when the state,
the role or the CSRF token does not allow it."""

import re

import pytest

from portal.models import Refund, Return, ReturnEvent, ReturnLine, StockMovement
from portal.returns import finishing, inspection, receiving, refunding, review
from tests import factories, pages
from tests.pages import login


@pytest.fixture
def rma(app, store):
    with app.app_context():
        return factories.create_return(store.order, reason=store.changed_mind)


def snapshot(rma):
    """Everything an action could change on the return."""
    fresh = Return.get_by_id(rma.id)
    lines = [ln.__data__ for ln in ReturnLine.select().where(ReturnLine.rma == rma.id)]
    events = ReturnEvent.select().where(ReturnEvent.rma == rma.id).count()
    return (fresh.__data__, lines, events, Refund.select().count(), StockMovement.select().count())


def refused(response, message, status=422):
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[-2000:]
    alert = re.search(r"role=\"alert\"[^>]*>([^<]*)<", body)
    assert message in body.replace("&#39;", "'"), alert and alert.group(1)


def test_receive_before_approval(app, client, store, rma):
    login(client, store.agent.email)
    before = snapshot(rma)
    refused(pages.act(client, rma.reference, "receive", pages.receive_fields(rma, 1)),
            "Approve this return before receiving its items.")  # fmt: skip
    assert snapshot(rma) == before


def test_refund_more_than_refundable(app, client, store, rma):
    with app.app_context():
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 0)})
        payment = store.order.payments.get()
    login(client, store.manager.email)
    before = snapshot(rma)
    fields = {"destination": "custom", "refund_shipping": "auto", "lines-0-line_id": line.id,
              "split-0-payment_id": payment.id, "split-0-amount": "99.00", "submit": "y"}  # fmt: skip
    refused(pages.act(client, rma.reference, "refund", fields),
            "The card payment can refund at most $35.00 more.")  # fmt: skip
    fields["split-0-amount"] = "10.00"
    refused(
        pages.act(client, rma.reference, "refund", fields),
        "adds up to $10.00, but the refund is $30.00",
    )
    fields.update({"lines-0-override": "40.00", "lines-0-note": "more"})
    refused(
        pages.act(client, rma.reference, "refund", fields),
        "can't exceed what its units were billed",
    )
    assert snapshot(rma) == before


def test_refund_when_the_order_has_nothing_left(app, client, store, rma):
    with app.app_context():
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 0)})
        payment = store.order.payments.get()
        other = factories.create_return(store.order, reason=store.changed_mind, lines=[])
        Refund.create(rma=other, payment=payment, method="card", amount=payment.amount,
                      currency="USD", status="succeeded", idempotency_key="all-of-it")  # fmt: skip
    login(client, store.manager.email)
    html = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert 'id="refund-capped"' in html and "Capped at what is still refundable" in html
    before = snapshot(rma)
    fields = {"destination": "auto", "refund_shipping": "auto", "lines-0-line_id": line.id,
              "submit": "y"}  # fmt: skip
    refused(
        pages.act(client, rma.reference, "refund", fields),
        "Nothing is left to refund on this order",
    )
    assert snapshot(rma) == before


def test_finish_with_a_refund_pending(app, client, store, rma):
    with app.app_context():
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 0)})
        refunding.prepare_refund(rma, store.manager)
    login(client, store.agent.email)
    before = snapshot(rma)
    refused(pages.act(client, rma.reference, "finish"), "A refund is still pending")
    assert snapshot(rma) == before


def test_restocking_damaged_units(app, client, store, rma):
    with app.app_context():
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 2)})
        inspection.inspect(rma, store.agent, {line.id: ("accepted", "")})
    login(client, store.agent.email)
    before = snapshot(rma)
    fields = {"location": store.main.id, "lines-0-line_id": line.id, "lines-0-quantity": 2}
    refused(pages.act(client, rma.reference, "restock", fields),
            "only 1 unit(s) can be restocked (the 2 damaged unit(s) are never restocked as sellable)")  # fmt: skip
    fields = {"location": store.quarantine.id, "lines-0-line_id": line.id, "lines-0-quantity": 1}
    refused(pages.act(client, rma.reference, "restock", fields), "is a quarantine location")
    assert snapshot(rma) == before


def completed(store, rma):
    review.approve(rma, store.manager)
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (3, 0)})
    refunding.prepare_refund(rma, store.manager)
    Refund.update(status="succeeded").execute()
    finishing.finish(rma, store.agent)
    return line


def test_any_change_to_a_completed_return(app, client, store, rma):
    with app.app_context():
        line = completed(store, rma)
    login(client, store.manager.email)
    before = snapshot(rma)
    posts = [
        ("approve", {}), ("reject", {"reason": "x"}), ("cancel", {"reason": "x"}), ("hold", {}),
        ("resume", {}), ("assign", {"responsible": store.agent.id}),
        ("receive", pages.receive_fields(rma, 1)),
        ("inspect", {"lines-0-line_id": line.id, "lines-0-decision": "rejected", "lines-0-note": "x"}),
        ("restock", {"location": store.main.id, "lines-0-line_id": line.id, "lines-0-quantity": 1}),
        ("refund", {"destination": "auto", "refund_shipping": "auto", "submit": "y"}),
        ("finish", {}),
    ]  # fmt: skip
    for action, fields in posts:
        response = pages.act(client, rma.reference, action, fields)
        assert response.status_code == 422, action
        body = response.get_data(as_text=True).replace("&#39;", "'")
        assert "completed" in body and ("locked" in body or "can't" in body), action
    refused(
        pages.act(client, rma.reference, "notes", {"text": "late"}, prefix="note"),
        "completed and locked",
    )
    assert snapshot(rma) == before


def test_an_agent_refunding_gets_a_403_that_says_why(app, client, store, rma):
    with app.app_context():
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 0)})
    login(client, store.agent.email)
    html = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert "Only managers can issue refunds." in html and "Issue refund of" not in html
    before = snapshot(rma)
    fields = {
        "destination": "auto",
        "refund_shipping": "auto",
        "lines-0-line_id": line.id,
        "submit": "y",
    }
    refused(
        pages.act(client, rma.reference, "refund", fields), "Only managers can issue refunds.", 403
    )
    refused(pages.act(client, rma.reference, "approve"), "Only managers can approve", 403)
    refused(client.get("/merchant/settings/policy"), "Only managers can change", 403)
    refused(client.get("/merchant/staff"), "Only admins", 403)
    assert snapshot(rma) == before


MERCHANT_GETS = ["/merchant/returns", "/merchant/returns/{ref}", "/merchant/settings/policy",
                 "/merchant/staff"]  # fmt: skip
MERCHANT_POSTS = ["approve", "reject", "cancel", "hold", "resume", "assign", "notes", "receive",
                  "inspect", "restock", "refund", "refunds/1/approve", "refunds/1/decline",
                  "refunds/1/retry", "finish"]  # fmt: skip


def test_a_shopper_gets_403_on_every_merchant_url(app, client, store, rma):
    login(client, store.shopper.email)
    before = snapshot(rma)
    for url in MERCHANT_GETS:
        assert client.get(url.format(ref=rma.reference)).status_code == 403, url
    for action in MERCHANT_POSTS:
        response = client.post(f"/merchant/returns/{rma.reference}/{action}", data={})
        assert response.status_code == 403, action
    for url in ["/merchant/settings/policy", "/merchant/settings/reasons", "/merchant/staff",
                f"/merchant/staff/{store.agent.id}/deactivate", "/merchant/settings/reasons/1/deactivate"]:  # fmt: skip
        assert client.post(url, data={}).status_code == 403, url
    assert snapshot(rma) == before
    assert store.agent.active


def test_anonymous_visitors_are_sent_to_sign_in(client, rma):
    response = client.get(f"/merchant/returns/{rma.reference}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/merchant/returns/{rma.reference}/approve")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_unknown_return_is_a_404(app, client, store):
    login(client, store.agent.email)
    assert client.get("/merchant/returns/RMA-NOPE").status_code == 404
    assert client.post("/merchant/returns/RMA-NOPE/hold").status_code == 404


def test_a_page_acted_on_by_someone_else_first_is_refused(app, client, store, rma):
    login(client, store.manager.email)
    data = pages.form_data(rma.reference, "approve")  # what the page showed
    with app.app_context():
        review.add_internal_note(rma, store.agent, "meanwhile")
    response = client.post(f"/merchant/returns/{rma.reference}/approve", data=data)
    refused(response, "Someone else changed this return a moment ago")
    assert factories.fresh(rma).status == "requested"


# --- CSRF ------------------------------------------------------------------------------------


def token_from(html):
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_a_missing_csrf_token_is_refused_and_nothing_changes(csrf_app):
    client = csrf_app.test_client()
    with csrf_app.app_context():
        store = factories.store()
        rma = factories.create_return(store.order, reason=store.changed_mind)
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": store.manager.email, "password": factories.PASSWORD,
                                           "csrf_token": token})  # fmt: skip
    assert response.status_code == 302
    before = snapshot(rma)
    response = client.post(f"/merchant/returns/{rma.reference}/approve",
                           data=pages.form_data(rma.reference, "approve"))  # fmt: skip
    assert response.status_code == 400
    response = client.post(f"/merchant/returns/{rma.reference}/approve",
                           data={**pages.form_data(rma.reference, "approve"), "approve-csrf_token": "bogus"})  # fmt: skip
    assert response.status_code == 400
    assert snapshot(rma) == before
    # With the token (as the page's form, or as htmx's header) the same post works.
    page = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    response = client.post(f"/merchant/returns/{rma.reference}/approve",
                           data=pages.form_data(rma.reference, "approve"),
                           headers={"X-CSRFToken": token_from(page), "HX-Request": "true"})  # fmt: skip
    assert response.status_code == 200
    assert factories.fresh(rma).status == "approved"

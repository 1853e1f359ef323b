"""The shopper's emails: written to the outbox with the change, sent by a real Celery worker
through a real SMTP server (aiosmtpd), HTML and plain text from templates (each template
rendered on its own: tests/domain/test_email_templates.py)."""

import email
import email.policy
import re

import pytest

from portal.db import db
from portal.returns.requests import cancel_return, request_return
from tests import factories
from tests.apps import make_app


@pytest.fixture
def app(tmp_path, redis_url, smtp_server):
    """The app, sending mail to the test SMTP server (the worker uses this app too)."""
    controller, _ = smtp_server
    app = make_app(tmp_path, redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                   STAFF_EMAIL="team@example.com")  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


def parsed(messages):
    return [email.message_from_string(raw, policy=email.policy.default) for _, _, raw in messages]


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_request_and_approval_emails_arrive(app, make, celery_worker, smtp_server):
    _, mailbox = smtp_server
    with app.app_context(), db.connection_context():
        reasons = factories.reasons()
        make.policy(auto_approve="always", return_address="Returns Dept\n9 Dock Street\nHarbour")
        user, order, lines = factories.shop()
        rma = request_return(order, user, user.email,
                             [(lines["TEE-M"].id, 2, reasons["fit_small"].id, "", ())],
                             staff_email=app.config["STAFF_EMAIL"])  # fmt: skip
        reference = rma.reference
    messages = parsed(mailbox.wait_for(3, timeout=30))
    by_subject = {m["Subject"]: m for m in messages}
    assert set(by_subject) == {
        f"We received your return request {reference}",
        f"New return {reference} for order #R-1001",
        f"Your return {reference} is approved: here is what to do next",
    }
    confirmation = by_subject[f"We received your return request {reference}"]
    assert confirmation["To"] == "sam@example.com"
    text, html = parts(confirmation)
    assert "2 x Classic tee (Too small)" in text and "Estimated refund: $48.00" in text
    assert f"/returns/{reference}" in text
    assert reference in html and "Follow your return" in html and "$48.00" in html

    staff = by_subject[f"New return {reference} for order #R-1001"]
    assert staff["To"] == "team@example.com"
    assert f"/merchant/returns/{reference}" in parts(staff)[0]

    approved = by_subject[f"Your return {reference} is approved: here is what to do next"]
    text, html = parts(approved)
    assert f"Write {reference} clearly on the parcel." in text
    assert "Returns Dept\n9 Dock Street\nHarbour" in text.replace("\r\n", "\n")
    assert "9 Dock Street" in html and "white-space:pre-line" in html


def test_the_guest_link_email_opens_the_order(app, make, celery_worker, smtp_server):
    _, mailbox = smtp_server
    with app.app_context(), db.connection_context():
        make.order(email="pat@example.net", number="G-100")
    client = app.test_client()
    client.post("/lookup", data={"number": "G-100", "email": "pat@example.net"})
    (message,) = parsed(mailbox.wait_for(1, timeout=30))
    assert message["To"] == "pat@example.net"
    assert message["Subject"] == "Your link to order #G-100"
    text, html = parts(message)
    link = re.search(r"http://localhost(/guest/\S+)", text).group(1)
    assert link in html and "works once and for 24 hours" in text
    browser = app.test_client()
    assert browser.post(link).status_code == 303
    assert "Order #G-100" in browser.get("/orders/G-100").get_data(as_text=True)


def test_the_cancel_email_arrives(app, make, celery_worker, smtp_server):
    _, mailbox = smtp_server
    with app.app_context(), db.connection_context():
        reasons = factories.reasons()
        user, order, lines = factories.shop()
        rma = request_return(order, user, user.email,
                             [(lines["CAP"].id, 1, reasons["changed_mind"].id)])  # fmt: skip
        cancel_return(rma, user)
    messages = parsed(mailbox.wait_for(2, timeout=30))
    cancelled = [m for m in messages if m["Subject"] == f"Your return {rma.reference} is cancelled"]
    assert len(cancelled) == 1
    assert "nothing to send" in parts(cancelled[0])[0]

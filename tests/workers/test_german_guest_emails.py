"""A German guest (no account: the browser asks for German) withdraws from a contract through
the emailed link (sent in German too): the acknowledgment a real Celery worker sends through a real SMTP server
(aiosmtpd) is German (the law's statement, date and time in the store's time zone formatted
for German); so is the approval a manager (in English) causes later, from the language kept on
the return (Return.locale, migration 0017). Staff's email stays English (issue 16)."""

import re

import pytest

from portal.db import db
from portal.models import OutboxMessage, Return, User
from portal.returns import review
from tests import factories
from tests.apps import make_app

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


@pytest.fixture
def app(tmp_path, redis_url, smtp_server):
    controller, _ = smtp_server
    app = make_app(tmp_path, redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                   STAFF_EMAIL="team@example.com")  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


def fields(html):
    return dict(re.findall(r'name="(lines-\d+-\w+|version)" value="(\d*)"', html))


def test_a_german_guest_reads_the_acknowledgment_and_the_approval_in_german(
    app, make, celery_worker, smtp_server
):
    _, mailbox = smtp_server
    with app.app_context(), db.connection_context():
        make.policy(timezone="Europe/Berlin")
        make.order(email="pat@example.net", number="G-1", lines=[factories.TEE])
    client = app.test_client()
    assert client.post("/withdraw", headers=GERMAN,
                       data={"number": "G-1", "email": "pat@example.net"}).status_code == 200  # fmt: skip
    with app.app_context(), db.connection_context():
        (link,) = [m.payload["context"]["link"] for m in OutboxMessage.select()
                   if m.payload.get("template") == "guest_link"]  # fmt: skip
    path = link.split("localhost", 1)[1]
    (sent,) = mailbox.wait_for_match(lambda m: m["To"] == "pat@example.net")
    assert sent["Subject"] == "Ihr Link zum Widerruf der Bestellung #G-1"  # the guest's language
    assert client.post(path, headers=GERMAN).status_code == 303
    step_one = client.get("/orders/G-1/withdraw", headers=GERMAN).get_data(as_text=True)
    confirm = client.post("/orders/G-1/withdraw", headers=GERMAN, data=fields(step_one))
    response = client.post("/orders/G-1/withdraw/confirm", headers=GERMAN,
                           data=fields(confirm.get_data(as_text=True)))  # fmt: skip
    assert response.status_code == 303
    tracking = client.get(response.headers["Location"], headers=GERMAN).get_data(as_text=True)
    assert "Widerruf eingegangen" in tracking  # the shopper's timeline
    with app.app_context(), db.connection_context():
        rma = Return.get(Return.kind == "withdrawal")
        assert rma.locale == "de" and rma.requested_by is None
        assert User.get_or_none(User.email == "pat@example.net") is None  # a guest
        reference = rma.reference

    (ack,) = mailbox.wait_for_match(lambda m: m["To"] == "pat@example.net"
                                    and reference in m["Subject"])  # fmt: skip
    assert ack["To"] == "pat@example.net"
    assert ack["Subject"] == f"Ihr Widerruf zur Bestellung #G-1 ist eingegangen ({reference})"
    text = ack.get_body(("plain",)).get_content()
    assert ("Hiermit widerrufe ich den von mir abgeschlossenen Vertrag über den Kauf der "
            "folgenden Waren:") in text  # fmt: skip
    assert "3 x Classic tee" in text
    # date and time in the store's zone, German: "1. Dezember 2026, 15:04 MEZ"
    at = re.search(r"Datum und Uhrzeit: (\d{1,2}\. \w+ \d{4}, \d\d:\d\d (MEZ|MESZ|\S+))", text)
    assert at, text
    assert re.search(r"Bestellung #G-1, bestellt am \d{1,2}\. \w+ \d{4}, erhalten am", text)
    assert "Diese E-Mail ist Ihre Eingangsbestätigung." in text
    assert "We received" not in text and "Your statement" not in text
    html = ack.get_body(("html",)).get_content()
    assert '<html lang="de">' in html and "Ihren Widerruf verfolgen" in html

    with app.app_context(), db.connection_context():
        review.approve(Return.get(Return.reference == reference), factories.staff())
    approved = mailbox.wait_for_match(lambda m: m["To"] == "pat@example.net"
                                      and "genehmigt" in m["Subject"])  # fmt: skip
    assert approved[0]["Subject"].startswith(f"Ihre Rücksendung {reference} ist genehmigt")
    assert "So geht es weiter" in approved[0].get_body(("plain",)).get_content()
    staff = mailbox.wait_for_match(lambda m: m["To"] == "team@example.com")
    assert "New return" in staff[0]["Subject"]  # staff's address has no account: English

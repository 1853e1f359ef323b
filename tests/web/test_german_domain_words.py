"""The domain's sentences built with values (portal.returns.marks.N_ phrases) reach a German
shopper in German, values formatted for German: why a line can't be returned, what happens
next on the tracking page, and the refusals of the request and cancel forms (issue 16)."""

import datetime
import re

from portal.db import db
from portal.models import Return, ReturnLine
from portal.returns.requests import request_return
from tests import factories
from tests.pages import PASSWORD

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def login(client, email):
    """Signed in from a German browser: the account keeps German."""
    response = client.post("/login", data={"email": email, "password": PASSWORD}, headers=GERMAN)
    assert response.status_code == 302


def german_page(client, path):
    response = client.get(path, headers=GERMAN)
    assert response.status_code == 200, path
    return text(response.get_data(as_text=True))


def test_why_a_line_cannot_be_returned_is_german(app, client, make, sam):
    with app.app_context():
        reasons = factories.reasons()
        _, order, lines = factories.shop(email="x@example.com")
        order.customer = sam
        order.save()
        request_return(order, sam, sam.email, [(lines["CAP"].id, 1, reasons["changed_mind"].id)])
        make.order(customer=sam, number="OLD-1", days_ago=45)
        db.close()
    login(client, "sam@example.com")
    plain = german_page(client, "/orders/R-1001")
    assert "Vom Umtausch ausgeschlossen: Dieser Artikel kann nicht zurückgegeben werden." in plain
    assert "Er ist schon zurückgeschickt oder in einer Rücksendeanfrage." in plain
    assert "Final sale" not in plain and "already returned" not in plain
    old = german_page(client, "/orders/OLD-1")
    closed = re.search(r"Die Rückgabefrist endete am (\S+) \(30 Tage ab Lieferung\)\.", old)
    assert closed and re.fullmatch(r"\d\d\.\d\d\.\d{4}", closed.group(1)), old


def test_what_happens_next_is_german(app, client, make, sam):
    with app.app_context():
        reasons = factories.reasons()
        make.policy(return_address="Retouren\nLagerweg 1\nBerlin")
        _, order, lines = factories.shop(email="x@example.com")
        order.customer = sam
        order.save()
        rma = request_return(order, sam, sam.email,
                             [(lines["TEE-M"].id, 2, reasons["fit_small"].id)])  # fmt: skip
        db.close()
    login(client, "sam@example.com")
    path = f"/returns/{rma.reference}"
    plain = german_page(client, path)
    assert "Wir prüfen Ihre Anfrage und schreiben Ihnen, sobald sie genehmigt ist." in plain

    with app.app_context():
        Return.update(status="approved", target_date=datetime.date(2026, 12, 24)).where(
            Return.id == rma.id
        ).execute()
        db.close()
    plain = german_page(client, path)
    assert (f"Schicken Sie das Paket an Retouren, Lagerweg 1, Berlin und schreiben Sie "
            f"{rma.reference} darauf.") in plain  # fmt: skip
    assert "Bitte schicken Sie es so, dass es bis 24.12.2026 bei uns ankommt." in plain

    with app.app_context():
        Return.update(status="received").where(Return.id == rma.id).execute()
        ReturnLine.update(received_quantity=2).where(ReturnLine.rma == rma.id).execute()
        current = Return.get_by_id(rma.id)
        factories.make_refund(current, 4800, current.order.payments.get(), status="succeeded")
        db.close()
    plain = german_page(client, path)
    assert "Wir haben alle 2 Artikel erhalten." in plain
    assert re.search(r"Wir haben 48,00 (\$|€) erstattet\.", plain), plain
    assert "We refunded" not in plain


def test_the_forms_refusals_are_german(app, client, make, sam):
    with app.app_context():
        reasons = factories.reasons()
        _, order, lines = factories.shop(email="x@example.com")
        order.customer = sam
        order.save()
        rma = request_return(order, sam, sam.email,
                             [(lines["TEE-M"].id, 1, reasons["fit_small"].id)])  # fmt: skip
        Return.update(status="cancelled").where(Return.id == rma.id).execute()
        db.close()
    login(client, "sam@example.com")
    response = client.post(f"/returns/{rma.reference}/cancel", headers=GERMAN,
                           follow_redirects=True)  # fmt: skip
    plain = text(response.get_data(as_text=True))
    assert "Eine Rücksendung im Status „storniert“ kann nicht storniert werden." in plain

    response = client.post("/orders/R-1001/return", headers=GERMAN, data={
        "lines-0-order_line_id": lines["TEE-M"].id, "lines-0-quantity": 9,
        "lines-0-reason": reasons["fit_small"].id, "resolution": "refund"})  # fmt: skip
    assert response.status_code == 422
    plain = text(response.get_data(as_text=True))
    assert "Nur noch 3 von “Classic tee” können zurückgegeben werden (Sie haben 9 angegeben)." in (
        plain.replace("&quot;", '"')
    ), plain


def test_a_broken_guest_link_and_a_bad_tracking_number_are_refused_in_german(app, client, sam):
    response = client.get("/guest/not-a-token", headers=GERMAN)
    assert response.status_code == 410
    assert "Dieser Link ist nicht gültig. Fordern Sie unten einen neuen an." in text(
        response.get_data(as_text=True)
    )
    with app.app_context():
        reasons = factories.reasons()
        _, order, lines = factories.shop(email="x@example.com")
        order.customer = sam
        order.save()
        rma = request_return(order, sam, sam.email,
                             [(lines["TEE-M"].id, 1, reasons["fit_small"].id)])  # fmt: skip
        db.close()
    login(client, "sam@example.com")
    response = client.post(f"/returns/{rma.reference}/tracking", headers=GERMAN,
                           data={"carrier": "DHL", "tracking_number": "12345"})  # fmt: skip
    assert response.status_code == 422
    assert "Eine Sendungsnummer kann angegeben werden, sobald die Rücksendung genehmigt ist" in (
        text(response.get_data(as_text=True))
    )

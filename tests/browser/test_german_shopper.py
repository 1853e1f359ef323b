"""A German-speaking shopper (the browser asks for German: Accept-Language de) requests a return
in headless Chromium and reads everything in German: the pages, the reasons (staff's German
labels), money and dates, and the emails a real Celery worker sends from the outbox to the test
SMTP server: the confirmation at once, and the approval a manager's action causes later (the
language was kept on the account at sign-in). Issue 16, "Done when"."""

import re

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import Order, OrderLine, Return, User
from portal.returns import review
from portal.seed import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a live server, Chromium and a worker
DEMO_ORDERS = 20
GERMAN_MONEY = re.compile(r"\d+,\d\d\xa0(€|\$|£|CHF)")


@pytest.fixture
def app(demo_app):
    return demo_app


def test_a_german_shopper_returns_and_reads_the_emails_in_german(
    app, live_server, celery_worker, smtp_server, browser, artifacts_dir
):
    _, mailbox = smtp_server
    number = str(100000 + DEMO_ORDERS)  # the demo shopper's recent, returnable order
    with app.app_context(), db.connection_context():
        first = Order.get(Order.number == number).lines.order_by(OrderLine.id).first()
    page = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844}).new_page()

    page.goto(f"{live_server}/login")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_label("E-Mail").fill("shopper@example.com")
    page.get_by_label("Passwort").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Meine Bestellungen")).to_be_visible()
    with app.app_context(), db.connection_context():
        assert User.by_email("shopper@example.com").locale == "de"  # kept from the browser

    page.get_by_role("link", name=f"Bestellung #{number}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Bestellung #{number}")).to_be_visible()
    page.get_by_role("link", name="Rücksendung anfragen").click()
    expect(page.get_by_role("heading", name=f"Artikel aus Bestellung #{number} zurückgeben"))\
        .to_be_visible()  # fmt: skip
    page.locator("#lines-0-reason_parent").wait_for()  # htmx's nested picker
    page.get_by_label(f"Wie viele zurückgeben von {first.title}").fill("1")
    page.get_by_label(f"Grund für die Rückgabe von {first.title}").select_option(
        label="Passt nicht"
    )
    page.locator("#lines-0-reason").select_option(label="Zu klein")  # staff's German label
    page.get_by_role("button", name="Rücksendung prüfen").click()
    panel = page.locator("#review-panel")
    expect(panel.get_by_text("Voraussichtliche Erstattung")).to_be_visible()
    total = panel.locator("#estimate .total dd").inner_text()
    assert GERMAN_MONEY.search(total), total  # "12,34 €": a decimal comma
    page.screenshot(path=str(artifacts_dir / "german-return-form.png"), full_page=True)
    page.get_by_role("button", name="Rücksendung absenden").click()

    page.wait_for_url(re.compile(r"/returns/RMA-\d{4}-\d{5}$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name=f"Rücksendung {reference}")).to_be_visible()
    expect(page.locator(".flash-success")).to_contain_text(f"Rücksendung {reference} angefragt.")
    expect(page.locator("#return-status")).to_have_text("Angefragt")
    expect(page.get_by_text("Rücksendung angefragt")).to_be_visible()  # the timeline
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts_dir / "german-return-tracking.png"), full_page=True)

    received = mailbox.wait_for_match(
        lambda m: m["To"] == "shopper@example.com" and reference in m["Subject"]
    )
    assert received[0]["Subject"] == f"Wir haben Ihre Rücksendeanfrage {reference} erhalten"
    text = received[0].get_body(("plain",)).get_content()
    assert "Hallo," in text and "Zu klein" in text and "Voraussichtliche Erstattung:" in text
    assert total.replace("\xa0", " ") in text.replace("\xa0", " ")
    html = received[0].get_body(("html",)).get_content()
    assert '<html lang="de">' in html and "Rücksendung verfolgen" in html

    # A manager (in English) approves: the shopper's email is still German.
    with app.app_context(), db.connection_context():
        manager = User.by_email("manager@example.com")
        review.approve(Return.get(Return.reference == reference), manager)
    approved = mailbox.wait_for_match(
        lambda m: (
            m["To"] == "shopper@example.com"
            and reference in m["Subject"]
            and "genehmigt" in m["Subject"]
        )
    )
    assert approved[0]["Subject"].startswith(f"Ihre Rücksendung {reference} ist genehmigt")
    assert "So geht es weiter" in approved[0].get_body(("plain",)).get_content()

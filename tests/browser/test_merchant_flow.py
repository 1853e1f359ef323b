"""The merchant workflow in headless Chromium, against the live app with a real Celery worker
(it carries out the refund through the outbox) and a test SMTP server.

1. A demo manager finds the return a shopper just made by searching its reference, approves it,
   receives 2 of 3 units with 1 damaged, restocks the good one, issues the refund and finishes;
   the shopper's tracking page then shows each step.
2. A parcel that arrives as expected goes from requested to completed in at most 8 clicks on
   the detail page, without leaving it and without typing."""

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import Order, OrderLine, Refund, Return, ReturnLine, ReturnReason, StockLevel
from portal.seed import DEMO_PASSWORD
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a live server, Chromium and a worker
DEMO_ORDERS = 12
MAX_CLICKS = 8


@pytest.fixture
def app(demo_app):
    return demo_app


def shoppers_return(app, lines=None):
    """The return the demo shopper just made on their recent order (3 units of the first line)."""
    with app.app_context(), db.connection_context():
        order = Order.get(Order.number == str(100000 + DEMO_ORDERS))
        first = list(order.lines.order_by(OrderLine.id))[0]
        reason = ReturnReason.get(ReturnReason.code == "fit_small")
        rma = factories.create_return(order, lines=lines or [(first, 3, reason)], reason=reason)
        return rma.reference, first


def sign_in(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_manager_processes_a_shoppers_return(app, live_server, celery_worker, smtp_server,
                                               page, artifacts_dir):  # fmt: skip
    _, mailbox = smtp_server
    reference, first = shoppers_return(app)

    sign_in(page, live_server, "manager@example.com")
    expect(page.get_by_role("heading", name="Returns queue")).to_be_visible()
    # Typing before htmx has processed the page sends no request (nothing listens yet).
    page.wait_for_load_state("load")
    page.wait_for_function("window.htmx !== undefined && document.readyState === 'complete'")
    page.get_by_label("Search").fill(reference)  # htmx filters the list as the manager types
    expect(page).to_have_url(f"{live_server}/merchant/returns?q={reference}")
    expect(page.locator("#queue-results tbody tr")).to_have_count(1)
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=f"Return {reference}")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text(f"Return {reference} approved.")).to_be_visible()

    page.get_by_label(f"Received: {first.title}").fill("2")
    page.get_by_label(f"Damaged: {first.title}").fill("1")
    page.get_by_role("button", name="Record receipt").click()
    expect(page.get_by_text("Receipt recorded: 2 unit(s) received.")).to_be_visible()

    # The damaged unit needs a decision; accept is the default.
    page.get_by_role("button", name="Save inspection").click()
    expect(page.get_by_text("Inspection saved.")).to_be_visible()

    expect(page.get_by_label(f"Restock: {first.title}")).to_have_value("1")
    page.get_by_role("button", name="Restock", exact=True).click()
    expect(page.get_by_text("Restocked 1 unit(s).")).to_be_visible()

    page.get_by_role("button", name="Issue refund of").click()
    # The confirmation step (htmx swaps it in): the amount per payment, then "Confirm refund".
    expect(page.locator("#refund-confirm-payments")).to_be_visible()
    page.get_by_role("button", name="Confirm refund of").click()
    expect(page.get_by_text("created; it is being sent.")).to_be_visible()
    # The worker carries the refund out; the page polls and offers "finish" once it has.
    page.get_by_role("button", name="Finish return").click(timeout=30000)
    expect(page.get_by_text(f"Return {reference} completed and locked.")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # never left the page
    page.screenshot(path=str(artifacts_dir / "merchant-return-completed.png"), full_page=True)

    with app.app_context(), db.connection_context():
        rma = Return.get(Return.reference == reference)
        line = ReturnLine.get(ReturnLine.rma == rma.id)
        assert rma.status == "completed"
        assert (line.received_quantity, line.damaged_quantity, line.restocked_quantity) == (2, 1, 1)
        [refund] = list(Refund.select().where(Refund.rma == rma.id))
        assert refund.status == "succeeded" and refund.amount == 2 * first.unit_total
        assert StockLevel.select().where(StockLevel.sku == first.sku).count() >= 1

    received = mailbox.wait_for_match(
        lambda m: m["Subject"] == f"We received items of your return {reference}"
    )
    assert len(received) == 1, [m["Subject"] for m in mailbox.parsed()]

    # The shopper's tracking page tells the story.
    shopper = page.context.browser.new_page()
    sign_in(shopper, live_server, "shopper@example.com")
    shopper.goto(f"{live_server}/returns/{reference}")
    for step in ["Return approved", "Items received", "Refund sent", "Return completed"]:
        expect(shopper.get_by_text(step, exact=True).first).to_be_visible()
    # the staff's working steps stay on the staff page (issue 16: the shopper's own steps)
    for step in ["Items inspected", "Items restocked", "Refund prepared",
                 "Units not received were released"]:  # fmt: skip
        expect(shopper.get_by_text(step, exact=True)).to_have_count(0)
    shopper.screenshot(path=str(artifacts_dir / "shopper-tracking-after-merchant.png"),
                       full_page=True)  # fmt: skip
    shopper.close()


def test_an_expected_parcel_takes_at_most_eight_clicks(app, live_server, celery_worker, page):
    reference, _ = shoppers_return(app)
    sign_in(page, live_server, "manager@example.com")
    page.goto(f"{live_server}/merchant/returns/{reference}")
    page.evaluate("window.__sameDocument = true")
    clicks = 0

    def click(name, **kw):
        nonlocal clicks
        clicks += 1
        page.get_by_role("button", name=name, **kw).click(timeout=30000)

    click("Approve")
    expect(page.get_by_role("button", name="Record receipt")).to_be_visible()
    click("Record receipt")  # prefilled with every outstanding unit, accepted on receipt
    expect(page.get_by_role("button", name="Restock", exact=True)).to_be_visible()
    click("Restock", exact=True)  # prefilled with the restockable units, default location
    expect(page.get_by_text("Restocked 3 unit(s).")).to_be_visible()
    click("Issue refund of")  # prefilled with the calculated refund
    click("Confirm refund of")  # the confirmation step with the amount per payment
    click("Finish return")  # appears once the worker has sent the refund
    expect(page.get_by_text(f"Return {reference} completed and locked.")).to_be_visible()

    assert clicks <= MAX_CLICKS, clicks
    assert page.url == f"{live_server}/merchant/returns/{reference}"
    assert page.evaluate("window.__sameDocument") is True
    with app.app_context(), db.connection_context():
        assert Return.get(Return.reference == reference).status == "completed"

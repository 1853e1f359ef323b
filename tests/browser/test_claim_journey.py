"""A claim for an item missing from the parcel, in headless Chromium with a worker: the demo
shopper reports it from the order page and asks for a replacement; a manager approves it; there
is nothing to send back (no receipt: the claim is settled at approval); the agent ships the
replacement from the fulfilment list; the shopper sees "Replacement shipped" with the tracking
number and has the email."""

import re

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import ExchangeOrder, Order, OrderLine, Return, ReturnLine, StockMovement
from tests.browser.conftest import person

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEMO_ORDERS = 12


@pytest.fixture
def app(demo_app):
    return demo_app


def test_a_claim_for_a_missing_item_ships_a_replacement(app, live_server, celery_worker,
                                                        smtp_server, browser, artifacts_dir):  # fmt: skip
    _, mailbox = smtp_server
    number = str(100000 + DEMO_ORDERS)
    with app.app_context(), db.connection_context():
        hoodie = (OrderLine.select().join(Order)
                  .where((Order.number == number) & (OrderLine.sku == "HOODIE-ZIP-M-GREY")).get())  # fmt: skip

    # 1. The shopper reports the hoodie missing and asks for a replacement, on a phone.
    shopper = person(browser, live_server, "shopper@example.com", viewport=(390, 844))
    shopper.goto(f"{live_server}/orders/{number}")
    shopper.get_by_role("link", name=re.compile("Report a problem")).click()
    expect(
        shopper.get_by_role("heading", name=f"Report a problem with order #{number}")
    ).to_be_visible()
    shopper.locator("#lines-0-reason_parent").wait_for()
    shopper.get_by_label(f"How many to return of {hoodie.title}").fill("1")
    shopper.get_by_label(f"Reason for returning {hoodie.title}").select_option(
        label="Missing from the parcel (note needed)"
    )
    shopper.get_by_label(f"Note about {hoodie.title}").fill("It wasn't in the box.")
    shopper.get_by_label(f"Refund or replacement for {hoodie.title}").select_option(
        str(hoodie.product_variant_id)
    )
    shopper.get_by_role("button", name="Review claim").click()
    panel = shopper.locator("#review-panel")
    expect(panel).to_contain_text("You keep it: nothing to send back.")
    expect(panel.locator("#amount-due-none")).to_have_text("It costs you nothing.")
    shopper.screenshot(path=str(artifacts_dir / "claim-1-review.png"), full_page=True)
    shopper.get_by_role("button", name="Submit claim").click()
    shopper.wait_for_url(re.compile(r"/returns/RMA-\d{4}-\d{5}$"))
    reference = shopper.url.rsplit("/", 1)[1]
    expect(shopper.locator("main")).to_contain_text("There is nothing to send back.")

    # 2. A manager approves it: settled at once, no parcel to wait for.
    manager = person(browser, live_server, "manager@example.com")
    manager.goto(f"{live_server}/merchant/returns?status=claims")
    manager.get_by_role("link", name=reference).click()
    manager.get_by_role("button", name="Approve").click()
    expect(manager.get_by_text(f"Return {reference} approved.")).to_be_visible()
    actions = manager.locator(".action-list")
    expect(actions).to_have_attribute("data-actions", re.compile(r"\bship_exchange\b"))
    expect(actions).not_to_have_attribute("data-actions", re.compile(r"\breceive\b"))

    # 3. The agent ships the replacement from the fulfilment list.
    agent = person(browser, live_server, "agent@example.com")
    agent.goto(f"{live_server}/merchant/fulfilment")
    row = agent.locator(".fulfilment-row", has_text=f"{reference}-X1")
    expect(row).to_contain_text("Claim")
    row.get_by_label("Carrier").fill("UPS")
    row.get_by_label("Tracking number").fill("1Z999AA10123456784")
    row.get_by_role("button", name=f"Mark {reference}-X1 shipped").click()
    expect(agent.get_by_text(f"{reference}-X1 shipped with UPS")).to_be_visible()

    # 4. The shopper sees it, and has the email.
    shopper.goto(f"{live_server}/returns/{reference}")
    expect(shopper.locator("#return-status")).to_have_text("Replacement shipped")
    expect(shopper.locator("#exchange")).to_contain_text("1Z999AA10123456784")
    shopper.screenshot(path=str(artifacts_dir / "claim-2-shipped.png"), full_page=True)
    width = shopper.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    [mail] = mailbox.wait_for_match(
        lambda m: (
            m["To"] == "shopper@example.com"
            and m["Subject"] == f"Your replacement for return {reference} is on its way"
        )
    )
    assert (
        "Tracking number: 1Z999AA10123456784"
        in mail.get_body(preferencelist=("plain",)).get_content()
    )

    with app.app_context(), db.connection_context():
        rma = Return.get(Return.reference == reference)
        line = ReturnLine.get(ReturnLine.rma == rma.id)
        assert (rma.kind, line.kept, line.received_quantity, line.restocked_quantity) == (
            "claim", True, 1, 0)  # fmt: skip
        assert ExchangeOrder.get(ExchangeOrder.rma == rma.id).status == "shipped"
        moves = [(m.sku, m.quantity, m.reason) for m in StockMovement.select()
                 .where(StockMovement.return_line_id == line.id)]  # fmt: skip
        assert moves == [(hoodie.sku, -1, "exchange")]  # out for the replacement; nothing came in

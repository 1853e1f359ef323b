"""A return staff create, in headless Chromium with a worker: a manager finds the shopper's order
from the staff order view and creates a return for two lines (one a part of a bundle), adds a
$5.00 repair fee, creates a location; the agent receives and restocks into it; the manager
refunds, the worker settles it, the return is finished; the shopper sees the return, the fee
and the final amount on their tracking page and in the "complete" email."""

import re

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import InventoryLocation, OrderLine, Refund, Return, StockMovement
from tests.browser.conftest import person

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEMO_ORDERS = 12


@pytest.fixture
def app(demo_app):
    return demo_app


def test_a_manager_creates_a_return_for_a_shopper(app, live_server, celery_worker, smtp_server,
                                                  browser, artifacts_dir):  # fmt: skip
    _, mailbox = smtp_server
    number = str(100000 + DEMO_ORDERS)  # the demo shopper's recent order, with a gift set
    with app.app_context(), db.connection_context():
        lines = list(OrderLine.select().join(OrderLine.order.rel_model)
                     .where(OrderLine.order.rel_model.number == number).order_by(OrderLine.id))  # fmt: skip
        first = next(ln for ln in lines if ln.bundle_id is None and not ln.components.exists())
        mug = next(ln for ln in lines if ln.sku == "MUG-STONE")
    expected = first.unit_total + mug.unit_total - 500  # shopper's choice: no fee, no shipping

    # The manager finds the order and creates the return for the shopper.
    manager = person(browser, live_server, "manager@example.com")
    manager.goto(f"{live_server}/merchant/orders")
    manager.get_by_label("Order number, email or name").fill("shopper@example.com")
    manager.get_by_role("button", name="Search").click()
    manager.get_by_role("link", name=number, exact=True).click()
    expect(manager.get_by_role("heading", name=re.compile(f"Order #?{number}"))).to_be_visible()
    manager.get_by_label(f"How many to return of {first.title}").fill("1")
    manager.get_by_label(f"Reason for returning {first.title}").select_option(
        label="I changed my mind"
    )
    manager.get_by_label(f"How many to return of {mug.title}").fill("1")
    manager.get_by_label(f"Reason for returning {mug.title}").select_option(
        label="I changed my mind"
    )
    manager.get_by_role("button", name="Create the return").click()
    expect(manager.get_by_text(re.compile(r"created for shopper@example.com"))).to_be_visible()
    reference = re.search(r"/merchant/returns/(RMA-[\w-]+)$", manager.url).group(1)
    expect(manager.locator("h1")).to_contain_text("Approved")

    # A $5.00 repair fee, and a new location to restock into.
    manager.get_by_label("Description (the shopper reads it)").fill("Repair fee")
    manager.get_by_label("Kind").select_option("charge")
    manager.get_by_label("Amount").fill("5.00")
    manager.get_by_role("button", name="Add extra line").click()
    expect(manager.get_by_text("Extra line “Repair fee” added.")).to_be_visible()
    manager.goto(f"{live_server}/merchant/settings/locations")
    manager.get_by_label("Name").last.fill("Back room")
    manager.get_by_role("button", name="Add location").click()
    expect(manager.get_by_text(re.compile("Back room"))).not_to_have_count(0)

    # The agent receives both units and restocks them into the new location.
    agent = person(browser, live_server, "agent@example.com")
    agent.goto(f"{live_server}/merchant/returns/{reference}")
    agent.get_by_role("button", name="Record receipt").click()
    expect(agent.get_by_text("Receipt recorded: 2 unit(s) received.")).to_be_visible()
    agent.get_by_label("Restock into").select_option(label="Back room (BACK-ROOM)")
    agent.get_by_role("button", name="Restock", exact=True).click()
    expect(agent.get_by_text("Restocked 2 unit(s).")).to_be_visible()
    agent.screenshot(path=str(artifacts_dir / "staff-return-restocked.png"), full_page=True)

    # The manager refunds; the worker settles it; the return is finished.
    manager.goto(f"{live_server}/merchant/returns/{reference}")
    expect(manager.locator("#refund-total")).to_have_text(f"${expected / 100:.2f}")
    manager.get_by_role("button", name="Issue refund of").click()
    manager.get_by_role("button", name="Confirm refund of").click()  # the amount per payment
    expect(manager.get_by_text("created; it is being sent.")).to_be_visible()
    manager.get_by_role("button", name="Finish return").click(timeout=30000)
    expect(manager.get_by_text(f"Return {reference} completed and locked.")).to_be_visible()

    # The shopper sees it: the return, the fee and the final amount; and the email.
    shopper = person(browser, live_server, "shopper@example.com")
    shopper.goto(f"{live_server}/returns/{reference}")
    expect(shopper.locator("#return-status")).to_have_text("Refunded")
    page = shopper.locator("main")
    expect(page).to_contain_text("Repair fee")
    expect(page).to_contain_text(re.compile(r"Repair fee\s*−\$5\.00"))
    expect(page).to_contain_text(re.compile(rf"Total\s*\${expected / 100:.2f}"))
    expect(page).to_contain_text("Part of Weekend gift set")
    shopper.screenshot(path=str(artifacts_dir / "staff-return-shopper.png"), full_page=True)
    [done] = mailbox.wait_for_match(
        lambda m: (
            m["To"] == "shopper@example.com"
            and m["Subject"] == (f"Your return {reference} is complete")
        )  # fmt: skip
    )
    body = done.get_body(preferencelist=("plain",)).get_content()
    assert "Repair fee: -$5.00" in body and f"Total refunded: ${expected / 100:.2f}" in body

    with app.app_context(), db.connection_context():
        rma = Return.get(Return.reference == reference)
        assert rma.status == "completed"
        [refund] = Refund.select().where(Refund.rma == rma.id)
        assert (refund.status, refund.amount) == ("succeeded", expected)
        back_room = InventoryLocation.get(InventoryLocation.name == "Back room")
        moved = StockMovement.select().where(StockMovement.location == back_room.id)
        assert sorted(m.sku for m in moved) == sorted([first.sku, mug.sku])

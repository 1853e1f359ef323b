"""The whole journey in headless Chromium, four people and a worker:

shopper requests a return with a photo -> manager approves -> agent receives it with one damaged
unit and restocks the good one -> manager refunds -> the Celery worker settles the refund through
the built-in ledger -> the shopper sees "Refunded" and has both emails (request received, refund
sent). A screenshot of each step is saved under test-artifacts/journey-*.png."""

import re

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import LedgerTransaction, Order, OrderLine, Refund, Return, ReturnLine
from tests import factories
from tests.browser.conftest import person

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a live server, Chromium and a worker
DEMO_ORDERS = 12


@pytest.fixture
def app(demo_app):
    return demo_app


def test_whole_journey(app, live_server, celery_worker, smtp_server, browser, tmp_path,
                       artifacts_dir):  # fmt: skip
    _, mailbox = smtp_server
    shot = 0

    def screenshot(page, name):
        nonlocal shot
        shot += 1
        page.screenshot(path=str(artifacts_dir / f"journey-{shot}-{name}.png"), full_page=True)

    number = str(100000 + DEMO_ORDERS)
    with app.app_context(), db.connection_context():
        first = Order.get(Order.number == number).lines.order_by(OrderLine.id).first()
    photo = tmp_path / "tag.png"
    photo.write_bytes(factories.png(size=(80, 60), colour="green"))

    # 1. The shopper asks to return 2 units, with a reason, a note and a photo.
    shopper = person(browser, live_server, "shopper@example.com")
    shopper.goto(f"{live_server}/orders/{number}")
    shopper.get_by_role("link", name="Request a return").click()
    shopper.locator("#lines-0-reason_parent").wait_for()
    shopper.get_by_label(f"How many to return of {first.title}").fill("2")
    shopper.get_by_label(f"Reason for returning {first.title}").select_option(
        label="It doesn't fit"
    )
    shopper.locator("#lines-0-reason").select_option(label="Too small")
    shopper.get_by_label(f"Note about {first.title}").fill("Both run small.")
    shopper.get_by_role("button", name="Review return").click()
    expect(shopper.locator("#review-panel").get_by_text("Estimated refund")).to_be_visible()
    shopper.set_input_files(f"#photos-{first.id}", str(photo))
    screenshot(shopper, "shopper-review")
    shopper.get_by_role("button", name="Submit return").click()
    shopper.wait_for_url(re.compile(r"/returns/RMA-\d{4}-\d{5}$"))
    reference = shopper.url.rsplit("/", 1)[1]
    expect(shopper.locator("#return-status")).to_have_text("Requested")
    screenshot(shopper, "shopper-requested")

    # 2. A manager approves it.
    manager = person(browser, live_server, "manager@example.com")
    manager.goto(f"{live_server}/merchant/returns/{reference}")
    manager.get_by_role("button", name="Approve").click()
    expect(manager.get_by_text(f"Return {reference} approved.")).to_be_visible()
    screenshot(manager, "manager-approved")

    # 3. An agent receives both units, one damaged, accepts after inspection, restocks the good one.
    agent = person(browser, live_server, "agent@example.com")
    agent.goto(f"{live_server}/merchant/returns/{reference}")
    agent.get_by_label(f"Received: {first.title}").fill("2")
    agent.get_by_label(f"Damaged: {first.title}").fill("1")
    agent.get_by_role("button", name="Record receipt").click()
    expect(agent.get_by_text("Receipt recorded: 2 unit(s) received.")).to_be_visible()
    agent.get_by_role("button", name="Save inspection").click()
    expect(agent.get_by_text("Inspection saved.")).to_be_visible()
    expect(agent.get_by_label(f"Restock: {first.title}")).to_have_value("1")
    agent.get_by_role("button", name="Restock", exact=True).click()
    expect(agent.get_by_text("Restocked 1 unit(s).")).to_be_visible()
    screenshot(agent, "agent-received-restocked")
    expect(agent.get_by_role("button", name=re.compile("Issue refund"))).to_have_count(0)

    # 4. The manager issues the prefilled refund; 5. the worker carries it out.
    manager.goto(f"{live_server}/merchant/returns/{reference}")
    manager.get_by_role("button", name="Issue refund of").click()
    manager.get_by_role("button", name="Confirm refund of").click()  # the amount per payment
    expect(manager.get_by_text("created; it is being sent.")).to_be_visible()
    expect(manager.get_by_role("button", name="Finish return")).to_be_visible(timeout=30000)
    screenshot(manager, "manager-refunded")

    # 6. The shopper sees "Refunded" and has both emails.
    shopper.goto(f"{live_server}/returns/{reference}")
    expect(shopper.locator("#return-status")).to_have_text("Refunded")
    expect(shopper.get_by_text("Refund sent", exact=True)).to_be_visible()
    screenshot(shopper, "shopper-refunded")

    with app.app_context(), db.connection_context():
        rma = Return.get(Return.reference == reference)
        line = ReturnLine.get(ReturnLine.rma == rma.id)
        assert (line.received_quantity, line.damaged_quantity, line.restocked_quantity) == (2, 1, 1)
        [refund] = Refund.select().where(Refund.rma == rma.id)
        assert refund.status == "succeeded" and refund.amount == 2 * first.unit_total
        assert (
            LedgerTransaction.select()
            .where(LedgerTransaction.idempotency_key == refund.idempotency_key)
            .count()
            == 1
        )

    for subject in (f"We received your return request {reference}",
                    f"Your refund for return {reference} is on its way"):  # fmt: skip
        found = mailbox.wait_for_match(
            lambda m, subject=subject: m["To"] == "shopper@example.com" and m["Subject"] == subject
        )
        assert len(found) == 1, [m["Subject"] for m in mailbox.parsed()]

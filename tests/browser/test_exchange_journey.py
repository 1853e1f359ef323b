"""An exchange in headless Chromium with a worker: the demo shopper exchanges a size M tee for a
size L (the same price) and a grey hoodie for a dearer forest green one; the review shows the
difference due before submitting. A manager approves, the agent receives both, the manager
records the shopper's payment of the difference, the agent ships the exchange order from the
fulfilment list with a tracking number; the shopper sees "Exchange shipped" with the tracking
number and has the emails (the request, with what is due, and the shipment)."""

import re

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import (
    ExchangeOrder,
    Order,
    OrderLine,
    Payment,
    Replacement,
    Return,
    StockMovement,
    Variant,
)
from tests.browser.conftest import person

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEMO_ORDERS = 12


@pytest.fixture
def app(demo_app):
    return demo_app


def test_a_shopper_exchanges_a_tee_and_a_hoodie(app, live_server, celery_worker, smtp_server,
                                                browser, artifacts_dir):  # fmt: skip
    _, mailbox = smtp_server
    number = str(100000 + DEMO_ORDERS)  # the demo shopper's recent order: a tee M, a hoodie
    with app.app_context(), db.connection_context():
        lines = {ln.sku: ln for ln in OrderLine.select().join(Order)
                 .where(Order.number == number)}  # fmt: skip
        tee, hoodie = lines["TEE-CLASSIC-M-WHITE"], lines["HOODIE-ZIP-M-GREY"]
        large = Variant.get(Variant.sku == "TEE-CLASSIC-L-WHITE")
        forest = Variant.get(Variant.sku == "HOODIE-ZIP-M-FOREST")
    due = forest.unit_total - hoodie.unit_total  # both at list price: the list difference

    # 1. The shopper picks an exchange for each line; the review says what is due.
    shopper = person(browser, live_server, "shopper@example.com")
    shopper.goto(f"{live_server}/orders/{number}")
    shopper.get_by_role("link", name="Request a return").click()
    shopper.locator("#lines-0-reason_parent").wait_for()
    for line, variant in ((tee, large), (hoodie, forest)):
        shopper.get_by_label(f"How many to return of {line.title}").fill("1")
        shopper.get_by_label(f"Reason for returning {line.title}").select_option(
            label="I changed my mind"
        )
        shopper.get_by_label(f"Refund or exchange for {line.title}").select_option(str(variant.id))
    expect(shopper.get_by_label(f"Refund or exchange for {tee.title}")).to_contain_text(
        "Exchange for L / White · $30.00"
    )
    shopper.get_by_role("button", name="Review return").click()
    panel = shopper.locator("#review-panel")
    expect(panel.locator("#amount-due")).to_have_text(f"${due / 100:.2f}")
    expect(panel).to_contain_text("Exchange for L / White · nothing to pay")
    shopper.screenshot(path=str(artifacts_dir / "exchange-1-review.png"), full_page=True)
    shopper.get_by_role("button", name="Submit return").click()
    shopper.wait_for_url(re.compile(r"/returns/RMA-\d{4}-\d{5}$"))
    reference = shopper.url.rsplit("/", 1)[1]
    expect(shopper.locator("#exchange")).to_contain_text(
        f"To pay before it ships: ${due / 100:.2f}"
    )

    # 2. A manager approves; 3. the agent receives both units.
    manager = person(browser, live_server, "manager@example.com")
    manager.goto(f"{live_server}/merchant/returns/{reference}")
    manager.get_by_role("button", name="Approve").click()
    expect(manager.get_by_text(f"Return {reference} approved.")).to_be_visible()
    agent = person(browser, live_server, "agent@example.com")
    agent.goto(f"{live_server}/merchant/returns/{reference}")
    agent.get_by_role("button", name="Record receipt").click()
    expect(agent.get_by_text("Receipt recorded: 2 unit(s) received.")).to_be_visible()
    expect(agent.locator(".action-record_payment")).to_contain_text("A manager records payments.")

    # 4. The manager records the shopper's payment of the difference.
    manager.goto(f"{live_server}/merchant/returns/{reference}")
    manager.get_by_label("Payment reference").fill("ch_difference_1")
    manager.get_by_role("button", name=f"Record payment of ${due / 100:.2f}").click()
    expect(manager.get_by_text(f"Payment recorded: exchange order {reference}-X1 is ready to "
                               "ship.")).to_be_visible()  # fmt: skip

    # 5. The agent ships it from the fulfilment list, with a tracking number.
    agent.goto(f"{live_server}/merchant/fulfilment")
    row = agent.locator(".fulfilment-row", has_text=f"{reference}-X1")
    row.get_by_label("Carrier").fill("DHL")
    row.get_by_label("Tracking number").fill("JD014600006281")
    agent.screenshot(path=str(artifacts_dir / "exchange-2-fulfilment.png"), full_page=True)
    row.get_by_role("button", name=f"Mark {reference}-X1 shipped").click()
    expect(agent.get_by_text(f"{reference}-X1 shipped with DHL (JD014600006281)")).to_be_visible()

    # 6. The shopper sees it shipped, with the tracking number, and has the emails.
    shopper.goto(f"{live_server}/returns/{reference}")
    expect(shopper.locator("#return-status")).to_have_text("Exchange shipped")
    expect(shopper.locator("#exchange")).to_contain_text("JD014600006281")
    expect(shopper.locator(".shopper-timeline")).to_contain_text(
        "Exchange shipped with DHL, tracking number JD014600006281"
    )
    shopper.screenshot(path=str(artifacts_dir / "exchange-3-shipped.png"), full_page=True)
    [requested] = mailbox.wait_for_match(
        lambda m: (
            m["To"] == "shopper@example.com"
            and m["Subject"] == f"We received your return request {reference}"
        )
    )
    body = requested.get_body(preferencelist=("plain",)).get_content()
    assert "exchange for L / White" in body and f"${due / 100:.2f} more than you paid" in body
    [shipped] = mailbox.wait_for_match(
        lambda m: (
            m["To"] == "shopper@example.com"
            and m["Subject"] == f"Your exchange for return {reference} is on its way"
        )
    )
    body = shipped.get_body(preferencelist=("plain",)).get_content()
    assert "Tracking number: JD014600006281" in body and "Carrier: DHL" in body

    with app.app_context(), db.connection_context():
        rma = Return.get(Return.reference == reference)
        order = ExchangeOrder.get(ExchangeOrder.rma == rma.id)
        assert (order.status, order.tracking_number, order.amount_due) == ("shipped",
                                                                           "JD014600006281", due)  # fmt: skip
        assert Payment.get(Payment.reference == "ch_difference_1").amount == due
        assert {
            r.variant.sku: r.shipped
            for r in Replacement.select().where(Replacement.line.in_([ln.id for ln in rma.lines]))
        } == {  # fmt: skip
            large.sku: 1,
            forest.sku: 1,
        }
        moved = {m.sku: m.quantity for m in StockMovement.select()
                 .where(StockMovement.reason == "exchange")}  # fmt: skip
        assert moved == {large.sku: -1, forest.sku: -1}

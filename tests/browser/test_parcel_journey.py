"""Getting the parcel back, in headless Chromium with a Celery worker (issue 14's "done when"):

the shopper picks "Prepaid label ($4.95)" and sees the estimate with that fee -> a manager
approves -> the worker makes the label and emails it -> the shopper downloads the label PDF (its
text has the reference and its QR code decodes to it) -> a signed carrier update shows "in
transit" -> an agent scans the reference on the receiving page, then each unit's SKU, then the
reference again: the return is received, nothing else typed. Screenshots go to
test-artifacts/parcel-*.png."""

import base64
import json
import re
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from portal.carriers.signing import sign
from portal.db import db
from portal.models import Order, OrderLine, Return, ReturnLine
from tests import pdfs
from tests.browser.conftest import person

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a live server, Chromium and a worker
DEMO_ORDERS = 12
SECRET = "whsec_" + base64.b64encode(b"browser-carrier-secret").decode()


@pytest.fixture
def app(demo_app):
    demo_app.config["CARRIER_WEBHOOK_SECRET"] = SECRET
    return demo_app


def carrier_update(live_server, tracking_number, status):
    body = json.dumps({"tracking_number": tracking_number, "status": status}).encode()
    stamp = int(time.time())
    request = urllib.request.Request(f"{live_server}/webhooks/carrier", data=body, headers={
        "Content-Type": "application/json", "webhook-id": f"evt_{status}_{stamp}",
        "webhook-timestamp": str(stamp), "webhook-signature": sign(SECRET, f"evt_{status}_{stamp}",
                                                                   stamp, body)})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_prepaid_label_to_scanned_in(app, live_server, celery_worker, smtp_server, browser,
                                     artifacts_dir):  # fmt: skip
    _, mailbox = smtp_server
    shots = iter(range(1, 100))

    def screenshot(page, name):
        page.screenshot(
            path=str(artifacts_dir / f"parcel-{next(shots)}-{name}.png"), full_page=True
        )

    number = str(100000 + DEMO_ORDERS)
    with app.app_context(), db.connection_context():
        first = Order.get(Order.number == number).lines.order_by(OrderLine.id).first()

    # 1. The shopper returns 2 units and picks the prepaid label; the estimate takes its fee.
    shopper = person(browser, live_server, "shopper@example.com")
    shopper.goto(f"{live_server}/orders/{number}/return")
    shopper.locator("#lines-0-reason_parent").wait_for()
    shopper.get_by_label(f"How many to return of {first.title}").fill("2")
    shopper.get_by_label(f"Reason for returning {first.title}").select_option(
        label="I changed my mind"
    )
    shopper.get_by_label("Prepaid label ($4.95)").check()
    shopper.get_by_role("button", name="Review return").click()
    estimate = shopper.locator("#estimate")
    expect(estimate).to_contain_text("Return shipping (Prepaid label)")
    expect(estimate).to_contain_text("−$4.95")
    total = f"${(2 * first.unit_total - 495) // 100:,}.{(2 * first.unit_total - 495) % 100:02d}"
    expect(estimate.locator(".total")).to_contain_text(total)
    screenshot(shopper, "estimate")
    shopper.get_by_role("button", name="Submit return").click()
    shopper.wait_for_url(re.compile(r"/returns/RMA-\d{4}-\d{5}$"))
    reference = shopper.url.rsplit("/", 1)[1]

    # 2. A manager approves it; 3. the worker makes the label and emails it with the approval.
    manager = person(browser, live_server, "manager@example.com")
    manager.goto(f"{live_server}/merchant/returns/{reference}")
    manager.get_by_role("button", name="Approve").click()
    expect(manager.get_by_text(f"Return {reference} approved.")).to_be_visible()
    [approval] = mailbox.wait_for_match(
        lambda m: m["Subject"].startswith(f"Your return {reference} is approved")
    )
    attached = [p for p in approval.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert [p.get_filename() for p in attached] == [f"return-label-{reference}.pdf"]

    # 4. The shopper downloads the label: the reference in its text, a QR code that decodes to it.
    shopper.goto(f"{live_server}/returns/{reference}")
    link = shopper.get_by_role("link", name="Download the return label (PDF)")
    expect(link).to_be_visible()
    screenshot(shopper, "label-ready")
    response = shopper.request.get(live_server + link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    label = response.body()
    assert label == attached[0].get_content()
    assert pdfs.pages(label) == 1 and reference in pdfs.text(label)
    assert pdfs.codes(label)["QRCode"] == [reference]

    # 5. The carrier says the parcel is on its way; the shopper sees it.
    with app.app_context(), db.connection_context():
        tracking = Return.get(Return.reference == reference).tracking_number
    assert carrier_update(live_server, tracking, "in_transit") == 200
    shopper.reload()
    expect(shopper.locator("#parcel-status")).to_have_text("Parcel in transit to us")
    expect(shopper.get_by_text("Parcel in transit to us", exact=True).last).to_be_visible()
    screenshot(shopper, "in-transit")

    # 6. The agent scans the label, each unit's barcode, then the label again: received.
    agent = person(browser, live_server, "agent@example.com")
    agent.goto(f"{live_server}/merchant/receive")
    scanner = agent.locator("#scan-reference")
    expect(scanner).to_be_focused()
    agent.keyboard.type(reference)  # a keyboard-wedge scanner types, then presses Enter
    agent.keyboard.press("Enter")
    expect(agent.locator("#scan-total")).to_have_text("0 of 2 unit(s) scanned")
    for count in (1, 2):
        expect(agent.locator("#scan-code")).to_be_focused()
        agent.keyboard.type(first.sku)
        agent.keyboard.press("Enter")
        expect(agent.locator("#scan-total")).to_contain_text(f"{count} of 2 unit(s) scanned")
    screenshot(agent, "scanned")
    expect(agent.locator("#scan-code")).to_be_focused()
    agent.keyboard.type(reference)
    agent.keyboard.press("Enter")
    expect(agent.locator("#scan-message")).to_contain_text(f"{reference}: 2 unit(s) received")
    expect(agent.locator("#scan-reference")).to_be_focused()  # ready for the next parcel
    screenshot(agent, "received")

    with app.app_context(), db.connection_context():
        rma = Return.get(Return.reference == reference)
        line = ReturnLine.get(ReturnLine.rma == rma.id)
        assert rma.status == "received" and line.received_quantity == 2
        assert line.inspection == "accepted" and rma.policy_return_shipping_fee == 495

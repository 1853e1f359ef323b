"""A demo shopper returns two units of one line and one of another, in headless Chromium: signs
in, opens the order, picks quantities and (nested) reasons, writes a note, sees the estimated
refund, adds a photo, submits, lands on the tracking page with the reference, and the
confirmation email, sent by a real Celery worker from the outbox, reaches the test SMTP server."""

import re

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import Order, OrderLine, Return, ReturnPhoto, ReturnReason
from portal.returns import shipping
from portal.returns.money import format_money
from portal.returns.requests import Selection, estimate
from portal.seed import DEMO_PASSWORD
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a live server, Chromium and a worker
DEMO_ORDERS = 20


@pytest.fixture
def app(demo_app):
    return demo_app


def test_shopper_requests_a_return(app, live_server, celery_worker, smtp_server, page,
                                   tmp_path, artifacts_dir):  # fmt: skip
    _, mailbox = smtp_server
    number = str(100000 + DEMO_ORDERS)  # the demo shopper's recent, returnable order
    with app.app_context(), db.connection_context():
        order = Order.get(Order.number == number)
        first, second = list(order.lines.order_by(OrderLine.id))[:2]
        small = ReturnReason.get(ReturnReason.code == "fit_small")
        damaged = ReturnReason.get(ReturnReason.code == "damaged")
        expected = estimate(
            order, [Selection(first.id, 2, small.id), Selection(second.id, 1, damaged.id)],
            shipping_method_id=shipping.default_method(order).id,  # preselected on the form
        )  # fmt: skip
        expected_total = format_money(expected.total, order.currency)
    photo = tmp_path / "damage.png"
    photo.write_bytes(factories.png(size=(64, 48), colour="orange"))

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("shopper@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()

    page.get_by_role("link", name=f"Order #{number}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Order #{number}")).to_be_visible()
    page.get_by_role("link", name="Request a return").click()
    expect(page.get_by_role("heading", name=f"Return items from order #{number}")).to_be_visible()

    # htmx replaced each grouped reason select with the nested picker.
    page.locator("#lines-0-reason_parent").wait_for()
    page.locator("#lines-1-reason_parent").wait_for()
    page.evaluate("window.__sameDocument = true")

    page.get_by_label(f"How many to return of {first.title}").fill("2")
    page.get_by_label(f"Reason for returning {first.title}").select_option(label="It doesn't fit")
    page.locator("#lines-0-reason").select_option(label="Too small")  # appears in place
    page.get_by_label(f"Note about {first.title}").fill("Runs a size small.")

    page.get_by_label(f"How many to return of {second.title}").fill("1")
    page.get_by_label(f"Reason for returning {second.title}").select_option(
        label="Arrived damaged (photo needed)"
    )
    page.locator('#reason-child-1 input[name="lines-1-reason"]').wait_for(state="attached")

    page.get_by_role("button", name="Review return").click()
    panel = page.locator("#review-panel")
    expect(panel.get_by_text("Estimated refund")).to_be_visible()
    expect(panel.locator("#estimate .total dd")).to_have_text(expected_total)
    assert page.evaluate("window.__sameDocument") is True  # updated in place, no reload
    page.set_input_files(f"#photos-{second.id}", str(photo))
    page.screenshot(path=str(artifacts_dir / "shopper-return-form.png"), full_page=True)

    page.get_by_role("button", name="Submit return").click()
    page.wait_for_url(re.compile(r"/returns/RMA-\d{4}-\d{5}$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name=f"Return {reference}")).to_be_visible()
    expect(page.locator("#return-status")).to_have_text("Requested")
    expect(page.get_by_text("Return requested")).to_be_visible()
    expect(page.get_by_text("Runs a size small.")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "shopper-return-tracking.png"), full_page=True)

    with app.app_context(), db.connection_context():
        rma = Return.get(Return.reference == reference)
        assert {ln.order_line_id: ln.quantity for ln in rma.lines} == {first.id: 2, second.id: 1}
        assert ReturnPhoto.select().count() == 1

    confirmation = mailbox.wait_for_match(
        lambda m: m["To"] == "shopper@example.com" and reference in m["Subject"]
    )
    assert len(confirmation) == 1, [m["Subject"] for m in mailbox.parsed()]
    assert confirmation[0]["Subject"] == f"We received your return request {reference}"
    assert (
        f"Estimated refund: {expected_total}" in confirmation[0].get_body(("plain",)).get_content()
    )


def test_mistakes_are_shown_in_place(app, live_server, page):
    number = str(100000 + DEMO_ORDERS)
    with app.app_context(), db.connection_context():
        first = Order.get(Order.number == number).lines.order_by(OrderLine.id).first()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("shopper@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/orders/{number}/return")
    page.locator("#lines-0-reason_parent").wait_for()
    page.evaluate("window.__sameDocument = true")
    page.get_by_label(f"How many to return of {first.title}").fill("9")
    page.get_by_role("button", name="Review return").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check your return")
    quantity = page.get_by_label(f"How many to return of {first.title}")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lines-0-quantity-error")).to_contain_text(
        f"Only {first.quantity} of “{first.title}” can still be returned (you asked for 9)."
    )
    expect(page.locator("#lines-0-reason-error")).to_contain_text("Choose why you are returning")
    assert page.evaluate("window.__sameDocument") is True
    # the swapped-in form is live: the nested reason picker loads again and the fix goes through
    page.locator("#lines-0-reason_parent").wait_for()
    quantity.fill("1")
    page.get_by_label(f"Reason for returning {first.title}").select_option(
        label="I changed my mind"
    )
    page.locator('#reason-child-0 input[name="lines-0-reason"]').wait_for(state="attached")
    page.get_by_role("button", name="Review return").click()
    expect(page.locator("#review-panel")).to_contain_text("Estimated refund")
    expect(page.get_by_role("alert")).to_have_count(0)

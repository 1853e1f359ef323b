"""Nothing irreversible on one tap, with JavaScript (issue 16): cancelling a return opens its
confirmation inline (htmx), and only its button cancels. (Without JavaScript, the same step is a
page: tests/web/test_shopper_tracking.py; a refund's confirmation: tests/browser/
test_merchant_flow.py and tests/web/test_refund_confirmation.py.)"""

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import Return
from portal.returns.requests import request_return
from tests import factories
from tests.pages import PASSWORD

pytestmark = pytest.mark.browser


def test_cancel_asks_inline_and_only_the_second_button_cancels(app, live_server, page):
    with app.app_context():
        reasons = factories.reasons()
        user, order, lines = factories.shop()
        rma = request_return(order, user, user.email,
                             [(lines["TEE-M"].id, 2, reasons["changed_mind"].id, "", ())])  # fmt: skip
        reference = rma.reference
    db.close()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/returns/{reference}")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("link", name="Cancel this return…").click()
    step = page.locator("#cancel-step")
    expect(step.get_by_role("heading", name=f"Cancel return {reference}?")).to_be_visible()
    expect(step).to_contain_text("2 items from order #R-1001 will no longer be returned")
    assert page.evaluate("window.__sameDocument") is True  # inline: the page was not left
    expect(page.locator("#return-status")).to_have_text("Requested")
    with app.app_context(), db.connection_context():
        assert Return.get(Return.reference == reference).status == "requested"

    step.get_by_role("button", name="Yes, cancel this return").click()
    expect(page.get_by_text(f"Return {reference} is cancelled.")).to_be_visible()
    expect(page.locator("#return-status")).to_have_text("Cancelled")
    with app.app_context(), db.connection_context():
        assert Return.get(Return.reference == reference).status == "cancelled"

"""htmx still works under the Content-Security-Policy (issue 15), in headless Chromium: the
queue's search filters in place, a detail-page action swaps the page in place, the shopper's
review step shows the estimate in place, and the 2FA enrolment QR code (a data: image) shows;
no CSP violation is reported (securitypolicyviolation events and console messages)."""

import re

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import Order, OrderLine, ReturnReason
from portal.seed import DEMO_PASSWORD
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a live server and Chromium
DEMO_ORDERS = 12
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@pytest.fixture
def app(demo_app):
    return demo_app


def watched(browser, problems):
    """A new browser page whose CSP violations and console errors land in `problems`."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()

    def console(message):
        url = (message.location or {}).get("url", "")
        if url.endswith("/favicon.ico"):
            return  # the portal has no icon: the browser's own request for one is a 404
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(f"console {message.type}: {message.text} ({url})")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return page


def violations(page):
    return page.evaluate("window.__csp || []")


def sign_in(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_be_visible()


def test_htmx_works_under_the_csp_with_no_violation(app, live_server, browser, artifacts_dir):
    with app.app_context(), db.connection_context():
        order = Order.get(Order.number == str(100000 + DEMO_ORDERS))
        first = list(order.lines.order_by(OrderLine.id))[0]
        reason = ReturnReason.get(ReturnReason.code == "fit_small")
        reference = factories.create_return(order, lines=[(first, 1, reason)],
                                            reason=reason).reference  # fmt: skip
    problems = []

    staff = watched(browser, problems)
    sign_in(staff, live_server, "manager@example.com")
    response = staff.goto(f"{live_server}/merchant/returns")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    staff.evaluate("window.__sameDocument = true")
    staff.get_by_label("Search").fill(reference)  # htmx filters as the manager types
    expect(staff).to_have_url(f"{live_server}/merchant/returns?q={reference}")
    expect(staff.locator("#queue-results tbody tr")).to_have_count(1)
    assert staff.evaluate("window.__sameDocument") is True
    staff.get_by_role("link", name=reference).click()
    expect(staff.get_by_role("heading", name=f"Return {reference}")).to_be_visible()
    staff.evaluate("window.__sameDocument = true")
    staff.get_by_role("button", name="Approve").click()  # an action, swapped in by htmx
    expect(staff.get_by_text(f"Return {reference} approved.")).to_be_visible()
    assert staff.evaluate("window.__sameDocument") is True
    # Two-factor enrolment: the QR code is a data: image the CSP allows.
    staff.goto(f"{live_server}/account/security")
    staff.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = staff.get_by_alt_text(re.compile("QR code"))
    expect(qr).to_be_visible()
    assert staff.evaluate("(img) => img.naturalWidth", qr.element_handle()) > 0
    staff.screenshot(path=str(artifacts_dir / "two-factor-enrolment.png"), full_page=True)
    assert violations(staff) == []

    shopper = watched(browser, problems)
    sign_in(shopper, live_server, "shopper@example.com")
    shopper.goto(f"{live_server}/orders/{order.number}/return")
    shopper.locator("#lines-0-reason_parent").wait_for()  # htmx's nested reason picker
    shopper.evaluate("window.__sameDocument = true")
    second = list(order.lines.order_by(OrderLine.id))
    title = second[0].title
    shopper.get_by_label(f"How many to return of {title}").fill("1")
    shopper.get_by_label(f"Reason for returning {title}").select_option(label="It doesn't fit")
    shopper.locator("#lines-0-reason").select_option(label="Too large")
    shopper.get_by_role("button", name="Review return").click()
    expect(shopper.locator("#review-panel").get_by_text("Estimated refund")).to_be_visible()
    assert shopper.evaluate("window.__sameDocument") is True
    assert violations(shopper) == []
    assert problems == []

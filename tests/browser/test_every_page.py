"""Every page at phone width, checked by axe-core (issue 16, points 1 and 8).

Each GET route of the app's URL map is loaded in headless Chromium at 390 px wide, as the role
that uses it (shopper pages as the demo shopper, staff pages as the admin, sign-in pages as a
visitor), with the demo store's data; the test fails when the list of pages misses a route not
named in NOT_PAGES. On each page:

- the document is no wider than the viewport (no horizontal scrolling);
- axe-core (vendored under tests/browser/vendor, never from a CDN) finds no serious or critical
  violation of WCAG 2 A/AA (labels, contrast, names, ...);
- the focused element shows an outline (:focus-visible), checked on the first link.
"""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import Order, Return, ReturnReason, User, WebhookEndpoint
from tests.browser.conftest import person

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEMO_ORDERS = 20
PHONE = (390, 844)
AXE = Path(__file__).parent / "vendor" / "axe.min.js"

# Routes that are not pages a person reads, each with why.
NOT_PAGES = {
    "static": "files",
    "store_css": "the accent colour's stylesheet",
    "store_logo": "the logo image",
    "health.healthz": "JSON for load balancers",
    "merchant.audit_export": "a CSV download",
    "merchant.export_queue": "a CSV download",
    "merchant.calendar_feed": "an ICS feed",
    "merchant.packing_slip": "a PDF download",
    "merchant.return_report": "a PDF download",
    "customer.credit_note": "a PDF download",
    "customer.return_label": "a PDF download",
    "customer.return_photo": "an image",
    "customer.return_qr": "an SVG image",
    "customer.reason_picker": "an htmx fragment of the return form",
    "auth.index": "a redirect to the role's home page",
    "auth.login_code": "the second step of a sign-in (needs one half done; tests/browser/test_shopper_signin.py)",
    "auth.login_enrol": "enrolment forced at sign-in (same page body as auth.two_factor_setup)",
    "customer.guest_link": "a redirect to the guest's order (tests/web/test_shopper_guest.py)",
}
NOT_PAGE_PREFIXES = {"api.": "the JSON API (docs/api.md): no pages"}


@pytest.fixture
def app(demo_app):
    return demo_app


def _pages(app):
    """(role, endpoint, path) of every page, with the demo store's data in the URLs."""
    with app.app_context(), db.connection_context():
        shopper = User.by_email("shopper@example.com")
        own = list(Return.select().join(Order).where(Order.customer == shopper.id))
        order = Order.select().where(Order.customer == shopper.id).order_by(Order.id).first()
        any_order = Order.select().order_by(Order.id.desc()).first()
        # One staff page per status of a return (each shows other forms: receive, refund...).
        by_status = {}
        for rma in Return.select().order_by(Return.id):
            by_status.setdefault(rma.status, rma.reference)
        sku = order.lines[0].sku
        endpoint = WebhookEndpoint.create(url="https://shop.example/hooks", secret="whsec_dGVzdA==",
                                          event_types=["return.requested"]).id  # fmt: skip
        assert ReturnReason.select().count() > 0
    pages = [
        ("visitor", "auth.login", "/login"),
        ("visitor", "auth.forgot_password", "/forgot-password"),
        ("visitor", "auth.reset_password", "/reset-password/not-a-real-token"),
        ("visitor", "auth.unlock", "/unlock/not-a-real-token"),
        ("visitor", "customer.lookup", "/lookup"),
        ("visitor", "customer.withdraw_lookup", "/withdraw"),
        ("shopper", "customer.orders", "/orders"),
        ("shopper", "customer.order_detail", f"/orders/{order.number}"),
        ("shopper", "customer.request_return", f"/orders/{order.number}/return"),
        ("shopper", "customer.request_claim", f"/orders/{order.number}/claim"),
        ("shopper", "customer.withdraw", f"/orders/{order.number}/withdraw"),
        ("shopper", "customer.returns", "/returns"),
        ("shopper", "customer.account", "/account"),
        ("shopper", "auth.security_page", "/account/security"),
        ("shopper", "auth.two_factor_setup", "/account/two-factor"),
    ]
    pages += [("shopper", "customer.return_detail", f"/returns/{r.reference}") for r in own]
    pages += [("shopper", "customer.confirm_cancel", f"/returns/{r.reference}/cancel")
              for r in own if r.status in ("requested", "approved")][:1]  # fmt: skip
    pages += [
        ("admin", "merchant.queue", "/merchant/returns"),
        ("admin", "merchant.receive_scan", "/merchant/receive"),
        ("admin", "merchant.orders", "/merchant/orders"),
        ("admin", "merchant.order", f"/merchant/orders/{any_order.number}"),
        ("admin", "merchant.fulfilment", "/merchant/fulfilment"),
        ("admin", "merchant.stock", "/merchant/stock"),
        ("admin", "merchant.stock_sku", f"/merchant/stock/{sku}"),
        ("admin", "merchant.operations", "/merchant/operations"),
        ("admin", "merchant.policy_settings", "/merchant/settings/policy"),
        ("admin", "merchant.locations", "/merchant/settings/locations"),
        ("admin", "merchant.shipping_settings", "/merchant/settings/shipping"),
        ("admin", "merchant.store_settings", "/merchant/settings/store"),
        ("admin", "merchant.staff", "/merchant/staff"),
        ("admin", "merchant.audit_log", "/merchant/audit"),
        ("admin", "merchant.calendar", "/merchant/calendar"),
        ("admin", "merchant.api_key_list", "/merchant/api-keys"),
        ("admin", "merchant.webhooks", "/merchant/webhooks"),
        ("admin", "merchant.webhook_endpoint", f"/merchant/webhooks/{endpoint}"),
        ("admin", "auth.security_page", "/account/security"),
    ]
    pages += [("admin", "merchant.detail", f"/merchant/returns/{ref}") for ref in
              by_status.values()]  # fmt: skip
    return pages, sorted(by_status)


def _check(page, where):
    """Problems on the loaded page: overflow, axe's serious or critical violations."""
    problems = []
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' +
                             Math.round(e.getBoundingClientRect().right))""")
        problems.append(f"{where}: {width[0]} px wide at {width[1]} px: {wide}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', "
        "'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})"
    )
    for v in result["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [n["target"] for n in v["nodes"][:3]]
            problems.append(f"{where}: axe {v['id']} ({v['impact']}): {v['help']} {targets}")
    return problems


def _focus_is_visible(page):
    page.keyboard.press("Tab")  # the skip link first
    return page.evaluate("""() => {
        const e = document.activeElement, s = getComputedStyle(e);
        return e.matches(':focus-visible') && s.outlineStyle !== 'none' &&
               parseFloat(s.outlineWidth) >= 2;
    }""")


def _speak(page, lang):
    """Switch a signed-in page to `lang` with the footer's language switch (no JavaScript)."""
    if lang == "en":
        return page
    page.locator("#language-choice").select_option(lang)
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    return page


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_page_fits_a_phone_and_passes_axe(app, browser, live_server, artifacts_dir, lang):
    """In English and in German (longer words: the cards must still fit)."""
    pages, statuses = _pages(app)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods
                 and not rule.endpoint.startswith(tuple(NOT_PAGE_PREFIXES))}  # fmt: skip
    covered = {endpoint for _, endpoint, _ in pages}
    assert endpoints - covered - set(NOT_PAGES) == set(), "pages not checked"
    assert set(NOT_PAGES) <= endpoints, "exclusions of routes that no longer exist"
    assert {"requested", "approved", "received"} <= set(statuses), statuses

    visitor = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]},
                                  bypass_csp=True, locale=lang).new_page()  # fmt: skip
    signed_in = {
        role: _speak(person(browser, live_server, email, viewport=PHONE, bypass_csp=True), lang)
        for role, email in (("shopper", "shopper@example.com"), ("admin", "admin@example.com"))
    }
    tabs = {"visitor": visitor, **signed_in}
    problems, seen = [], 0
    for role, _endpoint, path in pages:
        page = tabs[role]
        response = page.goto(f"{live_server}{path}")
        assert response.status < 500, (lang, path, response.status)
        where = f"{lang} {role} {path} ({response.status})"
        assert page.locator("html").get_attribute("lang") == lang, where
        problems += _check(page, where)
        if not _focus_is_visible(page):
            problems.append(f"{where}: the focused skip link shows no outline")
        seen += 1
    (artifacts_dir / f"every-page-problems-{lang}.json").write_text(json.dumps(problems, indent=1))
    print(f"every page ({lang}): {seen} pages at {PHONE[0]} px, {len(problems)} problems")
    assert problems == [], "\n".join(problems)


def test_the_receive_form_damaged_box_is_reachable_on_a_phone(app, browser, live_server):
    """The detail page of an approved return: the "Damaged" box is inside the viewport's width
    (no swiping) and can be filled in."""
    with app.app_context(), db.connection_context():
        rma = Return.select().where(Return.status == "approved").order_by(Return.id).first()
    page = person(browser, live_server, "admin@example.com", viewport=PHONE)
    page.goto(f"{live_server}/merchant/returns/{rma.reference}")
    damaged = page.get_by_label("Damaged").first
    damaged.scroll_into_view_if_needed()
    box = damaged.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0]
    damaged.fill("0")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]

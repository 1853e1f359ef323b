"""A shopper signs in with the real form in headless Chromium and opens an order."""

import re

import pytest
from playwright.sync_api import expect

from portal.db import db

pytestmark = pytest.mark.browser


def test_shopper_signs_in_and_opens_an_order(app, make, live_server, page, artifacts_dir):
    lines = [
        {"sku": "TEE-M", "title": "Classic cotton tee", "quantity": 2, "unit_price": 2500,
         "variant": {"size": "M"}},
        {"sku": "MUG", "title": "Stoneware mug", "quantity": 1, "unit_price": 1600},
    ]  # fmt: skip
    with app.app_context():
        sam = make.user("sam@example.com", name="Sam")
        make.order(customer=sam, number="W-1001", lines=lines, days_ago=12)
        make.order(customer=sam, number="W-1002", days_ago=3)
    db.close()  # the server threads use their own connections

    page.goto(f"{live_server}/orders")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill("Sam@Example.com")
    page.get_by_label("Password").fill("test-pass-1234")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server}/orders")
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    numbers = page.locator("a.order-number").all_inner_texts()
    assert numbers == ["Order #W-1002", "Order #W-1001"]  # newest first

    page.get_by_role("link", name="Order #W-1001", exact=True).click()
    expect(page).to_have_url(f"{live_server}/orders/W-1001")
    expect(page.get_by_role("heading", name="Order #W-1001")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Classic cotton tee")
    expect(rows.nth(0)).to_contain_text("size: M")
    expect(rows.nth(1)).to_contain_text("Stoneware mug")
    page.screenshot(path=str(artifacts_dir / "shopper-order.png"), full_page=True)

    # Sign out is a POST from the header form and lands back on the sign-in page.
    page.get_by_role("button", name=re.compile("Sign out")).click()
    expect(page).to_have_url(f"{live_server}/login")
    page.goto(f"{live_server}/orders/W-1001")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_wrong_password_shows_a_message(app, make, live_server, page):
    with app.app_context():
        make.user("sam@example.com")
    db.close()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_text("That email and password don't match an active account.")
    ).to_be_visible()
    expect(page).to_have_url(f"{live_server}/login")

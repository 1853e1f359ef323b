"""Issue 16's "done when": a guest withdraws from a contract in two steps, in headless Chromium,
and receives the dated acknowledgment (a real Celery worker delivers it to a real SMTP server)."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import Return
from portal.returns import shopper_words
from tests import factories
from tests.apps import close_db, make_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a live server, Chromium and a worker


@pytest.fixture
def app(tmp_path, redis_url, smtp_server):
    controller, _ = smtp_server
    app = make_app(tmp_path, redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    with app.app_context(), db.connection_context():
        factories.policy(timezone="Europe/Berlin")
        factories.order(email="pat@example.net", number="G-7001", shipping=495,
                        lines=[factories.TEE, factories.CAP])  # fmt: skip
    yield app
    close_db()


def body(message):
    return message.get_body(("plain",)).get_content()


def test_a_guest_withdraws_in_two_steps_and_gets_the_dated_acknowledgment(
    app, live_server, celery_worker, smtp_server, page, artifacts_dir
):
    _, mailbox = smtp_server
    page.goto(f"{live_server}/lookup")
    page.get_by_role("link", name="Withdraw from contract").click()
    expect(page.get_by_role("heading", name="Withdraw from contract")).to_be_visible()
    page.get_by_label("Order number").fill("G-7001")
    page.get_by_label("Email address used for the order").fill("pat@example.net")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    (link_mail,) = mailbox.wait_for_match(lambda m: "withdraw from order #G-7001" in m["Subject"])
    link = re.search(r"https?://\S+/guest/\S+", body(link_mail)).group(0)
    page.goto(link)
    page.get_by_role("button", name="Open the withdrawal").click()

    # Step 1: the order and its lines, every unit chosen, no reason asked.
    expect(
        page.get_by_role("heading", name="Withdraw from contract: order #G-7001")
    ).to_be_visible()
    expect(page.get_by_text("Step 1 of 2")).to_be_visible()
    expect(page.get_by_label("How many of Classic tee to withdraw (0 to 3)")).to_have_value("3")
    expect(page.get_by_label("How many of Wool cap to withdraw (0 to 1)")).to_have_value("1")
    expect(page.get_by_text("You don't need to give a reason.")).to_be_visible()
    expect(page.locator("main select, main textarea")).to_have_count(0)  # no reason to pick
    page.screenshot(path=str(artifacts_dir / "withdraw-1.png"), full_page=True)
    page.get_by_role("button", name="Continue").click()

    # Step 2: the statement and one button.
    expect(page.get_by_text("Step 2 of 2")).to_be_visible()
    summary = page.locator("#withdraw-summary")
    expect(summary).to_contain_text("3 × Classic tee")
    expect(summary).to_contain_text("1 × Wool cap")
    page.screenshot(path=str(artifacts_dir / "withdraw-2.png"), full_page=True)
    with app.app_context(), db.connection_context():
        assert Return.select().count() == 0  # nothing before the confirmation
    before = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
    page.get_by_role("button", name="Confirm withdrawal").click()
    page.wait_for_url(re.compile(r"/returns/RMA-\d{4}-\d{5}$"))
    expect(page.get_by_text("Your withdrawal from order #G-7001 is received")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Withdrawal RMA-"))).to_be_visible()
    expect(page.locator("#return-status")).to_have_text("Requested")

    # The acknowledgment, at once: the statement, the goods, the date and time with the zone.
    (ack,) = mailbox.wait_for_match(lambda m: m["Subject"].startswith("Your withdrawal from"))
    text = body(ack)
    assert ack["To"] == "pat@example.net"
    assert "I hereby give notice that I withdraw from my contract of sale" in text
    assert "- 3 x Classic tee" in text and "- 1 x Wool cap" in text
    with app.app_context(), db.connection_context():
        rma = Return.get(Return.kind == "withdrawal")
        stamp = shopper_words.moment(rma.created_at, "Europe/Berlin")
    assert rma.created_at >= before and rma.requested_by_id is None
    assert f"Date and time: {stamp}" in text
    assert re.search(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2} CES?T \(UTC\+0[12]:00\)", stamp)
    assert "$91.95 in all" in text  # goods 87.00 and delivery 4.95, no fee

"""The withdrawal function's pages (issue 16): the link on order pages and the guest lookup,
the two steps without JavaScript, the guest's emailed link, the acknowledgment, and bad input
(outside the period, not delivered yet, a reused link, another person's order, a second
confirmation): clear messages, nothing changes."""

import re

import pytest

from portal.db import db
from portal.models import Order, OutboxMessage, Return
from portal.returns import facts, receiving, review, withdrawal
from tests import factories, pages
from tests.pages import login


@pytest.fixture
def shop(app, make):
    with app.app_context():
        wanda = make.user("wanda@example.com", name="Wanda")
        make.order(customer=wanda, number="W-1", lines=[factories.TEE, factories.CAP])
        make.order(customer=wanda, number="W-OLD", days_ago=30)
        make.order(customer=wanda, number="W-NEW", delivered=False)
        make.order(email="pat@example.net", number="G-1", lines=[factories.TEE, factories.CAP])
        make.order(customer=make.user("other@example.com"), number="O-1")
        db.close()


def counts(app):
    with app.app_context():
        return factories.counts()


def first_step_data(html, version=None):
    """The first step's form as posted: every line's hidden id and its quantity input."""
    data = {}
    for name, value in re.findall(r'name="(lines-\d+-\w+|version)" value="(\d*)"', html):
        data[name] = value
    if version is not None:
        data["version"] = str(version)
    return data


def withdraw_in_two_steps(client, number):
    step_one = client.get(f"/orders/{number}/withdraw")
    assert step_one.status_code == 200
    html = step_one.get_data(as_text=True)
    assert "Step 1 of 2" in html and f"order #{number}" in html
    step_two = client.post(f"/orders/{number}/withdraw", data=first_step_data(html))
    assert step_two.status_code == 200
    confirm = step_two.get_data(as_text=True)
    assert "Step 2 of 2" in confirm and "Confirm withdrawal" in confirm
    assert "3 × Classic tee" in confirm and "1 × Wool cap" in confirm
    assert confirm.count('name="version"') == 1  # the order's version, posted once
    return confirm, first_step_data(confirm)


def acknowledgments(app):
    with app.app_context():
        return [m.payload for m in OutboxMessage.select().order_by(OutboxMessage.id)
                if m.payload.get("template") == "withdrawal_received"]  # fmt: skip


def test_a_shopper_withdraws_in_two_steps_from_the_order_page(app, client, shop):
    login(client, "wanda@example.com")
    order_page = client.get("/orders/W-1").get_data(as_text=True)
    assert 'href="/orders/W-1/withdraw"' in order_page and "Withdraw from contract" in order_page
    confirm, data = withdraw_in_two_steps(client, "W-1")
    assert "You can withdraw until" not in confirm  # step two states the statement only
    before = counts(app)
    assert before["Return"] == 0  # nothing is written before the confirmation
    response = client.post("/orders/W-1/withdraw/confirm", data=data)
    assert response.status_code == 303
    reference = response.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        rma = Return.get(Return.reference == reference)
        assert rma.kind == "withdrawal" and rma.requested_by.email == "wanda@example.com"
    (ack,) = acknowledgments(app)
    assert ack["to"] == "wanda@example.com" and ack["context"]["order_number"] == "W-1"
    tracking = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your withdrawal from order #W-1 is received" in tracking
    assert "</time> <span>Withdrawal received</span>" in tracking
    mine = client.get("/returns").get_data(as_text=True)
    assert "kind-withdrawal" in mine and reference in mine

    # The same confirmation again (a second click): refused, nothing changes.
    before = counts(app)
    again = client.post("/orders/W-1/withdraw/confirm", data=data)
    assert again.status_code == 409
    assert "changed since you opened this page" in again.get_data(as_text=True)
    assert counts(app) == before


def test_choosing_part_of_the_order_and_bad_numbers(app, client, shop):
    login(client, "wanda@example.com")
    html = client.get("/orders/W-1/withdraw").get_data(as_text=True)
    data = first_step_data(html)
    tee = next(k for k, v in data.items() if k.endswith("quantity") and v == "3")
    page = client.post("/orders/W-1/withdraw", data={**data, tee: "7"})
    assert page.status_code == 422
    assert "Only 3 of “Classic tee” can still be withdrawn" in page.get_data(as_text=True)
    page = client.post("/orders/W-1/withdraw", data={**data, tee: "two"})
    assert page.status_code == 422 and "Check the numbers" in page.get_data(as_text=True)
    zero = {k: ("0" if k.endswith("quantity") else v) for k, v in data.items()}
    page = client.post("/orders/W-1/withdraw", data=zero)
    assert "Choose at least one item" in page.get_data(as_text=True)
    confirm = client.post("/orders/W-1/withdraw", data={**data, tee: "1"}).get_data(as_text=True)
    assert "1 × Classic tee" in confirm
    assert counts(app)["Return"] == 0


def test_outside_the_period_it_says_so_and_nothing_changes(app, client, shop):
    login(client, "wanda@example.com")
    page = client.get("/orders/W-OLD/withdraw").get_data(as_text=True)
    assert "The withdrawal period for order #W-OLD ended on" in page
    assert "Confirm withdrawal" not in page and "Continue" not in page
    with app.app_context():
        line_id = Order.get(Order.number == "W-OLD").lines[0].id
    before = counts(app)
    data = {"lines-0-order_line_id": line_id, "lines-0-quantity": 1}
    for path in ("/orders/W-OLD/withdraw", "/orders/W-OLD/withdraw/confirm"):
        response = client.post(path, data=data)
        assert response.status_code == 422
        assert "withdrawal period for order #W-OLD ended" in response.get_data(as_text=True)
    assert counts(app) == before


def test_before_delivery_it_is_allowed_and_explained(app, client, shop):
    login(client, "wanda@example.com")
    page = client.get("/orders/W-NEW/withdraw").get_data(as_text=True)
    assert "has not been delivered yet. You can withdraw now" in page
    assert "the 14-day withdrawal period has not started" in page
    data = first_step_data(page)
    confirm = client.post("/orders/W-NEW/withdraw", data=data).get_data(as_text=True)
    assert "has not been delivered yet" in confirm
    response = client.post("/orders/W-NEW/withdraw/confirm", data=first_step_data(confirm))
    assert response.status_code == 303
    assert acknowledgments(app)[0]["context"]["before_delivery"] is True


def test_another_persons_order_is_a_404(app, client, shop):
    login(client, "wanda@example.com")
    with app.app_context():
        line_id = Order.get(Order.number == "O-1").lines[0].id
    data = {"lines-0-order_line_id": line_id, "lines-0-quantity": 1}
    assert client.get("/orders/O-1/withdraw").status_code == 404
    assert client.post("/orders/O-1/withdraw", data=data).status_code == 404
    assert client.post("/orders/O-1/withdraw/confirm", data=data).status_code == 404
    # a line of another order posted on one's own order
    page = client.post("/orders/W-1/withdraw", data=data)
    assert page.status_code == 422 and "not part of order #W-1" in page.get_data(as_text=True)
    assert client.get("/orders/W-1/withdraw", follow_redirects=False).status_code == 200
    anonymous = app.test_client()
    assert anonymous.get("/orders/W-1/withdraw").status_code == 302  # to sign in


def guest_links(app):
    with app.app_context():
        rows = OutboxMessage.select().where(OutboxMessage.payload.contains('"guest_link"'))
        return [m.payload for m in rows]


def test_a_guest_withdraws_through_the_emailed_link_once(app, client, shop):
    lookup = client.get("/lookup").get_data(as_text=True)
    assert 'href="/withdraw"' in lookup and "Withdraw from contract" in lookup
    assert "Withdraw from contract" in client.get("/withdraw").get_data(as_text=True)
    sent = client.post("/withdraw", data={"number": "G-1", "email": "pat@example.net"})
    nope = client.post("/withdraw", data={"number": "G-1", "email": "wrong@example.net"})
    assert pages.without_csrf(sent.get_data(as_text=True)) == pages.without_csrf(
        nope.get_data(as_text=True)
    )
    assert "opens the withdrawal for your order once" in sent.get_data(as_text=True)
    (message,) = guest_links(app)
    assert message["context"]["purpose"] == "withdraw"
    text = pages.deliver_emails(app, "email")[-1]
    assert text[1] == "Your link to withdraw from order #G-1"
    path = message["context"]["link"].split("localhost", 1)[1]
    landing = client.get(path).get_data(as_text=True)
    assert "Withdraw from order #G-1" in landing and "Open the withdrawal" in landing
    response = client.post(path)
    assert response.status_code == 303 and response.headers["Location"] == "/orders/G-1/withdraw"
    confirm, data = withdraw_in_two_steps(client, "G-1")
    response = client.post("/orders/G-1/withdraw/confirm", data=data)
    assert response.status_code == 303
    with app.app_context():
        rma = Return.get(Return.kind == "withdrawal")
        assert rma.requested_by is None and rma.email == "pat@example.net"
    (ack,) = acknowledgments(app)
    assert ack["to"] == "pat@example.net"

    # The link again, from another browser: refused with a clear message, nothing changes.
    before = counts(app)
    other = app.test_client()
    reused = other.post(path)
    assert reused.status_code == 410
    html = reused.get_data(as_text=True)
    assert "This link has already been used." in html and 'href="/withdraw"' in html
    assert other.get("/orders/G-1/withdraw").status_code == 302
    assert counts(app) == before


def test_the_acknowledgment_email_has_the_statement_date_and_time(app, client, shop):
    with app.app_context():
        factories.policy(timezone="Europe/Berlin")
    login(client, "wanda@example.com")
    _, data = withdraw_in_two_steps(client, "W-1")
    client.post("/orders/W-1/withdraw/confirm", data=data)
    (ack,) = acknowledgments(app)
    emails = {to: (subject, text) for to, subject, text in pages.deliver_emails(app, "email")}
    subject, text = emails["wanda@example.com"]
    assert "withdrew from the contract" in emails["returns-team@example.com"][1]
    assert subject.startswith("Your withdrawal from order #W-1 is received")
    assert "I hereby give notice that I withdraw from my contract of sale" in text
    assert "- 3 x Classic tee" in text and "- 1 x Wool cap" in text
    stamp = ack["context"]["withdrawn_at"]
    assert f"Date and time: {stamp}" in text and "(UTC+01:00)" in stamp
    assert "No restocking fee" in text and "Sending the goods back costs you nothing." in text


def test_a_manager_sets_the_withdrawal_terms(app, client, make):
    with app.app_context():
        manager = make.staff("manager")
        withdrawal.withdrawal_reason()  # exists once a withdrawal was made: not among the store's reasons
    login(client, manager.email)
    page = client.get("/merchant/settings/policy").get_data(as_text=True)
    assert "EU withdrawal" in page and 'name="withdrawal_days"' in page and 'value="14"' in page
    assert "Withdrawal from the contract (no reason needed)" not in page
    base = {"window_days": "30", "restocking_fee_percent": "0", "auto_approve": "never",
            "reference_pattern": "RMA-{year}-{seq:05d}", "expire_unshipped_days": "30",
            "return_address": "Returns\n1 Road", "timezone": "UTC"}  # fmt: skip
    fields = {**base, "withdrawal_days": "30", "withdrawal_standard_delivery": "4.90",
              "withdrawal_shopper_pays_return": "y", "withdrawal_return_cost": "6.50",
              "withdrawal_excluded_skus": " SEALED-1 \n\nSEALED-2",
              "withdrawal_excluded_categories": "custom"}  # fmt: skip
    assert client.post("/merchant/settings/policy", data=fields).status_code == 303
    with app.app_context():
        policy = make.policy()
        assert (policy.withdrawal_days, policy.withdrawal_standard_delivery) == (30, 490)
        assert policy.withdrawal_shopper_pays_return and policy.withdrawal_return_cost == 650
        assert policy.withdrawal_excluded_skus == "SEALED-1\nSEALED-2"
        assert policy.withdrawal_excluded_categories == "custom"
    refused = client.post("/merchant/settings/policy", data={**fields, "withdrawal_days": "7"})
    assert refused.status_code == 422 and "Enter 14 to 3650 days." in refused.get_data(as_text=True)
    with app.app_context():
        assert make.policy().withdrawal_days == 30


def test_staff_process_a_withdrawal_as_usual_with_the_laws_refund(app, client, make):
    with app.app_context():
        make.policy(restocking_fee_bps=2000, return_shipping_fee=600, returns_enabled=False)
        manager, agent = make.staff("manager"), make.staff("agent")
        shopper = make.user("wanda@example.com")
        order = make.order(customer=shopper, lines=[factories.TEE, factories.CAP], shipping=500)
        rma = withdrawal.withdraw(order, shopper, None, {ln.id: ln.quantity for ln in order.lines})
        review.approve(rma, manager)
        lines = facts.lines_of(rma.id)
        receiving.receive(
            Return.get_by_id(rma.id), agent, {ln.id: (ln.quantity, 0) for ln in lines}
        )
        estimate = rma.estimated_refund
    assert estimate == 3 * 2400 + 1500 + 500  # goods and delivery; no 20% fee, no return fee
    login(client, manager.email)
    queue = client.get("/merchant/returns").get_data(as_text=True)
    assert "kind-withdrawal" in queue
    html = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert f"Withdrawal {rma.reference}" in html and 'id="withdrawal-note"' in html
    assert f'id="refund-total">${estimate / 100:.2f}</td>' in html

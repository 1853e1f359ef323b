"""Staff orders: the search, an order's page (per line: bought, returned, in a return,
returnable), and the returns staff create for a shopper from it."""

import html as htmllib
import re

import pytest

from portal.db import db
from portal.models import (
    OrderLine,
    OutboxMessage,
    Payment,
    Return,
    ReturnEvent,
    ReturnLine,
)
from portal.returns import receiving, requests, review
from portal.seed import GIFT_SET
from tests import factories
from tests.pages import errors, line_indexes, login
from tests.querycount import count_queries

TEE = factories.TEE
CAP = factories.CAP


# --- helpers --------------------------------------------------------------------------------


def numbers_in(html):
    return re.findall(r'class="order-number" href="/merchant/orders/([^"]+)"', html)


def row_numbers(html, line_id):
    """The numeric cells of an item's row: [price, bought, returned, in a return, returnable]."""
    row = re.search(rf'<tr id="line-{line_id}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', row, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def text_of(html):
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def lines_of(order):
    return {ln.sku: ln for ln in OrderLine.select().where(OrderLine.order == order.id)}


def post_data(indexes, picks, resolution="refund", note="", override=""):
    """picks = {order_line_id: (quantity, reason_id, note)}; every offered line is posted."""
    data = {"resolution": resolution, "note": note, "override_reason": override}
    for line_id, index in indexes.items():
        quantity, reason_id, line_note = picks.get(line_id, (0, "", ""))
        data[f"lines-{index}-order_line_id"] = str(line_id)
        data[f"lines-{index}-quantity"] = str(quantity)
        data[f"lines-{index}-reason"] = str(reason_id)
        data[f"lines-{index}-note"] = line_note
    return data


def create(client, number, picks, **kw):
    page = client.get(f"/merchant/orders/{number}")
    assert page.status_code == 200
    indexes = line_indexes(page.get_data(as_text=True))
    return client.post(f"/merchant/orders/{number}/returns", data=post_data(indexes, picks, **kw))


def written(app):
    with app.app_context():
        return {"returns": Return.select().count(), "outbox": OutboxMessage.select().count()}


def emails(app, rma_id):
    with app.app_context():
        rows = OutboxMessage.select().where(
            (OutboxMessage.rma == rma_id) & (OutboxMessage.kind == "email")
        )
        return sorted((m.payload["template"], m.payload["to"]) for m in rows)


@pytest.fixture
def shop(app, store):
    """The store plus an order of Sam's with a tee (3) and a cap (1)."""
    with app.app_context():
        order = factories.order(customer=store.shopper, lines=[TEE, CAP], number="R-2001")
        return store, order, lines_of(order)


# --- the search -----------------------------------------------------------------------------


@pytest.fixture
def orders(app, store):
    with app.app_context():
        kim = factories.user("kim@example.com", name="Kim Lee")
        factories.order(customer=kim, number="K-100", days_ago=3)
        factories.order(email="jo@example.net", number="J-200", days_ago=2)
        factories.order(customer=store.shopper, number="S-300", days_ago=1)
    return store


@pytest.mark.parametrize(
    "q, found",
    [
        ("J-200", ["J-200"]),  # by number
        ("#K-100", ["K-100"]),  # a leading "#" is ignored
        ("jo@example.net", ["J-200"]),  # by the whole email
        ("example.net", ["J-200"]),  # by part of it
        ("Kim Lee", ["K-100"]),  # by the shopper's name
        ("kim", ["K-100"]),
    ],
)
def test_search_by_number_email_and_name(client, orders, q, found):
    login(client, orders.agent.email)
    response = client.get("/merchant/orders", query_string={"q": q})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert numbers_in(html) == found
    assert f"matching “{htmllib.escape(q)}”" in html or f"matching “{q}”" in html


def test_the_search_lists_newest_first_and_says_when_nothing_matches(client, orders):
    login(client, orders.agent.email)
    html = client.get("/merchant/orders").get_data(as_text=True)
    assert numbers_in(html)[:3] == ["S-300", "J-200", "K-100"]
    assert "Sam Shopper" in html and "Guest" in html and "Delivered" in html
    assert '<div class="table-wrap">' in html
    assert '<label for="q">Order number, email or name</label>' in html

    html = client.get("/merchant/orders?q=nothing-like-it").get_data(as_text=True)
    assert numbers_in(html) == []
    assert "No orders match “nothing-like-it”." in html


def test_a_search_too_long_is_refused_in_words(client, orders):
    login(client, orders.agent.email)
    response = client.get("/merchant/orders", query_string={"q": "x" * 101})
    assert response.status_code == 200
    assert "Search for at most 100 characters." in errors(response.get_data(as_text=True))


def test_the_search_is_paginated_and_keeps_the_search(app, client, store):
    app.config["PER_PAGE"] = 2
    with app.app_context():
        for day in range(1, 6):
            factories.order(email="many@example.org", number=f"M-{day}", days_ago=day)
    login(client, store.agent.email)
    first = client.get("/merchant/orders?q=many@example.org").get_data(as_text=True)
    assert numbers_in(first) == ["M-1", "M-2"] and "Page 1 of 3" in first
    assert 'rel="next" href="/merchant/orders?page=2&amp;q=many@example.org"' in first
    last = client.get("/merchant/orders?q=many@example.org&page=3").get_data(as_text=True)
    assert numbers_in(last) == ["M-5"]


def test_htmx_gets_the_results_alone_with_the_pushed_url(client, orders):
    login(client, orders.agent.email)
    response = client.get("/merchant/orders?q=kim", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="order-results">')
    assert "<h1>" not in html and numbers_in(html) == ["K-100"]
    assert response.headers["HX-Push-Url"] == "/merchant/orders?q=kim"


# --- the order's page -----------------------------------------------------------------------


def test_the_order_page_counts_units_per_line_after_a_return_is_partly_received(app, client, shop):
    store, order, lines = shop
    tee, cap = lines["TEE-M"], lines["CAP"]
    with app.app_context():
        rma = requests.request_return(
            order, store.shopper, order.email, [(tee.id, 2, store.changed_mind.id, "")]
        )
        review.approve(rma, store.manager)
        line = ReturnLine.get(ReturnLine.rma == rma.id)
        receiving.receive(rma, store.agent, {line.id: (1,)})
        payment = Payment.get(Payment.order == order.id)
        with db.atomic():
            factories.make_refund(rma, 1200, payment=payment, status="succeeded")
    login(client, store.agent.email)
    response = client.get(f"/merchant/orders/{order.number}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # price, bought, returned, in a return, returnable
    assert row_numbers(html, tee.id) == ["$24.00", "3", "1", "1", "1"]
    assert row_numbers(html, cap.id) == ["$15.00", "1", "0", "0", "1"]
    text = text_of(html)
    assert "Sam Shopper" in text and order.email in text
    # The return, linked to its staff page, with its status and what was refunded.
    assert f'href="/merchant/returns/{rma.reference}"' in html
    row = re.search(rf'<tr id="return-{rma.id}">(.*?)</tr>', html, re.S).group(1)
    assert "Partially received" in row and "$12.00" in row
    # The refund with its return, the payment, the invoice.
    refund_row = re.search(r'<tr id="refund-\d+">(.*?)</tr>', html, re.S).group(1)
    assert rma.reference in refund_row and "Succeeded" in refund_row and "$12.00" in refund_row
    assert f"ch_{order.number}" in html
    assert f"INV-{order.number}" in html and "Sale" in html
    assert "Create a return for the shopper" in html
    assert "<script" not in html.split("</head>", 1)[1]


def test_the_order_page_says_why_nothing_is_returnable(app, client, store):
    with app.app_context():
        order = factories.order(lines=[factories.SOCKS], number="F-1")
    login(client, store.agent.email)
    html = text_of(client.get("/merchant/orders/F-1").get_data(as_text=True))
    assert "Final sale: this item can't be returned." in html
    assert "Create a return for the shopper" not in html
    assert "Nothing on this order can be returned now" in html
    assert order.number in html


def test_an_unknown_order_is_404(client, store):
    login(client, store.agent.email)
    assert client.get("/merchant/orders/NOPE-1").status_code == 404
    assert client.post("/merchant/orders/NOPE-1/returns", data={}).status_code == 404


def test_shoppers_get_403_on_both_pages(app, client, shop):
    store, order, lines = shop
    login(client, store.shopper.email)
    assert client.get("/merchant/orders").status_code == 403
    assert client.get(f"/merchant/orders/{order.number}").status_code == 403
    response = client.post(f"/merchant/orders/{order.number}/returns", data={})
    assert response.status_code == 403
    assert written(app)["returns"] == 0


def test_visitors_are_sent_to_sign_in(client, shop):
    store, order, lines = shop
    response = client.get(f"/merchant/orders/{order.number}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- creating a return ----------------------------------------------------------------------


def test_an_agents_return_waits_for_a_manager(app, client, shop):
    """Approving is a manager's: a return an agent creates is requested, whatever the setting."""
    store, order, lines = shop
    login(client, store.agent.email)
    html = text_of(client.get(f"/merchant/orders/{order.number}").get_data(as_text=True))
    assert "waits for a manager's approval" in html
    response = create(client, order.number, {lines["CAP"].id: (1, store.changed_mind.id, "")})
    assert response.status_code == 303
    with app.app_context():
        rma = Return.get(Return.order == order.id)
        assert rma.status == "requested"
        requested = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "requested"))
        assert requested.actor_id == store.agent.id


def test_a_manager_creates_an_approved_return_for_the_shopper(app, client, shop):
    store, order, lines = shop
    tee, cap = lines["TEE-M"], lines["CAP"]
    login(client, store.manager.email)
    response = create(client, order.number, {tee.id: (2, store.changed_mind.id, "Too big"),
                                             cap.id: (1, store.defective.id, "")},
                      resolution="store_credit", note="Called on the phone")  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        rma = Return.get(Return.order == order.id)
        assert response.headers["Location"].endswith(f"/merchant/returns/{rma.reference}")
        assert rma.status == "approved" and rma.resolution == "store_credit"
        assert rma.email == store.shopper.email and rma.requested_by_id == store.shopper.id
        assert rma.shopper_note == "Called on the phone"
        got = {(ln.order_line_id, ln.quantity, ln.reason_id, ln.note)
               for ln in ReturnLine.select().where(ReturnLine.rma == rma.id)}  # fmt: skip
        assert got == {(tee.id, 2, store.changed_mind.id, "Too big"),
                       (cap.id, 1, store.defective.id, "")}  # fmt: skip
        requested = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "requested"))
        assert requested.payload["by"] == "staff" and requested.actor_id == store.manager.id
        assert "override_reason" not in requested.payload
        approved = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "approved"))
        assert approved.payload["by"] == "staff"
    assert emails(app, rma.id) == [("return_approved", store.shopper.email),
                                   ("return_requested", store.shopper.email)]  # fmt: skip
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Return {rma.reference} created for {store.shopper.email}." in page
    # The order's page now counts those units as in a return.
    html = client.get(f"/merchant/orders/{order.number}").get_data(as_text=True)
    assert row_numbers(html, tee.id)[1:] == ["3", "0", "2", "1"]
    assert row_numbers(html, cap.id)[1:] == ["1", "0", "1", "0"]


def test_a_staff_return_waits_for_approval_when_the_store_says_so(app, client, shop):
    store, order, lines = shop
    with app.app_context():
        factories.policy(staff_returns_approved=False)
    login(client, store.agent.email)
    html = text_of(client.get(f"/merchant/orders/{order.number}").get_data(as_text=True))
    assert "waits for a manager's approval" in html
    response = create(client, order.number, {lines["CAP"].id: (1, store.changed_mind.id, "")})
    assert response.status_code == 303
    with app.app_context():
        rma = Return.get(Return.order == order.id)
        assert rma.status == "requested"
        event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "requested"))
        assert event.payload["by"] == "staff"
        assert (
            not ReturnEvent.select()
            .where((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "approved"))
            .exists()
        )
    assert emails(app, rma.id) == [("return_requested", store.shopper.email)]


def test_a_guest_order_gets_a_staff_return_too(app, client, store):
    with app.app_context():
        order = factories.order(email="guest@example.net", lines=[CAP], number="G-1")
        cap = lines_of(order)["CAP"]
    login(client, store.manager.email)
    response = create(client, "G-1", {cap.id: (1, store.changed_mind.id, "")})
    assert response.status_code == 303
    with app.app_context():
        rma = Return.get(Return.order == order.id)
        assert rma.email == "guest@example.net" and rma.requested_by_id is None
    assert ("return_requested", "guest@example.net") in emails(app, rma.id)


@pytest.fixture
def reasons(app):
    """A parent with a child (the parent isn't choosable), an inactive reason and one that needs
    a photo (offered to staff: taking a return by phone, they upload none)."""
    with app.app_context():
        parent = factories.reason("fit", "It doesn't fit")
        child = factories.reason("fit_small", "Too small", parent=parent)
        inactive = factories.reason("old", "Old reason")
        inactive.active = False
        inactive.save()
        photo = factories.reason("damaged", "Arrived damaged", merchant_fault=True,
                                 requires_photo=True)  # fmt: skip
        noted = factories.reason("other", "Other", requires_note=True)
    return {"parent": parent, "child": child, "inactive": inactive, "photo": photo, "noted": noted}


def test_the_form_offers_leaf_reasons_grouped_by_parent(app, client, shop, reasons):
    store, order, lines = shop
    login(client, store.agent.email)
    html = client.get(f"/merchant/orders/{order.number}").get_data(as_text=True)
    select = re.search(r'<select name="lines-0-reason".*?</select>', html, re.S).group(0)
    assert (
        '<optgroup label="It doesn&#39;t fit">' in select
        or '<optgroup label="It doesn\'t fit">' in select
    )
    assert f'<option value="{reasons["child"].id}">Too small</option>' in select
    assert f'value="{reasons["parent"].id}"' not in select
    assert f'value="{reasons["inactive"].id}"' not in select
    assert f'value="{reasons["photo"].id}"' in select
    assert '<label for="lines-0-reason">Reason' in html
    assert '<label for="lines-0-quantity">How many to return' in html
    assert '<label for="lines-0-note">Note' in html


BAD = {
    "too many units": (
        lambda s, r, lines: {lines["TEE-M"].id: (4, s.changed_mind.id, "")},
        {},
        "Only 3 of “Classic tee” can still be returned (you asked for 4).",
    ),
    "no line chosen": (lambda s, r, lines: {}, {}, "Choose at least one item and how many"),
    "missing reason": (
        lambda s, r, lines: {lines["CAP"].id: (1, "", "")},
        {},
        "Choose why you are returning “Wool cap”.",
    ),
    "a parent reason": (
        lambda s, r, lines: {lines["CAP"].id: (1, r["parent"].id, "")},
        {},
        "Choose a reason from the list.",
    ),
    "an inactive reason": (
        lambda s, r, lines: {lines["CAP"].id: (1, r["inactive"].id, "")},
        {},
        "Choose a reason from the list.",
    ),
    "an unknown reason": (
        lambda s, r, lines: {lines["CAP"].id: (1, "99999", "")},
        {},
        "Choose a reason from the list.",
    ),
    "a reason needing a note, without one": (
        lambda s, r, lines: {lines["CAP"].id: (1, r["noted"].id, "")},
        {},
        "a note is needed when the reason is “Other”",
    ),
    "a resolution not offered": (
        lambda s, r, lines: {lines["CAP"].id: (1, s.changed_mind.id, "")},
        {"resolution": "cash"},
        "Choose a refund to the original payment or store credit.",
    ),
    "an agent's override": (
        lambda s, r, lines: {lines["CAP"].id: (1, s.changed_mind.id, "")},
        {"override": "Good customer"},
        "Only a manager can take a return after its window closed.",
    ),
    "a quantity that isn't a number": (
        lambda s, r, lines: {lines["CAP"].id: ("two", s.changed_mind.id, "")},
        {},
        "Enter a whole number of units, like 1 or 2.",
    ),
    "a negative quantity": (
        lambda s, r, lines: {lines["CAP"].id: (-1, s.changed_mind.id, "")},
        {},
        "The number of units can't be negative.",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_is_refused_beside_its_input_and_nothing_is_written(app, client, shop,
                                                                      reasons, case):  # fmt: skip
    store, order, lines = shop
    picks, extra, message = BAD[case]
    login(client, store.agent.email)
    before = written(app)
    response = create(client, order.number, picks(store, reasons, lines), **extra)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert any(message in found for found in errors(html)), (message, errors(html))
    assert "Nothing was created: please check the return" in html
    assert written(app) == before
    # The page still shows the order and the form, with what was entered.
    assert "Create a return for the shopper" in html and f"Order #{order.number}" in html


def test_a_refused_line_keeps_what_was_entered(app, client, shop):
    store, order, lines = shop
    tee, cap = lines["TEE-M"], lines["CAP"]
    login(client, store.agent.email)
    response = create(client, order.number, {tee.id: (9, store.changed_mind.id, "Kept note"),
                                             cap.id: (1, store.defective.id, "")})  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="9"' in html and "Kept note" in html
    assert f'<option value="{store.defective.id}" selected>' in html
    assert 'aria-describedby="lines-0-quantity-error" aria-invalid="true"' in html


def test_an_order_line_of_another_order_is_refused(app, client, shop):
    store, order, lines = shop
    with app.app_context():
        other = OrderLine.get(OrderLine.order == store.order.id).id  # another order's line
    login(client, store.agent.email)
    before = written(app)
    data = post_data({other: 0}, {other: (1, store.changed_mind.id, "")})
    response = client.post(f"/merchant/orders/{order.number}/returns", data=data)
    assert response.status_code == 422
    assert f"That item is not part of order #{order.number}." in errors(
        response.get_data(as_text=True)
    )
    assert written(app) == before


def test_with_csrf_on_the_form_posts_its_token(csrf_app):
    app, client = csrf_app, csrf_app.test_client()
    with app.app_context():
        agent = factories.staff("agent")
        reason = factories.reason("changed_mind", "Changed my mind")
        order = factories.order(lines=[CAP], number="C-1")
        cap = lines_of(order)["CAP"]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"email": agent.email, "password": factories.PASSWORD,
                                "csrf_token": token})  # fmt: skip
    html = client.get("/merchant/orders/C-1").get_data(as_text=True)
    data = post_data(line_indexes(html), {cap.id: (1, reason.id, "")})
    assert client.post("/merchant/orders/C-1/returns", data=data).status_code == 400
    assert written(app)["returns"] == 0
    form = re.search(r'id="staff-return-form".*?name="csrf_token" value="([^"]+)"', html, re.S)
    response = client.post("/merchant/orders/C-1/returns",
                           data={**data, "csrf_token": form.group(1)})  # fmt: skip
    assert response.status_code == 303


# --- the closed return window: a manager's override -----------------------------------------


@pytest.fixture
def late(app, store):
    """An order delivered 43 days ago (placed 45), with the default 30-day window."""
    with app.app_context():
        factories.policy(window_days=30)
        order = factories.order(customer=store.shopper, lines=[TEE], days_ago=45, number="L-1")
        return store, order, lines_of(order)["TEE-M"]


def test_an_agent_sees_no_form_and_cant_override_a_closed_window(app, client, late):
    store, order, tee = late
    login(client, store.agent.email)
    html = client.get("/merchant/orders/L-1").get_data(as_text=True)
    assert "The return window closed on" in html
    assert "Create a return for the shopper" not in html
    assert "A manager can still create a return" in html
    before = written(app)
    data = post_data({tee.id: 0}, {tee.id: (1, store.changed_mind.id, "")}, override="Loyal")
    response = client.post("/merchant/orders/L-1/returns", data=data)
    assert response.status_code == 422
    assert "Only a manager can take a return after its window closed." in errors(
        response.get_data(as_text=True)
    )
    assert written(app) == before


def test_a_manager_overrides_a_closed_window_with_a_reason(app, client, late):
    store, order, tee = late
    login(client, store.manager.email)
    html = client.get("/merchant/orders/L-1").get_data(as_text=True)
    assert "Create a return for the shopper" in html
    assert "Only with a reason to override the closed window" in html
    assert '<label for="override_reason">Why override the closed return window?</label>' in html

    # Without a reason: refused, and the override field says what is missing.
    before = written(app)
    response = create(client, "L-1", {tee.id: (2, store.changed_mind.id, "")})
    assert response.status_code == 422
    found = errors(response.get_data(as_text=True))
    assert any("Give a reason to override the closed return window" in m for m in found), found
    assert any("The return window closed on" in m for m in found), found
    assert written(app) == before

    response = create(client, "L-1", {tee.id: (2, store.changed_mind.id, "")},
                      override="Courier lost the first parcel")  # fmt: skip
    assert response.status_code == 303, errors(response.get_data(as_text=True))
    with app.app_context():
        rma = Return.get(Return.order == order.id)
        event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "requested"))
        assert event.payload["override_reason"] == "Courier lost the first parcel"
        assert event.payload["by"] == "staff" and event.actor_id == store.manager.id
        assert ReturnLine.get(ReturnLine.rma == rma.id).quantity == 2


def test_no_override_is_offered_while_the_window_is_open(app, client, shop):
    store, order, lines = shop
    login(client, store.manager.email)
    html = client.get(f"/merchant/orders/{order.number}").get_data(as_text=True)
    assert 'name="override_reason"' not in html
    before = written(app)
    response = create(client, order.number, {lines["CAP"].id: (1, store.changed_mind.id, "")},
                      override="Just because")  # fmt: skip
    assert response.status_code == 422
    assert "The return window is still open: no override is needed." in errors(
        response.get_data(as_text=True)
    )
    assert written(app) == before


# --- bundles --------------------------------------------------------------------------------


def test_staff_return_one_component_of_a_bundle(app, client, store):
    with app.app_context():
        order = factories.order(customer=store.shopper, lines=[CAP, dict(GIFT_SET)], number="B-1")
        by_sku = lines_of(order)
    bundle, mug, candle = by_sku["GIFT-SET-WEEKEND"], by_sku["MUG-STONE"], by_sku["CANDLE-GIFT"]
    login(client, store.agent.email)
    html = client.get("/merchant/orders/B-1").get_data(as_text=True)
    assert re.search(rf'<tr id="line-{mug.id}" class="bundle-part">', html)
    assert re.search(rf'<tr id="line-{candle.id}" class="bundle-part">', html)
    assert row_numbers(html, bundle.id)[-1] == "0"
    assert "A bundle: return the parts" in html
    assert row_numbers(html, mug.id)[1:] == ["2", "0", "0", "2"]
    # The bundle line itself has no inputs; its parts do.
    indexes = line_indexes(html)
    assert set(indexes) == {by_sku["CAP"].id, mug.id, candle.id}
    assert "part of Weekend gift set" in html

    response = create(client, "B-1", {mug.id: (1, store.defective.id, "Chipped")})
    assert response.status_code == 303, errors(response.get_data(as_text=True))
    with app.app_context():
        rma = Return.get(Return.order == order.id)
        got = [(ln.order_line_id, ln.quantity) for ln in ReturnLine.select().where(
            ReturnLine.rma == rma.id)]  # fmt: skip
        assert got == [(mug.id, 1)]
    html = client.get("/merchant/orders/B-1").get_data(as_text=True)
    assert row_numbers(html, mug.id)[1:] == ["2", "0", "1", "1"]


# --- query counts ---------------------------------------------------------------------------


def _queries(app, client, path):
    client.get(path)  # warm up
    with app.app_context(), count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    return counter


def test_the_order_page_runs_as_many_queries_for_8_lines_as_for_1(app, client, store):
    with app.app_context():
        small = factories.order(customer=store.shopper, lines=[CAP], number="Q-1")
        big = factories.order(
            customer=store.shopper, number="Q-8",
            lines=[{"sku": f"S{i}", "title": f"Item {i}", "quantity": 2} for i in range(7)]
            + [dict(GIFT_SET)],
        )  # fmt: skip
        for order in (small, big):  # a return with a refund on each
            line = OrderLine.select().where(OrderLine.order == order.id).first()
            rma = factories.create_return(order, [(line, 1, None)], reason=store.changed_mind)
            with db.atomic():
                factories.make_refund(rma, 100, payment=Payment.get(Payment.order == order.id),
                                      status="succeeded")  # fmt: skip
    login(client, store.agent.email)
    one = _queries(app, client, "/merchant/orders/Q-1")
    eight = _queries(app, client, "/merchant/orders/Q-8")
    assert len(line_indexes(client.get("/merchant/orders/Q-8").get_data(as_text=True))) == 9
    assert one.count == eight.count, (one, eight)
    assert one.count == 3, one  # user, order, the rest in one statement (issue 17)


def test_the_search_runs_as_many_queries_for_15_results_as_for_2(app, client, store):
    login(client, store.agent.email)
    with app.app_context():
        for i in range(2):
            factories.order(customer=store.shopper, number=f"P-{i}")
    two = _queries(app, client, "/merchant/orders?q=P-")
    with app.app_context():
        for i in range(2, 15):
            if i % 2:
                factories.order(email=f"guest{i}@example.org", number=f"P-{i}")
            else:
                shopper = factories.user(f"p{i}@example.org", name=f"Pat {i}")
                factories.order(customer=shopper, number=f"P-{i}")
    fifteen = _queries(app, client, "/merchant/orders?q=P-")
    assert len(numbers_in(client.get("/merchant/orders?q=P-").get_data(as_text=True))) == 15
    assert two.count == fifteen.count, (two, fifteen)
    assert two.count == 3, two


def test_creating_a_return_with_more_lines_runs_no_more_page_queries(app, client, store):
    """The form's own reads (the reason tree, the policy) happen once, not once per line."""
    with app.app_context():
        factories.order(customer=store.shopper, lines=[CAP], number="W-1")
        factories.order(customer=store.shopper, number="W-8",
                        lines=[{"sku": f"S{i}", "quantity": 1} for i in range(8)])  # fmt: skip
    login(client, store.agent.email)

    def refused(number):
        with app.app_context(), count_queries() as counter:
            response = client.post(f"/merchant/orders/{number}/returns",
                                   data={"resolution": "refund"})  # fmt: skip
        assert response.status_code == 422
        return counter.count

    refused("W-1")  # warm up
    assert refused("W-1") == refused("W-8") == 4  # 14 before issue 17


def test_staff_take_a_return_whose_reason_needs_a_photo_without_one(app, client, shop, reasons):
    """The shopper's photo is asked of shoppers' own requests; staff on the phone have none."""
    store, order, lines = shop
    login(client, store.manager.email)
    response = create(client, order.number, {lines["CAP"].id: (1, reasons["photo"].id, "")})
    assert response.status_code == 303
    with app.app_context():
        assert (
            ReturnLine.get(ReturnLine.order_line == lines["CAP"].id).reason_id
            == reasons["photo"].id
        )

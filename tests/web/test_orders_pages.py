"""The shopper's order history and order pages."""

import re

import pytest

from portal.models import Order, Product
from portal.returns.eligibility import last_day
from tests.pages import login
from tests.querycount import count_queries


def order_numbers(html):
    return re.findall(r'class="order-number" href="/orders/([^"]+)"', html)


@pytest.fixture
def jo(app, make):
    with app.app_context():
        return make.user("jo@example.com", name="Jo")


def test_orders_lists_only_my_orders_newest_first(app, client, make, sam, jo):
    with app.app_context():
        old = make.order(customer=sam, days_ago=30, number="A-OLD")
        new = make.order(customer=sam, days_ago=1, number="A-NEW", delivered=False)
        mid = make.order(customer=sam, days_ago=10, number="A-MID")
        make.order(customer=jo, days_ago=2, number="B-JO")
        make.order(email="guest@example.net", days_ago=3, number="C-GUEST")
    login(client, "sam@example.com")
    response = client.get("/orders")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert order_numbers(html) == [new.number, mid.number, old.number]
    assert "B-JO" not in html and "C-GUEST" not in html


def test_orders_without_any(client, sam):
    login(client, "sam@example.com")
    assert "You have no orders yet." in client.get("/orders").get_data(as_text=True)


def test_orders_are_paginated(app, client, make, sam):
    app.config["PER_PAGE"] = 3
    with app.app_context():
        numbers = [make.order(customer=sam, days_ago=day).number for day in range(1, 8)]
    login(client, "sam@example.com")

    pages = {n: client.get(f"/orders?page={n}").get_data(as_text=True) for n in (1, 2, 3)}
    assert order_numbers(pages[1]) == numbers[0:3]
    assert order_numbers(pages[2]) == numbers[3:6]
    assert order_numbers(pages[3]) == numbers[6:7]
    assert "Page 1 of 3" in pages[1]
    assert 'rel="next" href="/orders?page=2"' in pages[1]
    assert 'rel="prev"' not in pages[1]
    assert 'rel="prev" href="/orders?page=2"' in pages[3]
    assert 'rel="next"' not in pages[3]
    # A page past the end is simply empty, not an error.
    assert order_numbers(client.get("/orders?page=9").get_data(as_text=True)) == []


def test_odd_page_numbers_fall_back_to_page_one(app, client, make, sam):
    app.config["PER_PAGE"] = 2
    with app.app_context():
        numbers = [make.order(customer=sam, days_ago=day).number for day in range(1, 4)]
    login(client, "sam@example.com")
    for raw in ["abc", "0", "-1", "1.5", "", "99999999999", "%00", "2x", "１"]:
        response = client.get("/orders", query_string={"page": raw})
        assert response.status_code == 200, raw
        html = response.get_data(as_text=True)
        assert order_numbers(html) == numbers[:2], raw
        assert "Page 1 of 2" in html, raw


def test_orders_page_runs_a_constant_number_of_queries(app, client, make, sam):
    app.config["PER_PAGE"] = 50
    three_lines = [{"sku": f"SKU-{i}", "title": f"Thing {i}"} for i in range(3)]
    with app.app_context():
        make.order(customer=sam, lines=three_lines)
    login(client, "sam@example.com")
    client.get("/orders")  # warm up (the policy's per-process cache)
    with count_queries() as few:
        assert client.get("/orders").status_code == 200

    with app.app_context():
        for day in range(1, 20):
            make.order(customer=sam, days_ago=day, lines=three_lines)
    with count_queries() as many:
        html = client.get("/orders").get_data(as_text=True)
    assert len(order_numbers(html)) == 20
    assert many.count == few.count, (few, many)
    # the session user; the page (its orders, their lines and pictures, units already in
    # returns, the policy, the count) in one statement
    assert many.count == 2, many


def test_order_page_shows_lines_payments_and_delivery(app, client, make, sam):
    lines = [
        {"sku": "TEE-M", "title": "Classic tee", "quantity": 2, "unit_price": 2000, "unit_tax": 400,
         "variant": {"size": "M", "colour": "blue"}},
        {"sku": "SOCKS", "title": "Wool socks", "quantity": 1, "unit_price": 900,
         "final_sale": True},
    ]  # fmt: skip
    total = 500 + 2 * 2400 + 900
    payments = [
        {"method": "card", "reference": "ch_1", "amount": total - 1000},
        {"method": "gift_card", "reference": "gc_1", "amount": 1000},
    ]
    with app.app_context():
        order = make.order(customer=sam, lines=lines, payments=payments, number="R-1001")
        delivered = order.delivered_at.strftime("%d %b %Y")
    login(client, "sam@example.com")
    response = client.get("/orders/R-1001")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Order #R-1001" in html
    assert "Classic tee" in html and "Wool socks" in html
    assert "colour: blue, size: M" in html
    assert "$24.00" in html  # unit price with tax
    assert "Final sale" in html
    assert "Card: $52.00" in html
    assert "Gift card: $10.00" in html
    assert "Includes shipping $5.00" in html
    assert delivered in html


def test_undelivered_order_says_so(app, client, make, sam):
    with app.app_context():
        make.order(customer=sam, delivered=False, number="R-2002")
    login(client, "sam@example.com")
    assert "Not delivered yet" in client.get("/orders/R-2002").get_data(as_text=True)


def test_another_shoppers_order_is_404(app, client, make, sam, jo):
    with app.app_context():
        make.order(customer=jo, number="JO-1")
        make.order(email="guest@example.net", number="GUEST-1")
    login(client, "sam@example.com")
    for number in ("JO-1", "GUEST-1", "NO-SUCH-ORDER"):
        response = client.get(f"/orders/{number}")
        assert response.status_code == 404, number
        assert number not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/orders", "/orders/R-1", "/orders?page=2"])
def test_anonymous_is_redirected_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_guest_orders_attach_when_the_shopper_signs_up(app, client, make):
    with app.app_context():
        make.order(email="new@example.com", number="G-1")
        make.user("New@Example.com")
    login(client, "new@example.com")
    assert order_numbers(client.get("/orders").get_data(as_text=True)) == ["G-1"]


def test_the_list_marks_returnable_orders_and_until_when_and_starts_a_return(app, client, make,
                                                                             sam):  # fmt: skip
    with app.app_context():
        make.policy(window_days=30)
        make.order(customer=sam, days_ago=10, number="OPEN-1", lines=[{"title": "Blue scarf"}])
        make.order(customer=sam, days_ago=60, number="SHUT-1", lines=[{"title": "Red hat"}])
        make.order(customer=sam, days_ago=1, number="WAIT-1", delivered=False)
        delivered = Order.get(Order.number == "OPEN-1").delivered_at
        until = last_day(delivered, 30)
    login(client, "sam@example.com")
    html = client.get("/orders").get_data(as_text=True)
    card = html.split('id="order-OPEN-1"')[1].split("</li>")[0]
    assert "Returnable" in card and f"1 item can be returned until {until:%d %b %Y}." in card
    assert 'href="/orders/OPEN-1/return"' in card
    for number in ("SHUT-1", "WAIT-1"):
        other = html.split(f'id="order-{number}"')[1].split("</li>")[0]
        assert "Returnable" not in other and "/return" not in other


def test_the_list_searches_numbers_and_product_names(app, client, make, sam, jo):
    with app.app_context():
        make.order(customer=sam, number="S-100", lines=[{"title": "Blue scarf"}])
        make.order(customer=sam, number="S-200", lines=[{"title": "Red hat"}])
        make.order(customer=jo, number="J-300", lines=[{"title": "Blue scarf"}])
    login(client, "sam@example.com")
    assert order_numbers(client.get("/orders?q=scarf").get_data(as_text=True)) == ["S-100"]
    assert order_numbers(client.get("/orders?q=%23S-2").get_data(as_text=True)) == ["S-200"]
    html = client.get("/orders?q=nothing-like-it").get_data(as_text=True)
    assert order_numbers(html) == [] and "No order matches “nothing-like-it”" in html
    assert 'value="scarf"' in client.get("/orders?q=scarf").get_data(as_text=True)


def test_pictures_come_from_the_line_else_the_catalogue(app, client, make, sam):
    with app.app_context():
        make.product("SCARF", [("SCARF-B", {"colour": "blue"}, 1000, 0, None)])
        Product.update(image_url="https://cdn.example.com/scarf.jpg").execute()
        make.order(customer=sam, number="P-1", lines=[
            {"sku": "SCARF-B", "title": "Blue scarf"},
            {"sku": "HAT", "title": "Hat", "image_url": "https://cdn.example.com/hat.jpg"},
            {"sku": "PLAIN", "title": "Plain thing"},
        ])  # fmt: skip
    login(client, "sam@example.com")
    for path in ("/orders", "/orders/P-1"):
        html = client.get(path).get_data(as_text=True)
        assert html.count('class="thumb"') == 2, path
        assert 'src="https://cdn.example.com/scarf.jpg"' in html
        assert 'src="https://cdn.example.com/hat.jpg"' in html
    csp = client.get("/orders").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https:" in csp

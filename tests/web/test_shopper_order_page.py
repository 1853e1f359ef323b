"""The order page: ordered / already returned / returnable units per line, why a line can't be
returned, and the "Request a return" action only when something can be."""

import re

import pytest

from portal.db import db
from portal.returns.requests import request_return
from tests import factories
from tests.pages import login
from tests.querycount import count_queries


def rows(html):
    """{title: ([ordered, taken, returnable], why)} from the order page's table."""
    result = {}
    for row in re.findall(r'<tr id="line-\d+">(.*?)</tr>', html, re.S):
        title = row.split("<td>", 1)[1].split("<", 1)[0].strip()
        numbers = re.findall(r'<td class="num"[^>]*>(?:<strong>)?(\d+)', row)
        why = re.search(r'<p class="muted small why-not">(.*?)</p>', row)
        result[title] = (numbers, why.group(1).replace("&#39;", "'") if why else "")
    return result


def test_each_line_says_what_can_be_returned_and_why_not(app, client, make, sam):
    with app.app_context():
        reasons = factories.reasons()
        _, order, lines = factories.shop(email="x@example.com")  # another account's order ...
        order.customer = sam  # ... moved to Sam, to keep the fixture's lines
        order.save()
        request_return(order, sam, sam.email,
                       [(lines["TEE-M"].id, 2, reasons["changed_mind"].id)])  # fmt: skip
        db.close()
    login(client, "sam@example.com")
    html = client.get("/orders/R-1001").get_data(as_text=True)
    found = rows(html)
    assert found["Classic tee"] == (["3", "2", "1"], "")
    assert found["Wool cap"] == (["1", "0", "1"], "")
    assert found["Wool socks"] == (["1", "0", "0"], "Final sale: this item can't be returned.")
    assert "Returnable until" in html
    assert 'href="/orders/R-1001/return"' in html and "Request a return" in html
    assert "Returns on this order" in html and "RMA-" in html


@pytest.mark.parametrize(
    ("kwargs", "policy", "why"),
    [
        ({"delivered": False}, {}, "Not delivered yet: you can return it once it has arrived."),
        ({"invoiced": False}, {}, "Not invoiced yet"),
        ({"days_ago": 45}, {}, "The return window closed on"),
        ({}, {"returns_enabled": False}, "Returns are switched off"),
        ({"days_ago": 12}, {"window_days": 7}, "(7 days from delivery)"),
    ],
)
def test_nothing_returnable_hides_the_action(app, client, make, sam, kwargs, policy, why):
    with app.app_context():
        make.policy(**policy)
        make.order(customer=sam, number="N-1", **kwargs)
        db.close()
    login(client, "sam@example.com")
    html = client.get("/orders/N-1").get_data(as_text=True)
    ((numbers, reason),) = rows(html).values()
    assert numbers[-1] == "0" and why in reason
    assert "Request a return" not in html
    assert "Nothing on this order can be returned right now" in html


def test_fully_returned_lines_say_so(app, client, make, sam):
    with app.app_context():
        reason = make.reason()
        order = make.order(customer=sam, number="F-1", lines=[{"quantity": 2}])
        request_return(order, sam, sam.email, [(order.lines.get().id, 2, reason.id)])
        db.close()
    login(client, "sam@example.com")
    ((numbers, reason_text),) = rows(client.get("/orders/F-1").get_data(as_text=True)).values()
    assert numbers == ["2", "2", "0"]
    assert reason_text == "All 2 are already returned or in a return request."


def test_the_order_page_query_count_does_not_grow_with_lines(app, client, make, sam):
    with app.app_context():
        reason = make.reason()
        small = make.order(customer=sam, number="Q-1", lines=[{"quantity": 2}])
        big = make.order(customer=sam, number="Q-2",
                         lines=[{"sku": f"S{i}", "quantity": 3} for i in range(15)])  # fmt: skip
        for order in (small, big):
            line = order.lines.first()
            request_return(order, sam, sam.email, [(line.id, 1, reason.id)])
        db.close()
    login(client, "sam@example.com")
    client.get("/orders/Q-1")  # warm up (the policy's per-process cache)
    with count_queries() as few:
        assert client.get("/orders/Q-1").status_code == 200
    with count_queries() as many:
        assert client.get("/orders/Q-2").status_code == 200
    assert many.count == few.count, (few, many)
    # the session user, the order, and one statement for its lines, returns and payments
    assert many.count == 3, many

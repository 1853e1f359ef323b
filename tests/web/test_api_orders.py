"""Orders in through the API: PUT creates an order with the import's rules (bundles, payments,
invoices, the delivery date), PUT again updates it, GET reads it back with each line's
returnable units and why not. Bad input of every kind is a 400/422 problem that changes
nothing, including an update that would take units away from a return."""

import copy

import pytest

from portal.models import Invoice, Order, OrderLine, Payment
from tests import factories
from tests.api_client import call, is_problem, order_body

PATH = "/api/v1/orders/W-300"


@pytest.fixture
def key(app):
    with app.app_context():
        factories.store()
        _, token = factories.api_key(scopes=("orders:write", "returns:write"))
    return token


def snapshot(app):
    with app.app_context():
        return (
            factories.counts(),
            [tuple(r) for r in OrderLine.select(OrderLine.sku, OrderLine.quantity,
                                                OrderLine.unit_price).tuples()],
            [tuple(p) for p in Payment.select(Payment.reference, Payment.amount).tuples()],
            [tuple(o) for o in Order.select(Order.number, Order.email, Order.status).tuples()],
        )  # fmt: skip


def bundle_body():
    body = order_body(quantity=1, unit_price=2500)
    body["lines"].append({
        "sku": "KIT", "title": "Sock kit", "quantity": 2, "unit_price": 1500, "invoice": "INV-1",
        "components": [{"sku": "SOCK-A", "title": "Sock A", "quantity": 1, "unit_price": 1000},
                       {"sku": "SOCK-B", "title": "Sock B", "quantity": 1, "unit_price": 500}],
    })  # fmt: skip
    body["payments"][0]["amount"] = 2500 + 2 * 1500 + 500
    return body


def test_put_creates_an_order_with_a_bundle_and_get_reads_returnable_units(app, client, key):
    created = call(client, "PUT", PATH, key, json=bundle_body())
    assert created.status_code == 200, created.data
    order = created.get_json()
    lines = {ln["sku"]: ln for ln in order["lines"]}
    assert set(lines) == {"TEE-M", "KIT", "SOCK-A", "SOCK-B"}
    assert lines["SOCK-A"]["quantity"] == 2 and lines["SOCK-A"]["bundle_id"] == lines["KIT"]["id"]
    assert lines["TEE-M"]["returnable"] == 1 and lines["TEE-M"]["eligible"]
    assert lines["KIT"]["returnable"] == 0 and lines["KIT"]["reason"]  # parts are returned
    assert lines["SOCK-B"]["last_day"]
    read = call(client, "GET", PATH, key)
    assert read.status_code == 200 and read.get_json() == order


def test_put_again_updates_the_order(app, client, key):
    call(client, "PUT", PATH, key, json=order_body(quantity=2))
    body = order_body(quantity=3)
    body["lines"].append({"sku": "CAP", "title": "Cap", "quantity": 1, "unit_price": 1200,
                          "final_sale": True, "invoice": "INV-1"})  # fmt: skip
    body["payments"] = [{"method": "card", "reference": "ch_1", "amount": 7500 + 1200 + 500}]
    body["invoices"].append({"number": "INV-2"})
    updated = call(client, "PUT", PATH, key, json=body)
    assert updated.status_code == 200, updated.data
    lines = {ln["sku"]: ln for ln in updated.get_json()["lines"]}
    assert lines["TEE-M"]["quantity"] == 3 and lines["CAP"]["reason"] == "final_sale"
    with app.app_context():
        assert Order.select().count() == 2  # the store's and this one, updated in place
        assert Payment.get(Payment.reference == "ch_1").amount == 9200
        assert {i.number for i in Invoice.select().where(Invoice.order == Order.get(
            Order.number == "W-300"))} == {"INV-1", "INV-2"}  # fmt: skip


def test_an_update_that_drops_or_lowers_returned_lines_is_422_and_changes_nothing(app, client,
                                                                                  key):  # fmt: skip
    order = call(client, "PUT", PATH, key, json=order_body(quantity=2)).get_json()
    with app.app_context():
        reason = factories.reason(code="changed")
    made = call(client, "POST", "/api/v1/returns", key, json={
        "order": "W-300", "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 2,
                                     "reason": reason.code}]})  # fmt: skip
    assert made.status_code == 201, made.data
    before = snapshot(app)

    lower = order_body(quantity=1)
    lower["payments"][0]["amount"] = 3000
    body = is_problem(call(client, "PUT", PATH, key, json=lower), 422)
    assert "can't go below 2" in body["detail"]

    dropped = order_body()
    dropped["lines"] = [{"sku": "OTHER", "title": "Other", "quantity": 2, "unit_price": 2500,
                         "invoice": "INV-1"}]  # fmt: skip
    assert "can't be removed" in is_problem(call(client, "PUT", PATH, key, json=dropped),
                                            422)["detail"]  # fmt: skip
    repriced = order_body(unit_price=2000)
    repriced["payments"][0]["amount"] = 4500
    assert "price" in is_problem(call(client, "PUT", PATH, key, json=repriced), 422)["detail"]
    assert snapshot(app) == before
    read = call(client, "GET", PATH, key).get_json()
    assert read["lines"][0]["in_returns"] == 2 and read["lines"][0]["returnable"] == 0


BAD = [
    ("malformed JSON", b'{"email": ', 400, "(body)"),
    ("not an object", b"[1, 2]", 422, "(body)"),
    ("wrong type", {"quantity": "two"}, 422, "lines.0.quantity"),
    ("unknown field", {"colour": "red"}, 422, "lines.0.colour"),
    ("unknown top field", {"top": True}, 422, "top"),
    ("negative price", {"unit_price": -1}, 422, "lines.0.unit_price"),
    ("too large", {"unit_price": 2**40}, 422, "lines.0.unit_price"),
    ("payments off", {"payments": []}, 422, "(body)"),
    ("bad currency", {"currency": "XXX"}, 422, "(body)"),
]


@pytest.mark.parametrize(("what", "change", "status", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_problem_per_field_and_changes_nothing(app, client, key, what, change,
                                                              status, field):  # fmt: skip
    before = snapshot(app)
    if isinstance(change, bytes):
        answer = call(client, "PUT", PATH, key, data=change)
    else:
        body = copy.deepcopy(order_body())
        for name, value in change.items():
            if name in ("quantity", "colour", "unit_price"):
                body["lines"][0][name] = value
            else:
                body[name] = value
        answer = call(client, "PUT", PATH, key, json=body)
    problem = is_problem(answer, status)
    assert field in [e["field"] for e in problem.get("errors", [])], problem
    assert snapshot(app) == before


def test_an_unknown_order_is_404_and_a_bad_number_too(app, client, key):
    is_problem(call(client, "GET", "/api/v1/orders/NOPE", key), 404)
    is_problem(call(client, "PUT", "/api/v1/orders/a%20b", key, json=order_body()), 404)


def test_an_update_keeps_the_lines_returns_hold(app, client, key):
    order = call(client, "PUT", PATH, key, json=order_body(quantity=2)).get_json()
    line_id = order["lines"][0]["id"]
    with app.app_context():
        reason = factories.reason(code="changed")
    made = call(client, "POST", "/api/v1/returns", key, json={
        "order": "W-300", "lines": [{"order_line_id": line_id, "quantity": 1,
                                     "reason": reason.code}]})  # fmt: skip
    assert made.status_code == 201
    more = order_body(quantity=4)
    more["payments"][0]["amount"] = 4 * 2500 + 500
    updated = call(client, "PUT", PATH, key, json=more).get_json()
    [line] = updated["lines"]
    assert line["id"] == line_id and line["quantity"] == 4 and line["in_returns"] == 1
    assert line["returnable"] == 3 and updated["returns"] == [made.get_json()["reference"]]

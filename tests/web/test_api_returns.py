"""Returns through the API: created for an order the shop PUT, read with its next actions (the
same ones the staff page shows), driven by one POST per action chosen from `actions`; each
answer is the whole return. Versions: a stale one is a 409 and changes nothing."""

import pytest

from portal.models import Refund, Return, ReturnEvent
from portal.returns.detail import return_detail
from tests import factories
from tests.api_client import body_for, call, is_problem, next_call, order_body
from tests.pages import login
from tests.querycount import count_queries


@pytest.fixture
def shop(app):
    """A store (staff, reasons, locations), a key with every scope, an order PUT through the API."""
    with app.app_context():
        made = factories.store()
        _, token = factories.api_key()
    client = app.test_client()
    put = call(client, "PUT", "/api/v1/orders/W-100", token, json=order_body())
    assert put.status_code == 200, put.data
    return made, token, client, put.get_json()


def create(client, token, order, made, quantity=2, **extra):
    body = {"order": "W-100", "lines": [{"order_line_id": order["lines"][0]["id"],
            "quantity": quantity, "reason": made.changed_mind.code}],
            "on_behalf_of": "shopper", **extra}  # fmt: skip
    return call(client, "POST", "/api/v1/returns", token, json=body)


def test_a_return_is_driven_by_its_actions_up_to_the_refund(app, shop):
    made, token, client, order = shop
    created = create(client, token, order, made)
    assert created.status_code == 201, created.data
    rma = created.get_json()
    assert rma["status"] == "requested" and rma["lines"][0]["requested"] == 2
    assert [a["name"] for a in rma["actions"]][:2] == ["approve", "reject"]
    assert created.headers["ETag"] == f'"{rma["version"]}"'
    steps = []
    while not steps or steps[-1] != "refund":
        action = next_call(rma, ("approve", "receive", "inspect", "restock", "refund"))
        answer = call(client, "POST", action["path"], token,
                      json=body_for(action, rma, made.main.code))  # fmt: skip
        assert answer.status_code == 200, answer.data
        rma = answer.get_json()
        steps.append(action["name"])
        # the API's actions are the staff page's next actions
        with app.app_context():
            detail = return_detail(Return.get(Return.reference == rma["reference"]))
            assert sorted({a["step"] for a in rma["actions"]}) == sorted(detail.actions)
    assert steps == ["approve", "receive", "restock", "refund"]
    assert rma["refunds"][0]["status"] == "pending" and rma["lines"][0]["refunded"] == 2
    assert rma["lines"][0]["received"] == 2 and rma["lines"][0]["restocked"] == 2
    # no worker here: the refund is pending, so finishing isn't offered yet
    assert "finish" not in [a["name"] for a in rma["actions"]] and rma["finish_blocker"]
    with app.app_context():
        events = ReturnEvent.select().where(ReturnEvent.kind == "approved").get()
        assert events.actor.name.startswith("API key")  # the key acted, by name
    listed = call(client, "GET", "/api/v1/returns?status=received", token).get_json()
    assert [r["reference"] for r in listed["items"]] == [rma["reference"]]


def test_the_staff_page_shows_the_return_the_api_made(app, shop):
    made, token, client, order = shop
    rma = create(client, token, order, made).get_json()
    staff = app.test_client()
    login(staff, made.manager.email)
    page = staff.get(f"/merchant/returns/{rma['reference']}")
    assert page.status_code == 200 and b'data-actions="review hold cancel"' in page.data
    assert [a["step"] for a in rma["actions"]] == ["review", "review", "hold", "cancel"]


def test_a_stale_version_is_409_and_changes_nothing(app, shop):
    made, token, client, order = shop
    rma = create(client, token, order, made).get_json()
    path = f"/api/v1/returns/{rma['reference']}"
    held = call(client, "POST", f"{path}/hold", token, json={"note": "checking",
                                                              "version": rma["version"]})  # fmt: skip
    assert held.status_code == 200
    stale = call(client, "POST", f"{path}/resume", token, json={"version": rma["version"]})
    assert "changed this return" in is_problem(stale, 409)["detail"]
    header = call(client, "POST", f"{path}/resume", token, json={},
                  headers={"If-Match": f'"{rma["version"]}"'})  # fmt: skip
    is_problem(header, 409)
    with app.app_context():
        assert Return.get(Return.reference == rma["reference"]).status == "on_hold"
    fresh = call(client, "POST", f"{path}/resume", token, json={},
                 headers={"If-Match": held.headers["ETag"]})  # fmt: skip
    assert fresh.status_code == 200 and fresh.get_json()["status"] == "requested"


def test_a_refused_action_is_422_with_the_domain_message_and_nothing_changes(app, shop):
    made, token, client, order = shop
    rma = create(client, token, order, made).get_json()
    path = f"/api/v1/returns/{rma['reference']}"
    with app.app_context():
        before = factories.counts()
    early = call(client, "POST", f"{path}/receive", token,
                 json={"lines": [{"line_id": rma["lines"][0]["id"], "received": 1}]})  # fmt: skip
    assert "Approve this return" in is_problem(early, 422)["detail"]
    too_many = create(client, token, order, made, quantity=5)
    is_problem(too_many, 422)
    unknown = call(client, "GET", f"{path}-nope", token)
    is_problem(unknown, 404)
    with app.app_context():
        assert factories.counts() == before and Refund.select().count() == 0


def test_the_list_filters_and_pages_by_cursor(app, shop):
    made, token, client, order = shop
    refs = []
    for _ in range(3):
        answer = create(client, token, order, made, quantity=1)
        if answer.status_code == 201:
            refs.append(answer.get_json()["reference"])
    assert len(refs) == 2  # two units bought: the third request is refused
    first = call(client, "GET", "/api/v1/returns?limit=1", token).get_json()
    assert [r["reference"] for r in first["items"]] == refs[:1] and first["next_cursor"]
    second = call(client, "GET", f"/api/v1/returns?limit=1&cursor={first['next_cursor']}",
                  token).get_json()  # fmt: skip
    assert [r["reference"] for r in second["items"]] == refs[1:] and second["next_cursor"] is None
    by_email = call(client, "GET", "/api/v1/returns?email=SAM@example.com&order=W-100", token)
    assert len(by_email.get_json()["items"]) == 2
    since = call(client, "GET", "/api/v1/returns?updated_since=2999-01-01T00:00:00Z", token)
    assert since.get_json()["items"] == []
    bad = call(client, "GET", "/api/v1/returns?status=lost&limit=0", token)
    fields = {e["field"] for e in is_problem(bad, 422)["errors"]}
    assert fields == {"status", "limit"}


def test_the_list_costs_the_same_queries_for_one_return_as_for_many(app, shop):
    """The key, then one query for the page: no query per return."""
    made, token, client, order = shop
    create(client, token, order, made, quantity=1)
    counts = []
    for _ in range(2):
        with count_queries() as counter:
            answer = call(client, "GET", "/api/v1/returns", token)
        counts.append(counter.count)
        create(client, token, order, made, quantity=1)
    assert answer.status_code == 200 and len(answer.get_json()["items"]) == 2
    assert counts[0] == counts[1] == 2, counter

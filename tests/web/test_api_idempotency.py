"""Idempotency-Key on POSTs: the first answer is stored and replayed for the same key and body
(nothing changes the second time), the same key with another body is a 422, a key is per API
key, 10 identical refund POSTs at once make one refund, and old rows are purged."""

import datetime
import threading

import pytest

from portal.db import db
from portal.models import IdempotentRequest, OutboxMessage, Refund, ReturnEvent
from portal.returns import idempotency
from tests import factories
from tests.api_client import call, is_problem, order_body


@pytest.fixture
def received(app):
    """A return received in full through the API (refund is its next action) and a key."""
    return receive_one(app)


def receive_one(app):
    with app.app_context():
        made = factories.store()
        _, token = factories.api_key()
    client = app.test_client()
    order = call(client, "PUT", "/api/v1/orders/W-200", token, json=order_body()).get_json()
    rma = call(client, "POST", "/api/v1/returns", token, json={
        "order": "W-200", "on_behalf_of": "staff",
        "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 2,
                   "reason": made.changed_mind.code}]}).get_json()  # fmt: skip
    assert rma["status"] == "approved"
    path = f"/api/v1/returns/{rma['reference']}"
    rma = call(client, "POST", f"{path}/receive", token, json={
        "lines": [{"line_id": rma["lines"][0]["id"], "received": 2}]}).get_json()  # fmt: skip
    assert "refund" in [a["name"] for a in rma["actions"]]
    return token, client, path, rma


def test_a_replayed_post_returns_the_stored_answer_and_changes_nothing(app, received):
    token, client, path, rma = received
    key = {"Idempotency-Key": "refund-1"}
    body = {"version": rma["version"]}
    first = call(client, "POST", f"{path}/refund", token, json=body, headers=key)
    assert first.status_code == 200, first.data
    with app.app_context():
        counts = factories.counts()
        events = ReturnEvent.select().count()
        messages = OutboxMessage.select().count()
    again = call(client, "POST", f"{path}/refund", token, json=body, headers=key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    with app.app_context():
        assert factories.counts() == counts and Refund.select().count() == 1
        assert ReturnEvent.select().count() == events
        assert OutboxMessage.select().count() == messages
    # without the key the same call is a new request: the refund is already prepared
    fresh = call(client, "POST", f"{path}/refund", token, json={})
    is_problem(fresh, 422)


def test_the_same_key_with_another_body_is_422(app, received):
    token, client, path, rma = received
    key = {"Idempotency-Key": "k-1"}
    held = call(client, "POST", f"{path}/hold", token, json={"note": "a"}, headers=key)
    assert held.status_code == 200
    other = call(client, "POST", f"{path}/hold", token, json={"note": "b"}, headers=key)
    assert "different request" in is_problem(other, 422)["detail"]
    elsewhere = call(client, "POST", f"{path}/resume", token, json={"note": "a"}, headers=key)
    is_problem(elsewhere, 422)  # another path is another request
    with app.app_context():
        assert ReturnEvent.select().where(ReturnEvent.kind == "on_hold").count() == 1


def test_a_refused_first_answer_is_replayed_too_and_keys_are_per_api_key(app, received):
    token, client, path, rma = received
    key = {"Idempotency-Key": "stale"}
    stale = call(client, "POST", f"{path}/hold", token, json={"version": 1}, headers=key)
    is_problem(stale, 409)
    assert call(client, "POST", f"{path}/hold", token, json={"version": 1},
                headers=key).headers["Idempotent-Replayed"] == "true"  # fmt: skip
    with app.app_context():
        _, other = factories.api_key()
    own = call(client, "POST", f"{path}/hold", other, json={}, headers=key)
    assert own.status_code == 200 and "Idempotent-Replayed" not in own.headers
    too_long = call(client, "POST", f"{path}/hold", token, json={},
                    headers={"Idempotency-Key": "x" * 256})  # fmt: skip
    is_problem(too_long, 422)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def either_app(request):
    """The app on SQLite, then on PostgreSQL (row locks instead of BEGIN IMMEDIATE)."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def test_ten_identical_refund_posts_at_once_make_one_refund(either_app):
    app = either_app
    token, _, path, rma = receive_one(app)
    barrier = threading.Barrier(10)
    answers = []

    def post():
        client = app.test_client()  # each thread its own client and database connection
        barrier.wait(timeout=30)
        answers.append(call(client, "POST", f"{path}/refund", token,
                            json={"version": rma["version"]},
                            headers={"Idempotency-Key": "parallel-refund"}))  # fmt: skip

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 10
    assert {a.status_code for a in answers} <= {200, 409}
    ok = [a for a in answers if a.status_code == 200]
    assert ok and len({a.get_data() for a in ok}) == 1  # every 200 is the one stored answer
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    with app.app_context():
        [refund] = Refund.select()
        assert refund.amount == 5000
        assert OutboxMessage.select().where(OutboxMessage.kind == "refund").count() == 1
        assert IdempotentRequest.select().count() == 1  # one stored answer for the key


def test_stored_answers_expire(app, received):
    token, client, path, _ = received
    call(client, "POST", f"{path}/hold", token, json={}, headers={"Idempotency-Key": "old"})
    with app.app_context(), db.connection_context():
        old = datetime.datetime(2020, 1, 1)
        IdempotentRequest.update(created_at=old).execute()
        assert idempotency.purge(keep_seconds=3600) >= 1
        assert IdempotentRequest.select().count() == 0

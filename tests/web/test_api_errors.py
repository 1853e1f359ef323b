"""Errors under /api/ are problem documents, never HTML and never a 500 for bad input: wrong
keys on writes, unknown addresses and methods, bodies too large, no CSRF token needed (a key
is), a request whose Idempotency-Key is still running, a shopper's email sent from the API."""

import hashlib

import pytest

from portal.models import OutboxMessage, Return, ReturnEvent
from portal.returns import idempotency
from tests import factories
from tests.api_client import call, is_problem, order_body
from tests.apps import close_db, make_app


@pytest.fixture
def setup(app):
    with app.app_context():
        made = factories.store()
        key, token = factories.api_key()
        rma = factories.create_return(made.order, reason=made.changed_mind)
    return made, key, token, f"/api/v1/returns/{rma.reference}", rma


@pytest.mark.parametrize("token", ["rp_not-a-key", "", None])
def test_writes_with_a_wrong_key_are_401_and_change_nothing(app, client, setup, token):
    _, _, _, path, rma = setup
    with app.app_context():
        before = factories.counts()
    is_problem(call(client, "POST", f"{path}/approve", token or None, json={}), 401)
    is_problem(call(client, "PUT", "/api/v1/orders/X-1", token or None, json=order_body()), 401)
    with app.app_context():
        assert factories.counts() == before
        assert Return.get_by_id(rma.id).status == "requested"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v1/", 404), ("GET", "/api/v1/returns/x/y/z", 404),
     ("DELETE", "/api/v1/returns", 405), ("PATCH", "/api/v1/orders/A-1", 405),
     ("GET", "/api/v2/returns", 404)],
)  # fmt: skip
def test_unknown_addresses_and_methods_are_problems_not_pages(client, setup, method, path,
                                                              status):  # fmt: skip
    _, _, token, _, _ = setup
    is_problem(call(client, method, path, token), status)


def test_a_body_too_large_is_413_problem(tmp_path):
    app = make_app(tmp_path, MAX_CONTENT_LENGTH=1000)
    with app.app_context():
        _, token = factories.api_key()
    answer = call(app.test_client(), "PUT", "/api/v1/orders/BIG", token,
                  data=b'{"email": "' + b"x" * 5000 + b'"}')  # fmt: skip
    is_problem(answer, 413)
    close_db()


def test_no_csrf_token_is_needed_a_key_is(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _, token = factories.api_key()
    client = app.test_client()
    assert call(client, "PUT", "/api/v1/orders/C-1", token, json=order_body()).status_code == 200
    is_problem(call(client, "PUT", "/api/v1/orders/C-1", None, json=order_body()), 401)
    close_db()


def test_a_key_whose_first_request_still_runs_is_409_after_the_wait(tmp_path):
    app = make_app(tmp_path, IDEMPOTENCY_WAIT_SECONDS=0.2)
    with app.app_context():
        made = factories.store()
        key, token = factories.api_key()
        rma = factories.create_return(made.order, reason=made.changed_mind)
        path = f"/api/v1/returns/{rma.reference}/hold"
        body = b"{}"
        digest = hashlib.sha256(b"POST %s\n%s" % (path.encode(), body)).hexdigest()
        state, _ = idempotency.claim(key.id, "busy", "POST", path, digest, 3600)
        assert state == idempotency.CLAIMED  # as if another request had just started
    answer = call(app.test_client(), "POST", path, token, data=body,
                  headers={"Idempotency-Key": "busy"})  # fmt: skip
    assert "still being processed" in is_problem(answer, 409)["detail"]
    with app.app_context():
        assert Return.get_by_id(rma.id).status == "requested"
    close_db()


def test_send_email_writes_to_the_shopper_and_keeps_it_in_the_timeline(app, client, setup):
    _, _, token, path, rma = setup
    sent = call(client, "POST", f"{path}/send-email", token,
                json={"subject": "Your parcel", "message": "We got it, thanks."})  # fmt: skip
    assert sent.status_code == 200, sent.data
    assert sent.get_json()["timeline"][-1]["kind"] == "email_sent"
    with app.app_context():
        message = OutboxMessage.get(OutboxMessage.kind == "email",
                                    OutboxMessage.payload.contains("staff_message"))  # fmt: skip
        assert message.payload["to"] == rma.email
        assert ReturnEvent.get(ReturnEvent.kind == "email_sent").payload["subject"] == "Your parcel"
    empty = call(client, "POST", f"{path}/send-email", token, json={"subject": "", "message": ""})
    assert {e["field"] for e in is_problem(empty, 422)["errors"]} == {"subject", "message"}

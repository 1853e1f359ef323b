"""The account emails go through the outbox and a real Celery worker to a real SMTP server: the
password-reset link (made by the worker, so no database row holds a token that works) and the
unlock link after a lock. Both links work once."""

import email
import email.policy
import re

import pytest

from portal.db import db
from portal.models import OutboxMessage
from tests import factories
from tests.apps import make_app
from tests.factories import PASSWORD


@pytest.fixture
def app(tmp_path, redis_url, smtp_server):
    controller, _ = smtp_server
    app = make_app(tmp_path, redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                   PUBLIC_URL="https://returns.example")  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


def body(message):
    return (
        email.message_from_string(message, policy=email.policy.default)
        .get_body(("plain",))
        .get_content()
    )


def test_a_reset_link_arrives_and_works_once(app, celery_worker, smtp_server):
    _, mailbox = smtp_server
    with app.app_context(), db.connection_context():
        factories.user("pat@example.com")
    client = app.test_client()
    assert client.post("/forgot-password", data={"email": "pat@example.com"}).status_code == 200
    [(_, to, raw)] = mailbox.wait_for(1, timeout=30)
    assert to == ["pat@example.com"]
    link = re.search(r"https://returns\.example/reset-password/(\S+)", body(raw))
    assert link, body(raw)
    token = link.group(1)
    with app.app_context(), db.connection_context():
        message = OutboxMessage.get(OutboxMessage.kind == "account_email")
        assert token not in str(message.payload)  # the token was never written down
    new = "a-fresh-password-9"
    done = client.post(f"/reset-password/{token}", data={"password": new, "confirm": new})
    assert done.status_code == 303
    assert client.post("/login", data={"email": "pat@example.com", "password": new}
                       ).status_code == 302  # fmt: skip
    again = app.test_client().post(f"/reset-password/{token}", data={"password": new + "x",
                                                                     "confirm": new + "x"})  # fmt: skip
    assert again.status_code == 410


def test_an_unlock_link_arrives_after_the_lock(app, celery_worker, smtp_server):
    _, mailbox = smtp_server
    with app.app_context(), db.connection_context():
        factories.user("pat@example.com")
    for i in range(app.config["LOGIN_LOCK_FAILURES"]):
        app.test_client().post("/login", data={"email": "pat@example.com", "password": "guess"},
                               environ_base={"REMOTE_ADDR": f"198.51.100.{i + 1}"})  # fmt: skip
    [(_, to, raw)] = mailbox.wait_for(1, timeout=30)
    text = body(raw)
    assert to == ["pat@example.com"] and "locked until" in text
    token = re.search(r"https://returns\.example/unlock/(\S+)", text).group(1)
    client = app.test_client()
    assert client.post("/login", data={"email": "pat@example.com", "password": PASSWORD}
                       ).status_code == 422  # fmt: skip
    assert client.post(f"/unlock/{token}").status_code == 303
    assert client.post("/login", data={"email": "pat@example.com", "password": PASSWORD}
                       ).status_code == 302  # fmt: skip

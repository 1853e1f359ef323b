"""/healthz: 200 when the database and Redis answer, 503 when one does not, and the age of
the oldest outbox message still waiting. (The check pings Redis, so these run on the test
Redis.)"""

import datetime

from portal.db import db
from portal.local_redis import free_port
from portal.models import OutboxMessage, now
from portal.outbox.messages import enqueue_email
from tests.apps import make_app


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"], body["redis"]) == ("ok", "ok", "ok")


def test_healthz_needs_no_sign_in_and_sets_no_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert not response.headers.getlist("Set-Cookie")


def test_healthz_503_when_redis_is_down(tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = make_app(tmp_path, dead)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error:")


def test_healthz_503_when_the_database_is_unreachable(tmp_path, redis_url):
    app = make_app(tmp_path, redis_url)
    # A SQLite path whose directory does not exist can't be opened.
    from portal.db import connect

    db.initialize(connect(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"].startswith("error:")
    assert body["redis"] == "ok"


def test_healthz_reports_the_age_of_the_oldest_pending_message(app, client, make):
    assert client.get("/healthz").get_json()["outbox_oldest_pending_seconds"] == 0
    with app.app_context():
        with db.atomic():
            enqueue_email("refund_sent", "a@example.com", "old")
            enqueue_email("refund_sent", "b@example.com", "new")
        OutboxMessage.update(created_at=now() - datetime.timedelta(seconds=125)).where(
            OutboxMessage.dedupe_key == "old"
        ).execute()
    body = client.get("/healthz").get_json()
    assert 125 <= body["outbox_oldest_pending_seconds"] < 135
    with app.app_context():
        OutboxMessage.update(status="sent").execute()
    assert client.get("/healthz").get_json()["outbox_oldest_pending_seconds"] == 0

"""/healthz: 200 when the database and Redis answer, 503 when one does not."""

from tests.conftest import free_port, make_app


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
    from portal.db import connect, db

    db.initialize(connect(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"].startswith("error:")
    assert body["redis"] == "ok"

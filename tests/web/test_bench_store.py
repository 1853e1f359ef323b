"""The bench's generated store stays loadable and servable as the schema changes: a small
store from bench/datagen.py (with the migrations, as the bench makes it) on SQLite and on
PostgreSQL, every bench page answering 200 for its user with the figures the data implies,
and the floor page rendering to the size asked for. The bench itself runs on demand only."""

import importlib.util
import sys
from pathlib import Path

import pytest
from peewee import fn

from portal.db import db
from portal.models import Order, Return, ReturnStatusCount
from tests.apps import MEMORY_BROKER, make_app

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench import datagen, pages  # noqa: E402


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bench.db'}"
    return request.getfixturevalue("scratch_postgres")


def sign_in(client, email):
    response = client.post("/login", data={"email": email, "password": datagen.BENCH_PASSWORD})
    assert response.status_code == 302, response.data[:300]


@pytest.mark.slow  # generates a 400-order store, on SQLite and PostgreSQL
def test_a_generated_store_serves_every_bench_page(store_url, tmp_path):
    datagen.open_database(store_url)
    summary = datagen.generate(400, 200, analyze=True)
    targets = pages.targets(datagen.BENCH_SHOPPER)
    db.close()
    assert summary["rows"]["Order"] == 400 and summary["rows"]["Return"] == 200

    app = make_app(tmp_path, database_url=store_url)
    with app.app_context():
        statuses = {s for (s,) in Return.select(Return.status).distinct().tuples()}
        assert len(statuses) == 8  # every status
        counted = dict(
            Return.select(Return.status, fn.COUNT(Return.id)).group_by(Return.status).tuples()
        )
        kept = dict(ReturnStatusCount.select().tuples())
        assert {k: v for k, v in kept.items() if v} == counted  # triggers fired on the load
        assert Order.select().count() == 400
    clients = {pages.MANAGER: app.test_client(), pages.SHOPPER: app.test_client()}
    sign_in(clients[pages.MANAGER], datagen.BENCH_MANAGER)
    sign_in(clients[pages.SHOPPER], datagen.BENCH_SHOPPER)
    assert len(targets) == 9
    for target in targets:
        response = clients[target.who].get(target.path)
        assert response.status_code == 200, (target.name, response.status_code)
    searched = clients[pages.MANAGER].get(targets[3].path).get_data(as_text=True)
    assert "RMA-" in searched  # the reference fragment finds its return


def test_the_floor_page_renders_to_the_size_asked_for(app, monkeypatch):
    """bench/floor_app.py builds the portal app from the environment, like gunicorn would."""
    from tests import factories

    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("REDIS_URL", MEMORY_BROKER)  # no Redis: Celery and the limits in memory
    monkeypatch.setenv("SECRET_KEY", "floor-test-secret")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    path = Path(__file__).resolve().parents[2] / "bench" / "floor_app.py"
    spec = importlib.util.spec_from_file_location("floor_app", path)
    floor_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(floor_app)

    floor_app.app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        manager = factories.staff("manager")
    client = floor_app.app.test_client()
    assert client.get("/_bench/floor?bytes=9000").status_code == 302  # signed-in only
    response = client.post("/login", data={"email": manager.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    for size in (6000, 17_500):
        body = client.get(f"/_bench/floor?bytes={size}").data
        assert len(body) == size and b"Item 00000000" in body

"""The workers' app (worker.py: create_app(web=False)) and their SQLite connections' page cache,
which keep memory per worker process bounded (issue 17: < 120 MB).

A worker process never imports the web side (pages, API with its pydantic models, sign-in, the
CLI with the PDF libraries); no process of the app imports the test-only libraries. Each
worker's SQLite connection (one per thread of the threads pool) gets WORKER_SQLITE_CACHE_KB of
page cache instead of SQLite's 2 MB."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from portal import celery_app as celery_module
from portal.db import db, set_sqlite_cache

ROOT = Path(__file__).resolve().parents[2]
WEB_ONLY = ["pydantic", "reportlab", "segno", "portal.api", "portal.merchant",
            "portal.customer", "portal.auth", "portal.cli"]  # fmt: skip
NEVER = ["schemathesis", "hypothesis", "pytest"]


def imported(module, tmp_path):
    code = (f"import json, sys; import {module}; "
            f"print(json.dumps(sorted(m for m in sys.modules)))")  # fmt: skip
    env = {"PORTAL_INSTANCE": str(tmp_path), "PORTAL_DOTENV": str(tmp_path / "no.env"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "test",
           "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return set(json.loads(out.splitlines()[-1]))


def _loaded(modules, names):
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def test_the_workers_app_imports_nothing_of_the_web(tmp_path):
    modules = imported("worker", tmp_path)
    assert _loaded(modules, WEB_ONLY) == []
    assert _loaded(modules, NEVER) == []
    assert "portal.celery_app" in modules


def test_the_web_app_still_has_everything_and_nothing_of_the_tests(tmp_path):
    modules = imported("wsgi", tmp_path)
    assert _loaded(modules, ["portal.api", "portal.merchant", "portal.customer"]) == [
        "portal.api", "portal.merchant", "portal.customer"
    ]  # fmt: skip
    assert _loaded(modules, NEVER) == []


def test_the_workers_app_renders_an_email_template(tmp_path):
    from portal import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "t"},
                     web=False)  # fmt: skip
    assert "return_policy" in app.jinja_env.globals
    assert "money" in app.jinja_env.filters
    assert not app.blueprints


def test_a_smaller_page_cache_for_each_new_sqlite_connection(ctx):
    assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == -2000  # SQLite's default
    db.close()
    set_sqlite_cache(256)
    db.connect()
    assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == -256
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1  # the others kept
    set_sqlite_cache(128)  # replaces it, does not add a second one
    assert [k for k, _ in db.obj._pragmas].count("cache_size") == 1


def test_a_worker_sets_it_when_it_starts(ctx):
    celery = ctx.extensions["celery"]
    assert celery.conf.portal_worker_sqlite_cache_kb == ctx.config["WORKER_SQLITE_CACHE_KB"]
    db.close()
    celery_module._smaller_sqlite_caches(sender=SimpleNamespace(app=celery))
    db.connect()
    expected = -ctx.config["WORKER_SQLITE_CACHE_KB"]
    assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == expected


def test_a_claim_that_finds_the_database_locked_is_published_again(ctx, redis_url):
    """SQLite's write lock held past the busy timeout (a loaded machine): the delivery does
    not fail the task (which would leave the message to the sweeper alone); it publishes the
    message again, unchanged, for a moment later."""
    import sqlite3

    import redis

    from portal.models import OutboxMessage
    from portal.outbox import delivery
    from portal.outbox.messages import enqueue

    with db.atomic():
        message = enqueue("email", {"to": "a@example.com", "template": "x"}, "busy-test")
    broker = redis.Redis.from_url(redis_url)
    broker.delete("io")  # the publish after commit
    db.execute_sql("PRAGMA busy_timeout = 50")
    holder = sqlite3.connect(ctx.config["DATABASE_URL"].removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert delivery.deliver(message.id, ctx.config) == "busy"
    finally:
        holder.rollback()
        holder.close()
    again = OutboxMessage.get_by_id(message.id)
    assert (again.status, again.attempts) == ("pending", 0)
    queued = [json.loads(m)["headers"] for m in broker.lrange("io", 0, -1)]
    tasks = [(h["task"], h["argsrepr"], h["eta"] is not None) for h in queued]
    assert tasks == [("tasks.outbox.deliver", f"[{message.id}]", True)]

"""The tests here need Redis: `app` and `pg_app` are the root ones with their Celery on the
session's test redis-server (a fresh, flushed database per test) instead of the in-memory
broker, so a Celery worker (the `celery_worker` thread, or the processes of tests/processes.py)
consumes what the app publishes. Modules that need other settings (SMTP, Stripe, short
timings) override `app` with make_app(tmp_path, redis_url, ...)."""

import pytest

from tests.apps import close_db, emptied_postgres_app, make_app


@pytest.fixture
def app(tmp_path, redis_url):
    app = make_app(tmp_path, redis_url)
    yield app
    close_db()


@pytest.fixture
def pg_app(tmp_path, redis_url, postgres_url):
    app = emptied_postgres_app(tmp_path, postgres_url, redis_url)
    yield app
    close_db()

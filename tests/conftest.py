"""Shared fixtures (flaskr style): a fresh app and SQLite file per test.

The suite is laid out by what a test needs (a test asking for more than its folder allows is
refused at collection, see pytest_collection_modifyitems below):

- tests/unit/     pure functions: no app, no database, no Redis, no worker.
- tests/domain/   the domain, the outbox and the payment gateways called directly, in an app
                  context (`ctx`), against a real SQLite file, or PostgreSQL for the `postgres`
                  cases; no test client, no Redis. Commands run with the CLI runner alone
                  (test_migrations.py: `db upgrade`, `db status`, `init-db`) are here too.
- tests/web/      the pages through Flask's test client, and the CLI commands whose test signs
                  in through it too (test_cli.py); SQLite or PostgreSQL; no Redis.
- tests/workers/  Redis and a Celery worker (the `celery_worker` thread, or SIGKILLable worker
                  and beat processes), SMTP (aiosmtpd) with the worker, /healthz (it pings
                  Redis), outages and faults, the sign-in limit kept in Redis, the worker on
                  PostgreSQL. tests/workers/conftest.py wires `app` and `pg_app` to Redis.
- tests/browser/  headless Chromium against a live server (the journeys run a worker).

The default `app` (and `pg_app`) needs no Redis: its Celery publishes to kombu's in-memory
transport (tests/apps.py), so an outbox message written by a domain call or a page is published
at once and stays there; nothing runs it unless a test delivers it itself. The session's
redis-server (`redis_server`) starts only when a test asks for `redis_url`.

Markers: `postgres` (needs the PostgreSQL at TEST_POSTGRES_URL, else skipped with a reason),
`browser` (Chromium), `slow` (worker kills and races, outages, the 1,000-refund run, the bench
store, the browser journeys with a worker): `pytest -m "not slow"` is the fast loop.

Helpers: tests/apps.py (make_app, PostgreSQL databases), tests/factories.py (all test data; the
`make` fixture), tests/pages.py (signing in, form posts, reading pages), tests/waiting.py
(wait_until, broker_idle), tests/processes.py (worker and beat processes), tests/smtp.py,
tests/fake_stripe.py, tests/hold_gateway.py, tests/worker_app.py, tests/querycount.py.
"""

import os
from pathlib import Path

import pytest

from portal.local_redis import LocalRedis, free_port
from tests import factories, smtp
from tests.apps import (
    PG_URL,
    close_db,
    drain_memory_broker,
    emptied_postgres_app,
    fresh_postgres,
    make_app,
    postgres_available,
)
from tests.fake_stripe import FakeStripe
from tests.pages import login

# --- the layout, checked -----------------------------------------------------------------------

REDIS_FIXTURES = {"redis_server", "redis_url", "celery_worker"}
APP_FIXTURES = {"app", "ctx", "client", "runner", "make", "pg_app", "any_app", "postgres_url",
                "scratch_postgres", "fake_stripe", "smtp_server"} | REDIS_FIXTURES  # fmt: skip
FORBIDDEN = {"unit": APP_FIXTURES, "domain": REDIS_FIXTURES, "web": REDIS_FIXTURES}


def pytest_collection_modifyitems(config, items):
    """Refuse a test that asks for more than its folder allows (see the docstring above)."""
    tests = Path(__file__).parent
    wrong = []
    for item in items:
        try:
            folder = Path(item.path).relative_to(tests).parts[0]
        except ValueError:
            continue
        used = FORBIDDEN.get(folder, set()) & set(getattr(item, "fixturenames", ()))
        if used:
            wrong.append(f"{item.nodeid} uses {', '.join(sorted(used))}")
    if wrong:
        raise pytest.UsageError("tests in the wrong folder for what they need:\n" +
                                "\n".join(wrong))  # fmt: skip


# --- the app ------------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    """The app on its own SQLite file, Celery on the in-memory broker (no Redis)."""
    app = make_app(tmp_path)
    yield app
    close_db()
    drain_memory_broker()


@pytest.fixture
def ctx(app):
    """An app context on `app` for the whole test, for calling the domain directly."""
    with app.app_context():
        yield app
    close_db()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make():
    """Factories for users, orders, reasons, returns, refunds: tests.factories, bound to the
    current database."""
    return factories


@pytest.fixture
def auth():
    return login


@pytest.fixture
def fake_stripe():
    """A local stand-in for Stripe's refund endpoint (tests/fake_stripe.py)."""
    fake = FakeStripe().start()
    yield fake
    fake.stop()


# --- PostgreSQL -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session, or a skip that says why."""
    if not postgres_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}; PostgreSQL-specific test skipped")
    with fresh_postgres(f"portal_test_{os.getpid()}") as url:
        yield url


@pytest.fixture
def scratch_postgres(postgres_url):
    """An empty PostgreSQL database for one test (pg_app truncates the shared one)."""
    with fresh_postgres(f"portal_scratch_{os.getpid()}") as url:
        yield url


@pytest.fixture
def pg_app(tmp_path, postgres_url):
    """The app on PostgreSQL with every table emptied, Celery in memory (no Redis)."""
    app = emptied_postgres_app(tmp_path, postgres_url)
    yield app
    close_db()
    drain_memory_broker()


# --- Redis, the Celery worker, SMTP (tests/workers, tests/browser) --------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = LocalRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    if not redis_server.alive():  # a test stopped it: bring it back
        redis_server.start()
    redis_server.client().flushall()
    return redis_server.url


@pytest.fixture
def celery_worker(app):
    """A real Celery worker thread consuming from the broker of `app` (the test Redis: only
    tests/workers and tests/browser use it, with an `app` wired to Redis)."""
    from celery.contrib.testing.worker import start_worker

    celery = app.extensions["celery"]
    # BRPOP returns every 0.1 s instead of every 1 s, so the worker stops at once at teardown.
    celery.conf.broker_transport_options = {**celery.conf.broker_transport_options,
                                            "polling_interval": 0.1}  # fmt: skip
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w:
        yield w


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free port: (controller, mailbox)."""
    mailbox = smtp.Mailbox()
    controller = smtp.start(mailbox, free_port())
    yield controller, mailbox
    controller.stop()

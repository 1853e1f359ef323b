"""Shared fixtures (flaskr style): a fresh app and SQLite file per test, real Redis, real SMTP,
a real Celery worker, PostgreSQL when it answers, and headless Chromium for browser tests."""

import contextlib
import email
import email.policy
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from portal import create_app
from portal.db import db
from portal.local_redis import LocalRedis, free_port
from tests import factories

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


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


_TEMPLATE_DB = {}


def _migrated_sqlite_template(redis_url):
    """Migrate one SQLite file per test session; each test starts from a copy of it."""
    if "path" not in _TEMPLATE_DB:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="portal-template-"))
        path = folder / "template.db"
        os.environ["PORTAL_INSTANCE"] = str(folder / "instance")
        app = create_app({"DATABASE_URL": f"sqlite:///{path}", "REDIS_URL": redis_url,
                          "SECRET_KEY": "test-secret", "TESTING": True})  # fmt: skip
        from portal import migrate

        with app.app_context():
            migrate.upgrade()
        db.close()  # the last connection out checkpoints the WAL into the file
        _TEMPLATE_DB["path"] = path
    return _TEMPLATE_DB["path"]


def make_app(tmp_path, redis_url, database_url=None, **extra):
    if database_url is None and not (tmp_path / "test.db").exists():
        shutil.copyfile(_migrated_sqlite_template(redis_url), tmp_path / "test.db")
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'test.db'}",
        "REDIS_URL": redis_url,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_DIR": str(tmp_path / "mail"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "SECRET_KEY": "test-secret",
        # One cheap hash per factory user keeps the suite fast; production uses scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **extra,
    }
    os.environ["PORTAL_INSTANCE"] = str(tmp_path / "instance")
    app = create_app(config)
    from portal import migrate

    with app.app_context():
        migrate.upgrade()
    db.close()
    return app


@pytest.fixture
def app(tmp_path, redis_url):
    app = make_app(tmp_path, redis_url)
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make():
    """Factories for users, orders, reasons: tests.factories, bound to the current database."""
    return factories


def login(client, email, password=factories.PASSWORD):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.data[:500]
    return response


@pytest.fixture
def auth():
    return login


# --- PostgreSQL ----------------------------------------------------------------------------


def _postgres_available():
    try:
        import psycopg2

        psycopg2.connect(PG_URL, connect_timeout=2).close()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def fresh_postgres(name):
    """A PostgreSQL database of its own, dropped with its connections afterwards."""
    import psycopg2

    admin = psycopg2.connect(PG_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        if not db.is_closed():
            db.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session, or a skip that says why."""
    if not _postgres_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}; PostgreSQL-specific test skipped")
    with fresh_postgres(f"portal_test_{os.getpid()}") as url:
        yield url


@pytest.fixture
def scratch_postgres(postgres_url):
    """An empty PostgreSQL database for one test (pg_app truncates the shared one)."""
    with fresh_postgres(f"portal_scratch_{os.getpid()}") as url:
        yield url


@pytest.fixture
def pg_app(tmp_path, redis_url, postgres_url):
    """The app on PostgreSQL, with every table emptied first. Its pool has room for the
    racing threads of the concurrency tests plus the test's own connection."""
    app = make_app(tmp_path, redis_url, database_url=postgres_url, DATABASE_POOL_SIZE=64)
    from portal.models import ALL_MODELS

    with app.app_context():
        tables = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
        db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    db.close()
    yield app
    if not db.is_closed():
        db.close()


# --- Celery worker, SMTP --------------------------------------------------------------------


@pytest.fixture
def celery_worker(app):
    """A real Celery worker thread consuming from the test Redis."""
    from celery.contrib.testing.worker import start_worker

    celery = app.extensions["celery"]
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w:
        yield w


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content.decode("utf8", "replace"),
            )
        )
        return "250 Message accepted for delivery"

    def parsed(self):
        """Every message so far as email.message.EmailMessage objects."""
        return [email.message_from_string(raw, policy=email.policy.default)
                for _, _, raw in list(self.messages)]  # fmt: skip

    def wait_for_match(self, predicate, timeout=30):
        """The parsed messages for which predicate(message) holds, once there is at least one."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.parsed() if predicate(m)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def wait_for(self, count=1, timeout=15):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


# --- Live server + browser ------------------------------------------------------------------


@pytest.fixture
def live_server(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (make test installs it where apt-get can)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def artifacts_dir():
    path = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path

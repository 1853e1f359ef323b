"""Building the app under test: a copy of one migrated SQLite file per test (or a PostgreSQL
database), the test settings, and the broker.

Without a Redis URL the app's Celery uses kombu's in-memory transport and an in-memory result
cache, so publishing an outbox message puts the task in this process's memory and returns at
once: nothing connects to Redis, and no worker ever runs those tasks. Pass `redis_url` for the
tests that run a worker (or check Redis itself)."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from jinja2 import BytecodeCache

from portal import create_app, i18n, migrate, store_look
from portal.db import db

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

# "localhost" only keeps kombu from logging that it assumed one; memory:// has no host.
MEMORY_BROKER = "memory://localhost/"
MEMORY_CELERY = {"broker_url": MEMORY_BROKER, "result_backend": "cache+memory://"}

_TEMPLATE_DB = {}


class _SharedBytecodeCache(BytecodeCache):
    """Compiled Jinja templates shared by every app of the session: each test's app would
    otherwise compile the same templates again. Jinja checks each entry against the
    template's source, so an edited template is compiled afresh."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _SharedBytecodeCache()


def broker_config(redis_url=None):
    """The app settings for Redis at `redis_url`, or for the in-memory broker without one."""
    if redis_url is None:
        return {"REDIS_URL": MEMORY_BROKER, "CELERY": dict(MEMORY_CELERY)}
    return {"REDIS_URL": redis_url}


def _migrated_sqlite_template():
    """Migrate one SQLite file per test session; each test starts from a copy of it."""
    if "path" not in _TEMPLATE_DB:
        folder = Path(tempfile.mkdtemp(prefix="portal-template-"))
        path = folder / "template.db"
        os.environ["PORTAL_INSTANCE"] = str(folder / "instance")
        app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "test-secret",
                          "TESTING": True, "RATELIMIT_STORAGE_URI": "memory://",
                          **broker_config()})  # fmt: skip
        with app.app_context():
            migrate.upgrade()
        db.close()  # the last connection out checkpoints the WAL into the file
        _TEMPLATE_DB["path"] = path
    return _TEMPLATE_DB["path"]


def make_app(tmp_path, redis_url=None, database_url=None, **extra):
    """The app on a fresh copy of the migrated SQLite file in `tmp_path` (or on `database_url`,
    migrated to head), with Celery on Redis at `redis_url` or, by default, in memory."""
    if database_url is None and not (tmp_path / "test.db").exists():
        shutil.copyfile(_migrated_sqlite_template(), tmp_path / "test.db")
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'test.db'}",
        **broker_config(redis_url),
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
    app.jinja_env.bytecode_cache = _TEMPLATES
    with app.app_context():
        migrate.upgrade()
        # A running process reads the store's look and time zone once per 30 s (portal/
        # store_look.py, portal/i18n.py); read them now, so that the pages' query counts are
        # those of every later page, not of a process's first one.
        store_look.current()
        i18n.store_timezone()
    db.close()
    return app


def close_db():
    if not db.is_closed():
        db.close()


def emptied_postgres_app(tmp_path, postgres_url, redis_url=None):
    """The app on PostgreSQL, with every table emptied first. Its pool has room for the racing
    threads of the concurrency tests plus the test's own connection."""
    app = make_app(tmp_path, redis_url, database_url=postgres_url, DATABASE_POOL_SIZE=64)
    from portal.models import ALL_MODELS

    with app.app_context():
        tables = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
        db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    db.close()
    return app


def postgres_available():
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
        close_db()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def drain_memory_broker():
    """Forget the tasks earlier tests published to the in-memory broker (no worker takes them;
    its queues are process-wide)."""
    from kombu.transport import memory

    for queue in list(memory.Channel.queues.values()):
        with queue.mutex:
            queue.queue.clear()

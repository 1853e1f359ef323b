"""One database proxy for the whole portal (Peewee), the database behind it, and helpers.

No Flask here: the web layer (portal.web) opens a connection per request, the Celery task class
one per task (portal.celery_app)."""

import json

from peewee import DatabaseProxy, Model, SqliteDatabase, TextField
from playhouse import db_url

db = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class JSONField(TextField):
    """JSON stored as text: portable across SQLite and PostgreSQL."""

    field_type = "TEXT"

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class SqliteWalDatabase(SqliteDatabase):
    """SQLite in WAL mode (readers never wait for the writer). WAL is a property of the database
    file, so the process's first connection switches it on; setting it on every connection
    would cost each request ~0.4 ms of locking for nothing."""

    _wal_on = False

    def _add_conn_hooks(self, conn):
        super()._add_conn_hooks(conn)
        if not self._wal_on:
            conn.execute("PRAGMA journal_mode = wal")
            self._wal_on = True


def connect(url, pool_size=0):
    """Open the database named by a URL (sqlite:///path or postgresql://...).

    With `pool_size` > 0, PostgreSQL connections are pooled (playhouse.pool): closing one at
    the end of a request hands it back, so the next request skips the 2-5 ms of opening a
    server session. An idle connection older than five minutes is opened afresh. SQLite opens
    a file in microseconds and is never pooled."""
    if url.startswith("sqlite"):
        database = SqliteWalDatabase(
            db_url.parse(url)["database"],
            pragmas={"foreign_keys": 1, "busy_timeout": 10000},
            lock_type="IMMEDIATE",
            timeout=10,
        )
    else:
        url = url.replace("postgres://", "postgresql://", 1)
        if pool_size > 0:
            scheme, rest = url.split("://", 1)
            url = f"{scheme}+pool://{rest}"
            database = db_url.connect(url, max_connections=pool_size, stale_timeout=300, timeout=10)
        else:
            database = db_url.connect(url)
    return database


def initialize(url, pool_size=0):
    """Point the proxy at the database named by `url` (a new app in tests replaces the pool)."""
    previous = db.obj
    if previous is not None and hasattr(previous, "close_all"):
        previous.close_all()
    db.initialize(connect(url, pool_size))


def is_postgres():
    return db.obj is not None and not db.obj.__class__.__name__.startswith("Sqlite")


def locked(query):
    """SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE."""
    return query.for_update() if is_postgres() else query

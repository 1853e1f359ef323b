"""One database proxy for the whole app (Peewee), a connection per request, and helpers."""

import json

from flask import request
from peewee import DatabaseProxy, Model, TextField
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


def connect(url):
    """Open the database named by a URL (sqlite:///path or postgresql://...)."""
    if url.startswith("sqlite"):
        database = db_url.connect(
            url,
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000},
            lock_type="IMMEDIATE",
            timeout=10,
        )
    else:
        database = db_url.connect(url.replace("postgres://", "postgresql://", 1))
    return database


def init_app(app):
    db.initialize(connect(app.config["DATABASE_URL"]))

    @app.before_request
    def _open_connection():
        # /healthz opens its own (lazily) so that a database that is down is reported as a 503
        # with a reason instead of failing here with a 500.
        if request.endpoint != "health.healthz":
            db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close_connection(exc):
        if not db.is_closed():
            db.close()


def is_postgres():
    return db.obj is not None and not db.obj.__class__.__name__.startswith("Sqlite")


def locked(query):
    """SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE."""
    return query.for_update() if is_postgres() else query

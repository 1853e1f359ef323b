"""Connections: PostgreSQL's are pooled per process (a request hands its connection back
instead of closing it, so the next request reuses the same server session); SQLite's open
cheaply, in WAL mode with foreign keys on."""

from portal.db import db
from tests.apps import make_app


def _backend_pids(app, requests=3):
    """The PostgreSQL backend serving each of a few requests through the test client."""
    pids = []

    @app.get("/_test/backend-pid")
    def backend_pid():
        return str(db.execute_sql("SELECT pg_backend_pid()").fetchone()[0])

    client = app.test_client()
    for _ in range(requests):
        response = client.get("/_test/backend-pid")
        assert response.status_code == 200
        pids.append(int(response.get_data(as_text=True)))
        assert db.is_closed()  # handed back at the end of the request
    return pids


def test_requests_reuse_one_pooled_connection(pg_app):
    pids = _backend_pids(pg_app)
    assert len(set(pids)) == 1


def test_pool_size_zero_opens_a_connection_per_request(tmp_path, postgres_url):
    app = make_app(tmp_path, database_url=postgres_url, DATABASE_POOL_SIZE=0)
    pids = _backend_pids(app)
    assert len(set(pids)) == 3


def test_sqlite_is_not_pooled(app):
    assert not hasattr(db.obj, "close_all")


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on_every_connection(tmp_path):
    from portal.db import connect

    fresh = connect(f"sqlite:///{tmp_path / 'fresh.db'}")
    for _ in range(2):  # the first connection switches WAL on; it stays on for the file
        fresh.connect()
        assert fresh.execute_sql("PRAGMA journal_mode").fetchone() == ("wal",)
        assert fresh.execute_sql("PRAGMA foreign_keys").fetchone() == (1,)
        assert fresh.execute_sql("PRAGMA busy_timeout").fetchone() == (10000,)
        fresh.close()
    other = connect(f"sqlite:///{tmp_path / 'fresh.db'}")  # another process, say
    other.connect()
    assert other.execute_sql("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()

"""Connections: kept open per process and thread (SQLite: the schema is read once per
connection, the pragmas applied once); PostgreSQL's come from a per-process pool (a request
hands its connection back, and the next one reuses the same server session). A transaction a
request leaves open is rolled back; a forked child never uses its parent's connection."""

import multiprocessing
import os

import pytest

from portal import db as database
from portal.db import db, ensure_connection, release
from portal.models import User
from tests.apps import make_app


def _add_route(app, rule, view):
    app.add_url_rule(rule, rule, view)


def _backend_pids(app, requests=3):
    """The PostgreSQL backend serving each of a few requests through the test client."""
    pids = []
    _add_route(app, "/_test/backend-pid",
               lambda: str(db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]))  # fmt: skip
    client = app.test_client()
    for _ in range(requests):
        response = client.get("/_test/backend-pid")
        assert response.status_code == 200
        pids.append(int(response.get_data(as_text=True)))
    return pids


def test_requests_reuse_one_pooled_connection(pg_app):
    pids = _backend_pids(pg_app)
    assert len(set(pids)) == 1
    assert db.is_closed()  # handed back to the pool at the end of the request


def test_pool_size_zero_keeps_one_connection_per_thread(tmp_path, postgres_url):
    app = make_app(tmp_path, database_url=postgres_url, DATABASE_POOL_SIZE=0)
    pids = _backend_pids(app)
    assert len(set(pids)) == 1
    assert not db.is_closed()  # kept open for the thread's next request
    db.close()


def test_sqlite_requests_keep_one_connection_per_thread(app):
    seen = []
    _add_route(app, "/_test/conn", lambda: seen.append(db.connection()) or "ok")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/_test/conn").status_code == 200
    assert len({id(conn) for conn in seen}) == 1
    assert not db.is_closed()


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


def _leaky_view():
    """A view that begins a transaction, writes, and returns without committing."""
    db.begin()
    User.update(name="Leaked").where(User.email == "shopper@example.com").execute()
    return "leaked"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_transaction_left_open_by_a_request_is_rolled_back(backend, request, make):
    app = request.getfixturevalue("app" if backend == "sqlite" else "pg_app")
    with app.app_context():
        make.user(email="shopper@example.com", name="Before")
    release()
    _add_route(app, "/_test/leak", _leaky_view)
    _add_route(app, "/_test/name", lambda: User.get(User.email == "shopper@example.com").name)
    client = app.test_client()
    assert client.get("/_test/leak").status_code == 200
    assert not db.in_transaction()
    assert client.get("/_test/name").get_data(as_text=True) == "Before"


def test_release_rolls_back_a_leaked_transaction_and_keeps_the_connection(app):
    with app.app_context():
        ensure_connection()
        conn = db.connection()
        db.begin()
        assert release() is True
        assert db.connection() is conn
        assert not conn.in_transaction
        assert release() is False


def _child_report(queue, url):
    """In a forked child: which connection the first query uses (object id and, on
    PostgreSQL, the server backend)."""
    ensure_connection()
    pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] if "postgres" in url else None
    queue.put((id(db.connection()), pid))
    release()


def _in_parent(url):
    ensure_connection()
    conn = db.connection()
    pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] if "postgres" in url else None
    return conn, pid


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_forked_child_never_uses_its_parents_connection(backend, request):
    app = request.getfixturevalue("app" if backend == "sqlite" else "pg_app")
    url = app.config["DATABASE_URL"]
    with app.app_context():
        conn, backend_pid = _in_parent(url)
        if backend == "postgres":  # pooled: hold the connection checked out while forking
            db.begin()
        queue = multiprocessing.get_context("fork").Queue()
        child = multiprocessing.get_context("fork").Process(target=_child_report,
                                                            args=(queue, url))  # fmt: skip
        child.start()
        child_conn_id, child_backend = queue.get(timeout=30)
        child.join(30)
        assert child.exitcode == 0
        assert child_conn_id != id(conn)  # the parent's object survives in the child, unused
        if backend == "postgres":
            assert child_backend != backend_pid
            db.rollback()
        # The parent's connection still works: the child did not close it under the parent.
        assert db.connection() is conn
        assert db.execute_sql("SELECT 1").fetchone() == (1,)
        release()


def test_os_fork_child_opens_its_own_sqlite_connection(app):
    with app.app_context():
        ensure_connection()
        parent = db.connection()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report and leave at once, without running atexit hooks
            try:
                same = db.is_closed() is False or db.connection() is parent
                ensure_connection()
                ok = not same and db.connection() is not parent
                db.execute_sql("SELECT count(*) FROM user").fetchone()
                os.write(write, b"ok" if ok else b"reused")
            finally:
                os._exit(0)
        os.close(write)
        answer = os.read(read, 16)
        os.waitpid(pid, 0)
        assert answer == b"ok"
        assert db.connection() is parent
        assert db.execute_sql("SELECT 1").fetchone() == (1,)
        release()


def test_the_pool_is_only_for_postgres(app):
    assert not isinstance(db.obj, database.PooledPortalPostgres)

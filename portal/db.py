"""One database proxy for the whole portal (Peewee), the database behind it, and helpers.

Connections are kept open, one per process and thread: `ensure_connection()` opens this
thread's connection if it has none (SQLite's pragmas run once, on connect), `release()` ends a
unit of work (a request, a task) without closing it, rolling back a transaction left open by
mistake. A process forked from one that had connections (a Celery prefork child, a gunicorn
worker) starts with none of its own: the at-fork hook drops the inherited ones without closing
them (closing would end the parent's session), so a child never talks over its parent's socket.

No Flask here: the web layer (portal.web) calls these per request, the Celery task class per
task (portal.celery_app)."""

import heapq
import itertools
import json
import logging
import os
import threading
import time
from contextlib import contextmanager

from peewee import (
    DatabaseProxy,
    Model,
    PostgresqlDatabase,
    SqliteDatabase,
    TextField,
)
from playhouse import db_url
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.shortcuts import ReconnectMixin

db = DatabaseProxy()
log = logging.getLogger(__name__)

# Connections a forked child inherited: kept referenced (never closed, never collected) so
# that the child does not send its parent's server a "terminate" on the shared socket.
_inherited = []


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


class _Tracked:
    """Remembers the connection each live thread opened. A thread that ended drops its own
    (the thread-local goes, and the next connect forgets dead threads' entries, which closes
    them); after a fork the child keeps the inherited ones referenced, whichever thread of
    the parent opened them, so none is closed (or collected) in the child."""

    def _connect(self):
        conn = super()._connect()
        alive = {thread.ident for thread in threading.enumerate()}
        kept = self.__dict__.get("_open", {})
        self._open = {ident: c for ident, c in kept.items() if ident in alive}
        self._open[threading.get_ident()] = conn
        return conn

    def _close(self, conn):
        self.__dict__.get("_open", {}).pop(threading.get_ident(), None)
        super()._close(conn)


class SqliteWalDatabase(_Tracked, SqliteDatabase):
    """SQLite in WAL mode (readers never wait for the writer). WAL is a property of the database
    file, so the process's first connection switches it on; setting it on every connection
    would cost ~0.4 ms of locking for nothing."""

    _wal_on = False

    def _add_conn_hooks(self, conn):
        super()._add_conn_hooks(conn)
        if not self._wal_on:
            conn.execute("PRAGMA journal_mode = wal")
            self._wal_on = True


class _Reconnecting(ReconnectMixin):
    """A kept-open PostgreSQL connection the server has closed (a restart, an idle timeout) is
    opened again on the next statement outside a transaction, instead of failing it."""

    reconnect_errors = (
        *ReconnectMixin.reconnect_errors,
        (Exception, "server closed the connection"),
        (Exception, "connection already closed"),
        (Exception, "terminating connection"),
        (Exception, "the connection is closed"),
    )

    def _reconnect(self, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            message = str(exc).lower()
            if self.in_transaction() or not any(
                isinstance(exc, cls) and fragment in message
                for cls, fragments in self._reconnect_errors.items()
                for fragment in fragments
            ):
                raise
            try:
                self.close()
            except Exception:  # the socket is dead: nothing left to close
                self._state.reset()
            self.connect()
            return func(*args, **kwargs)


class PortalPostgres(_Reconnecting, _Tracked, PostgresqlDatabase):
    """PostgreSQL, one kept-open connection per thread."""


class PooledPortalPostgres(_Reconnecting, PooledPostgresqlDatabase):
    """PostgreSQL through playhouse.pool: a thread's connection comes from a pool shared by the
    process's threads (bounded by max_connections)."""


def connect(url, pool_size=0):
    """The database named by a URL (sqlite:///path or postgresql://...), not yet connected.

    With `pool_size` > 0, PostgreSQL connections come from a pool of at most that many (a
    threads worker needs one per thread); an idle one older than five minutes is opened
    afresh. SQLite opens a file in microseconds and is never pooled."""
    if url.startswith("sqlite"):
        return SqliteWalDatabase(
            db_url.parse(url)["database"],
            pragmas={"foreign_keys": 1, "busy_timeout": 10000},
            lock_type="IMMEDIATE",
            timeout=10,
        )
    params = db_url.parse(url.replace("postgres://", "postgresql://", 1))
    name = params.pop("database")
    if pool_size > 0:
        return PooledPortalPostgres(
            name, max_connections=pool_size, stale_timeout=300, timeout=10, **params
        )
    return PortalPostgres(name, **params)


def set_sqlite_cache(kib):
    """Give each SQLite connection opened from now on a page cache of `kib` KiB (PRAGMA
    cache_size = -kib; SQLite's default is 2,000). A page cache is per connection, and a
    threads-pool worker keeps a connection per thread: 32 threads at the default could hold
    64 MB of cache, most of it stale anyway (in WAL mode a connection drops its cache whenever
    another one has written). Nothing for PostgreSQL."""
    database = db.obj
    if database is None or not isinstance(database, SqliteDatabase) or not kib:
        return
    database._pragmas = [(k, v) for k, v in database._pragmas if k != "cache_size"]
    database._pragmas.append(("cache_size", -int(kib)))


def initialize(url, pool_size=0):
    """Point the proxy at the database named by `url` (a new app in tests replaces it)."""
    previous = db.obj
    if previous is not None:
        _close_quietly(previous)
    db.initialize(connect(url, pool_size))


def _close_quietly(database):
    try:
        if not database.is_closed() and not database.in_transaction():
            database.close()
        if hasattr(database, "close_all"):
            database.close_all()
    except Exception:  # the old database's server may be gone: it is being replaced anyway
        pass


def ensure_connection():
    """This thread's connection, opened if it has none (kept open after the unit of work)."""
    return db.connect(reuse_if_open=True)


def _driver_in_transaction(conn):
    status = getattr(conn, "in_transaction", None)  # sqlite3 (and psycopg 3's info)
    if isinstance(status, bool):
        return status
    get_status = getattr(conn, "get_transaction_status", None)  # psycopg2
    return get_status is not None and get_status() != 0  # 0: TRANSACTION_STATUS_IDLE


def release():
    """End a unit of work (a request, a task) on this thread's connection. A transaction left
    open (an exception past a bare begin(), a bug) is rolled back, so the next unit never
    inherits half-done writes or held locks; a connection that cannot even roll back is
    closed. The connection stays open, except a pooled one, which goes back to its pool (the
    server session stays open there, and a thread that ends never holds one).
    Returns True when something had to be rolled back."""
    database = db.obj
    if database is None or database.is_closed():
        return False
    state = database._state
    leaked = bool(state.transactions)
    try:
        leaked = leaked or _driver_in_transaction(state.conn)
        if leaked:
            state.conn.rollback()
    except Exception:
        state.transactions = []
        database.close()
        return True
    state.transactions = []
    if isinstance(database, PooledPortalPostgres):
        database.close()
    return leaked


def _forget_inherited_connections():
    """After fork, in the child: no connection of the parent's is used (see module doc)."""
    database = db.obj
    if database is None:
        return
    _inherited.append((database._state.conn, database.__dict__.pop("_open", None),
                       getattr(database, "_connections", None),
                       getattr(database, "_in_use", None)))  # fmt: skip
    database._state = type(database._state)()
    database._lock = threading.Lock()  # another thread of the parent may have held it
    if isinstance(database, PooledPortalPostgres):  # the pool's bookkeeping is the parent's
        database._connections = []
        database._in_use = {}
        database._pool_lock = threading.RLock()
        database._pool_available = threading.Condition(database._pool_lock)


os.register_at_fork(after_in_child=_forget_inherited_connections)


class _Lease:
    """One renewing() block: its renewal, when the next one is due, whether the block ended,
    and the thread renewing it right now (if any)."""

    __slots__ = ("renew", "every", "name", "due", "ended", "running")

    def __init__(self, renew, every, name):
        self.renew, self.every, self.name = renew, every, name
        self.due = time.monotonic() + every
        self.ended, self.running = False, None


class _Renewals:
    """Every renewing() block of a process in one heap, by when its next renewal is due,
    watched by ONE thread, which starts a thread for each renewal as it falls due (with its own
    connection: a slow renewal never delays another lease's). A block that ends before its
    first renewal, as nearly every gateway call and email does, costs a heap entry instead of
    a thread started, woken and joined (a tenth of a threads worker's Python time on the
    refund bench went to those)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.heap, self.order, self.watcher = [], itertools.count(), None

    def _push(self, lease):  # with the lock held
        heapq.heappush(self.heap, (lease.due, next(self.order), lease))
        if self.heap[0][2] is lease:
            self.changed.notify()

    def add(self, lease):
        with self.lock:
            if self.watcher is None or not self.watcher.is_alive():
                self.watcher = threading.Thread(target=self._watch, daemon=True, name="renewals")
                self.watcher.start()
            self._push(lease)

    def end(self, lease, timeout=10):
        """The block ended: no renewal starts after this; one already running is waited for."""
        with self.lock:
            lease.ended = True
            running = lease.running
        if running is not None:
            running.join(timeout)

    def _watch(self):
        while True:
            with self.lock:
                while True:
                    while self.heap and self.heap[0][2].ended:
                        heapq.heappop(self.heap)
                    if not self.heap:
                        self.changed.wait()
                        continue
                    wait = self.heap[0][0] - time.monotonic()
                    if wait <= 0:
                        break
                    self.changed.wait(wait)
                lease = heapq.heappop(self.heap)[2]
                lease.running = threading.Thread(target=self._renew, args=(lease,),
                                                 daemon=True, name=lease.name)  # fmt: skip
                lease.running.start()

    def _renew(self, lease):
        again = True
        try:
            if lease.renew() is False:
                again = False
        except Exception:  # the database is busy or down: try again next beat
            log.exception("%s: renewing failed; trying again", lease.name)
        finally:
            if db.obj is not None and not db.is_closed():
                db.close()  # this thread's own connection
            with self.lock:
                lease.running = None
                if again and not lease.ended:
                    lease.due = time.monotonic() + lease.every
                    self._push(lease)


_renewals = _Renewals()


def _fresh_renewals():
    """After fork, in the child: none of the parent's leases, its watcher or its lock."""
    global _renewals
    _renewals = _Renewals()


os.register_at_fork(after_in_child=_fresh_renewals)


@contextmanager
def renewing(renew, every, name="renew"):
    """Call `renew()` every `every` seconds (counted from the block's start, then from the end
    of the previous renewal), each in a thread of its own with its own connection, while the
    block runs; it stops when the block ends (a renewal still running is waited for, up to
    10 s) or when renew() returns False (the claim it renews is no longer ours). For leases
    held during a long call. One watcher thread per process keeps the schedule (_Renewals)."""
    lease = _Lease(renew, every, name)
    _renewals.add(lease)
    try:
        yield
    finally:
        _renewals.end(lease)


def is_postgres():
    return db.obj is not None and not db.obj.__class__.__name__.startswith("Sqlite")


def locked(query):
    """SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE."""
    return query.for_update() if is_postgres() else query

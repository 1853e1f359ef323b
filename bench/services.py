"""The processes a bench run starts and stops: its own Redis, databases, gunicorn, Celery.

Every process started here is stopped by its own pid; nothing is killed by name.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from portal.local_redis import LocalRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/")


def wait_for_port(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[0]} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


def stop(proc, timeout=20):
    """SIGTERM the process we started, then SIGKILL it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# -- memory ----------------------------------------------------------------------------------
def children(pid):
    """Direct child pids of `pid` (Linux /proc)."""
    found = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        for task in task_dir.iterdir():
            text = (task / "children").read_text().split()
            found.extend(int(c) for c in text)
    except OSError:
        pass
    return found


def peak_rss_mb(pid):
    """Peak resident set size (VmHWM) of a live process, in MB; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """user + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pids, quiet=0.3, timeout=120):
    """Wait until `pids` stop using CPU: a server still working off a load run's backlog
    would otherwise steal CPU from the next measurement."""
    deadline = time.monotonic() + timeout
    last = sum(cpu_seconds(pid) for pid in pids)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = sum(cpu_seconds(pid) for pid in pids)
        if now - last < 0.02:
            return True
        last = now
    return False


# -- Redis -----------------------------------------------------------------------------------
class Redis(LocalRedis):
    """A redis-server only this bench uses, so its command counts are the bench's own."""

    def commands_processed(self):
        return self.client().info("stats")["total_commands_processed"]

    def version(self):
        return self.client().info("server")["redis_version"]


# -- databases -------------------------------------------------------------------------------
def postgres_available():
    try:
        import psycopg2

        psycopg2.connect(PG_URL + "postgres", connect_timeout=3).close()
        return True, ""
    except Exception as exc:  # no server, no driver: the PostgreSQL half is skipped
        return False, str(exc).strip().splitlines()[0]


def _pg_admin(sql):
    import psycopg2

    conn = psycopg2.connect(PG_URL + "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def create_postgres(name):
    drop_postgres(name)
    _pg_admin(f'CREATE DATABASE "{name}"')
    return PG_URL + name


def drop_postgres(name):
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_size_bytes(name):
    return _pg_admin(f"SELECT pg_database_size('{name}')")[0][0]


def postgres_version():
    return _pg_admin("SHOW server_version")[0][0]


def sqlite_size_bytes(path):
    return sum(
        Path(str(path) + suffix).stat().st_size
        for suffix in ("", "-wal")
        if Path(str(path) + suffix).exists()
    )


# -- servers ---------------------------------------------------------------------------------
def portal_env(database_url, redis_url, instance):
    """Environment for the portal's gunicorn and Celery processes in a bench run."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY="bench-" + os.urandom(16).hex(),
        PORTAL_INSTANCE=str(instance),
        PORTAL_ENV="production",
        # wrk talks plain http on loopback, as a TLS-terminating proxy would to the portal;
        # production's redirect to https (issue 15) would answer every page with a 301.
        FORCE_HTTPS="0",
        # The bench manager signs in with a password alone (production asks staff for a code).
        REQUIRE_STAFF_TOTP="0",
        PORTAL_DOTENV=str(Path(instance) / "no.env"),
        # Only POST /login is limited; the bench signs in a handful of times per server.
        LOGIN_RATE_LIMIT="1000 per minute",
        LOG_LEVEL="WARNING",
        MAIL_SERVER="",
        MAIL_DIR=str(Path(instance) / "mail"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("FLASK_DEBUG", None)
    return env


def _log(path):
    """Where a server's output goes (None: inherit the bench's own)."""
    if path is None:
        return None
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab")  # noqa: SIM115  closed with the process


class Gunicorn:
    """`gunicorn -w 2 -b 127.0.0.1:<port> <app>`: the same settings for portal and baseline."""

    WORKERS = 2

    def __init__(self, app, env, extra_args=(), log=None):
        self.app, self.env, self.extra_args, self.log = app, env, list(extra_args), log
        self.port = free_port()
        self.proc = None
        self.peaks = {}  # worker slot -> highest VmHWM seen, across restarts
        self.restarts = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        cmd = [str(VENV_BIN / "gunicorn"), "-w", str(self.WORKERS), "-b",
               f"127.0.0.1:{self.port}", "--log-level", "warning", *self.extra_args, self.app]  # fmt: skip
        out = _log(self.log)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=out)
        wait_for_port(self.port, self.proc)
        deadline = time.monotonic() + 30
        while len(self.worker_pids()) < self.WORKERS and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def worker_pids(self):
        return children(self.proc.pid) if self.proc else []

    def _note_peaks(self):
        for slot, pid in enumerate(sorted(self.worker_pids())):
            value = peak_rss_mb(pid)
            if value is not None:
                self.peaks[slot] = max(self.peaks.get(slot, 0), value)

    def peak_rss(self):
        self._note_peaks()
        return [self.peaks[slot] for slot in sorted(self.peaks)]

    def settle(self, timeout=20):
        """Wait for the workers to finish requests a load run left behind; when that takes
        longer than `timeout` (pages slower than the run lasted), restart the server so the
        backlog can't run into the next measurement."""
        if wait_idle(self.worker_pids(), timeout=timeout):
            return
        self._note_peaks()
        self.proc.send_signal(signal.SIGQUIT)  # gunicorn: quick shutdown, in-flight requests die
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            stop(self.proc)
        self.restarts += 1
        self.start()

    def stop(self):
        self._note_peaks()
        stop(self.proc)


class CeleryWorker:
    """`celery -A worker:celery_app worker --pool=prefork -c 2`, the portal's own worker (or
    `pool="threads"`, `queues="io"`: the outbox's worker, as scripts/run.py starts it)."""

    def __init__(self, env, concurrency=2, log=None, pool="prefork", queues=None, name="bench"):
        self.env, self.concurrency, self.proc, self.log = env, concurrency, None, log
        self.pool, self.queues, self.name = pool, queues, name

    def start(self, celery_app, timeout=60):
        cmd = [str(VENV_BIN / "celery"), "-A", "worker:celery_app", "worker", f"--pool={self.pool}",
               "-c", str(self.concurrency), "--loglevel=WARNING", "--without-gossip",
               "--without-mingle", "--without-heartbeat",
               "-n", f"{self.name}{os.getpid()}@%h"]  # fmt: skip
        if self.queues:
            cmd += ["--queues", self.queues]
        out = _log(self.log)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.proc.returncode}")
            if celery_app.control.ping(timeout=0.5):
                return self
        raise RuntimeError("celery worker did not answer a ping")

    def pids(self):
        return [self.proc.pid, *children(self.proc.pid)] if self.proc else []

    def peak_rss(self):
        return [peak_rss_mb(pid) for pid in self.pids()]

    def stop(self):
        stop(self.proc, timeout=30)

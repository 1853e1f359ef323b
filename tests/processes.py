"""Celery worker and beat subprocesses for fault tests (they can be SIGKILLed, unlike the
in-process worker thread). Each writes its log to a file the test can read and assert on."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = "tests.worker_app:celery_app"


class Processes:
    """Starts workers and beat with one environment; stops every one it started, by pid."""

    def __init__(self, tmp_path, env):
        self.tmp_path, self.env, self.started = Path(tmp_path), env, []

    def _spawn(self, name, args):
        log = self.tmp_path / f"{name}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), **{k: str(v) for k, v in self.env.items()}}
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", APP, *args],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        proc.log_path = log
        self.started.append(proc)
        return proc

    def worker(self, name, ready_timeout=30, threads=0):
        """A worker taking both queues: solo, or with `threads` a threads pool (as the outbox's
        worker runs in production, scripts/run.py)."""
        pool = ["--pool=threads", "--concurrency", str(threads)] if threads else ["--pool=solo"]
        proc = self._spawn(name, ["worker", *pool, "--loglevel=INFO", "-n",
                                  f"{name}@%h", "--without-gossip", "--without-mingle",
                                  "--without-heartbeat"])  # fmt: skip
        wait_for_log(proc, "ready.", ready_timeout)
        return proc

    def beat(self, name="beat"):
        schedule = self.tmp_path / f"{name}-schedule"
        return self._spawn(name, ["beat", "--loglevel=INFO", "-s", str(schedule)])

    def stop_all(self):
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def logs(self, tail=4000):
        return "\n".join(
            f"--- {p.log_path.name} ---\n{p.log_path.read_text(errors='replace')[-tail:]}"
            for p in self.started
        )


def log_count(proc, text):
    """How many times `text` appears in the process's log so far."""
    return proc.log_path.read_text(errors="replace").count(text)


def wait_for_log(proc, text, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proc.log_path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"{proc.log_path.name}: no {text!r}:\n{proc.log_path.read_text()}")

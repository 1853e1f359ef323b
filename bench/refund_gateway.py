"""The refund pipeline against a payment provider that takes 300 ms per call.

    .venv/bin/python bench/refund_gateway.py sqlite:////tmp/bench.db --refunds 1500
    .venv/bin/python bench/refund_gateway.py postgresql://postgres@127.0.0.1:5432/bench --refunds 2000

A local fake of Stripe's refund endpoint (POST /v1/refunds, in this process, a thread per
request) answers after `--latency` seconds, counts the calls that arrive in each second and
each idempotency key's executions. N pending refunds and their outbox messages are written in
bulk on the bench store (bench/workers.create_refunds), their payments pointed at "stripe", and
one delivery task published per message to the outbox's queue; `--workers` Celery threads-pool
workers (`-P threads -c --threads -Q io`, as scripts/run.py starts the outbox's worker) carry
them out with GATEWAY_RATE_LIMIT at `--rate` per second (shared in Redis), then send each
shopper's email (to files). Prints refunds/s until every refund succeeded, until every email
was sent, the most calls the gateway saw in one calendar second and in any sliding 1-second
window, duplicates, each worker's RSS once started (idle) and its peak, and the load average.
"""

import argparse
import collections
import json
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import services, workers  # noqa: E402

API_KEY = "sk_test_bench"


class FakeGateway:
    """Stripe's refund endpoint as far as the portal's gateway uses it, with a latency."""

    def __init__(self, latency):
        self.latency, self.arrivals, self.executions = latency, [], collections.Counter()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key", "")
                with gateway.lock:
                    gateway.arrivals.append(time.time())
                    gateway.executions[key] += 1
                    number = len(gateway.arrivals)
                time.sleep(gateway.latency)
                body = json.dumps({"id": f"re_bench_{number:07d}", "object": "refund",
                                   "status": "succeeded"}).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}"

    def max_per_second(self):
        per_second = collections.Counter(int(t) for t in self.arrivals)
        return max(per_second.values()) if per_second else 0

    def max_per_window(self, seconds=1.0):
        """The most arrivals in any sliding window of `seconds` (not only calendar seconds)."""
        return max_in_window(self.arrivals, seconds)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def max_in_window(times, seconds=1.0):
    """The most of `times` inside any half-open window [t, t + seconds)."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def _cpu(started_workers):
    """CPU seconds the workers' processes have used so far."""
    return sum(services.cpu_seconds(pid) or 0 for w in started_workers for pid in w.pids())


def _to_stripe(refund_ids):
    """Point the bench refunds' payments at the Stripe gateway (the fake)."""
    from portal.models import Payment, Refund

    payments = Refund.select(Refund.payment).where(Refund.id.in_(refund_ids))
    Payment.update(gateway="stripe").where(Payment.id.in_(payments)).execute()


def run(database_url, count, latency, rate, worker_count, threads, timeout):
    from portal import create_app
    from portal.db import db

    workdir = Path(tempfile.mkdtemp(prefix="bench-refunds-"))
    instance = workdir / "instance"
    instance.mkdir()
    os.environ.setdefault("PORTAL_INSTANCE", str(instance))
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench"})
    (workdir / "redis").mkdir()
    redis = services.Redis(workdir / "redis").start()
    gateway = FakeGateway(latency)
    env = services.portal_env(database_url, redis.url, instance)
    env.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=gateway.url, STRIPE_TIMEOUT="30",
               GATEWAY_RATE_LIMIT=str(rate), DATABASE_POOL_SIZE=str(threads + 4))  # fmt: skip
    client = workers.celery_client(redis.url)
    started_workers = []
    try:
        with app.app_context():
            db.connect(reuse_if_open=True)
            refund_ids, message_ids = workers.create_refunds(count)
            _to_stripe(refund_ids)
            db.close()
        for n in range(worker_count):
            log = workdir / f"worker{n}.log"
            worker = services.CeleryWorker(env, concurrency=threads, log=log, pool="threads",
                                           queues="io", name=f"io{n}-")  # fmt: skip
            started_workers.append(worker.start(client))
        idle = [max(w.peak_rss() or [0]) for w in started_workers]
        cpu_before = _cpu(started_workers)
        load_at_start = os.getloadavg()[0]
        started = time.perf_counter()
        for message_id in message_ids:
            client.send_task(workers.DELIVER, args=[message_id], queue="io", ignore_result=True)
        done_at = emailed_at = None
        deadline = started + timeout
        while time.perf_counter() < deadline:
            with app.app_context():
                succeeded, failed, written, sent = workers._progress(refund_ids, message_ids[-1])
                db.close()
            now = time.perf_counter()
            if done_at is None and succeeded + failed >= count:
                done_at = now
            if done_at is not None and written >= succeeded and sent >= written:
                emailed_at = now
                break
            time.sleep(0.1)
        memory = [max(w.peak_rss() or [0]) for w in started_workers]
        cpu = _cpu(started_workers) - cpu_before
    finally:
        for worker in started_workers:
            worker.stop()
        client.close()
        gateway.stop()
        redis.stop()
    seconds = (done_at or time.perf_counter()) - started
    duplicates = sum(1 for n in gateway.executions.values() if n > 1)
    return {
        "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
        "refunds": count, "succeeded": succeeded, "failed": failed, "emails_sent": sent,
        "gateway_latency_s": latency, "rate_limit_per_s": rate, "workers": worker_count,
        "threads_per_worker": threads, "seconds": round(seconds, 2),
        "refunds_per_s": round(succeeded / seconds, 1) if seconds else 0.0,
        "with_emails_per_s": round(sent / (emailed_at - started), 1) if emailed_at else None,
        "worker_cpu_ms_per_refund": round(cpu * 1000 / max(succeeded, 1), 2),  # and its email
        "gateway_calls": len(gateway.arrivals), "gateway_max_per_s": gateway.max_per_second(),
        "gateway_max_any_1s_window": gateway.max_per_window(1.0),
        "keys_paid_twice": duplicates, "worker_idle_rss_mb": idle,
        "worker_peak_rss_mb": memory, "load_at_start": round(load_at_start, 1),
        "load_at_end": round(os.getloadavg()[0], 1),
    }  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="database URL of a generated bench store")
    parser.add_argument("--refunds", type=int, default=1500)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--rate", type=float, default=100, help="GATEWAY_RATE_LIMIT per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    result = run(args.url, args.refunds, args.latency, args.rate, args.workers, args.threads,
                 args.timeout)  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

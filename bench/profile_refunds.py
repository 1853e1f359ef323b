"""The refund path's own cost, in one thread of one process: CPU and statements per refund and
per email, each task run one after another (no contention, no GIL sharing), as the workers
run them (the Celery task called in-process: the app context, the kept-open connection).

    .venv/bin/python bench/profile_refunds.py postgresql://postgres@127.0.0.1:5432/bench --refunds 300
    .venv/bin/python bench/profile_refunds.py sqlite:////tmp/bench.db --refunds 300 --profile /tmp/r.prof

The gateway is bench/refund_gateway.py's fake of Stripe with no latency, in this process; the
bench's own Redis takes the published tasks (nobody consumes them: the emails are delivered
here, after the refunds, unless the refund's task delivered them itself, as delivery.deliver
does with a refund's email). Prints CPU ms (this thread) and statements per refund (with its
email when delivered with it) and per email left for a task of its own;
`--profile FILE` also writes a cProfile of the tasks (this thread's CPU time) and prints its
top functions; `--sql` prints the statements of one more refund and its email.
"""

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import refund_gateway, services, workers  # noqa: E402


class Counting:
    """Counts the statements and commits of the portal's database while it is on."""

    def __init__(self, database):
        self.statements = self.commits = 0
        self.on, self.log = False, None
        original_sql, original_commit = database.execute_sql, database.commit

        def execute_sql(sql, params=None, *args, **kwargs):
            if self.on:
                self.statements += 1
                if self.log is not None:
                    self.log.append(sql)
            return original_sql(sql, params, *args, **kwargs)

        def commit(*args, **kwargs):
            if self.on:
                self.commits += 1
                if self.log is not None:
                    self.log.append("-- commit")
            return original_commit(*args, **kwargs)

        database.execute_sql, database.commit = execute_sql, commit


def _run(task, ids, counting, profiler):
    counting.statements = counting.commits = 0
    counting.on = True
    cpu, wall = time.thread_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for message_id in ids:
        task(message_id)
    if profiler:
        profiler.disable()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    counting.on = False
    n = max(len(ids), 1)
    return {"count": len(ids), "cpu_ms_each": round(cpu * 1000 / n, 2),
            "wall_ms_each": round(wall * 1000 / n, 2),
            "statements_each": round(counting.statements / n, 2),
            "commits_each": round(counting.commits / n, 2)}  # fmt: skip


def run(database_url, count, profile_path=None, top=40, warm=20, show_sql=False):
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-refunds-"))
    instance = workdir / "instance"
    instance.mkdir()
    (workdir / "redis").mkdir()
    redis = services.Redis(workdir / "redis").start()
    gateway = refund_gateway.FakeGateway(0.0)
    try:
        env = services.portal_env(database_url, redis.url, instance)
        env.update(STRIPE_API_KEY=refund_gateway.API_KEY, STRIPE_API_BASE=gateway.url,
                   STRIPE_TIMEOUT="30", GATEWAY_RATE_LIMIT="100000", DATABASE_POOL_SIZE="8")  # fmt: skip
        os.environ.update(env)
        from portal import create_app
        from portal.db import db
        from portal.models import OutboxMessage

        app = create_app(web=False)
        celery = app.extensions["celery"]
        celery.loader.import_default_modules()  # the tasks (a worker imports them at start)
        task = celery.tasks[workers.DELIVER]
        with app.app_context():
            db.connect(reuse_if_open=True)
            refund_ids, message_ids = workers.create_refunds(count + warm)
            refund_gateway._to_stripe(refund_ids)
            db.close()
        counting = Counting(db.obj)
        # CPU time of this thread, not the wall clock: the tasks wait on the database.
        profiler = cProfile.Profile(time.thread_time) if profile_path else None

        def emails_after(after):
            with app.app_context():
                ids = [m.id for m in OutboxMessage.select(OutboxMessage.id).where(
                    (OutboxMessage.id > after) & (OutboxMessage.kind == "email")
                    & (OutboxMessage.status == "pending")).order_by(OutboxMessage.id)]  # fmt: skip
                db.close()
            return ids

        # Warm up: each statement's SQL built, the templates compiled, the HTTP session open.
        _run(task, message_ids[:warm], counting, None)
        _run(task, emails_after(max(message_ids)), counting, None)
        refunds = _run(task, message_ids[warm:], counting, profiler)
        emails = _run(task, emails_after(max(message_ids)), counting, profiler)
        if show_sql:  # one more refund and its email, statement by statement
            with app.app_context():
                refund_ids, message_ids = workers.create_refunds(1)
                refund_gateway._to_stripe(refund_ids)
                db.close()
            counting.log = []
            _run(task, message_ids, counting, None)
            counting.log.append("-- the email")
            _run(task, emails_after(max(message_ids)), counting, None)
            print("\n".join(" ".join(sql.split()) for sql in counting.log))
    finally:
        gateway.stop()
        redis.stop()
    result = {"database": "postgresql" if database_url.startswith("postgres") else "sqlite",
              "refunds": refunds, "emails": emails,
              "gateway_calls": len(gateway.arrivals),
              "keys_paid_twice": sum(1 for n in gateway.executions.values() if n > 1)}  # fmt: skip
    if profiler:
        profiler.dump_stats(profile_path)
        pstats.Stats(profile_path).sort_stats("cumulative").print_stats(top)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="database URL of a generated bench store")
    parser.add_argument("--refunds", type=int, default=300)
    parser.add_argument("--profile", help="write a cProfile of the tasks to this file")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sql", action="store_true", help="print one refund's statements")
    args = parser.parse_args(argv)
    result = run(args.url, args.refunds, args.profile, args.top, show_sql=args.sql)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Run every benchmark and print the table: each figure beside its baseline from the same run.

    .venv/bin/python bench/run.py            # quick: small store, 2 s per page, ~4 minutes
    .venv/bin/python bench/run.py --full     # 100,000 orders / 50,000 returns, 10 s per page
    .venv/bin/python bench/run.py --million  # --full plus the 1,000,000-return store

Results are also written to bench/results/<timestamp>.json. See bench/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import datagen, load, pages, services, workers  # noqa: E402
from bench.report import print_report, render  # noqa: E402

RESULTS = Path(__file__).parent / "results"

# name: orders, returns, pages measured ("all" or "queue"), used for workers
MODES = {
    "quick": {
        "datasets": [("main", 10_000, 5_000, "all")],
        "seconds": 2,
        "warmup": 1,
        "refunds": 200,
        "wait_emails": False,
    },
    "full": {
        "datasets": [("main", 100_000, 50_000, "all"), ("10k", 20_000, 10_000, "queue")],
        "seconds": 10,
        "warmup": 2,
        "refunds": 10_000,
        "wait_emails": True,
    },
}
MILLION = ("1m", 2_000_000, 1_000_000, "all")
PAGE_TARGET = 0.5  # each page >= half the baseline's throughput
SCALE_TARGET = 2.0  # queue p99 at 1M returns <= 2x its p99 at 10k
WORKER_TARGET = 0.5
MEMORY_TARGET_MB = 150


def log(message):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def machine():
    info = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        meminfo = Path("/proc/meminfo").read_text().split("\n")[0]
        info["ram_gb"] = round(int(meminfo.split()[1]) / 1024 / 1024, 1)
        cpu = [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in ln]
        info["cpu"] = cpu[0].split(":", 1)[1].strip() if cpu else ""
    except OSError:
        pass
    for name, cmd in (("gunicorn", ["gunicorn", "--version"]), ("wrk", ["wrk", "-v"])):
        exe = services.VENV_BIN / cmd[0] if name == "gunicorn" else cmd[0]
        try:
            out = subprocess.run([str(exe), *cmd[1:]], capture_output=True, text=True, check=False)
            first = (out.stdout or out.stderr).strip().splitlines()[0]
            info[name] = " ".join(first.split()[:2]) if name == "wrk" else first
        except (OSError, IndexError):
            info[name] = "missing"
    return info


class Database:
    """One bench database: a SQLite file in the work dir or a PostgreSQL database we create."""

    def __init__(self, kind, dataset, workdir):
        self.kind, self.dataset, self.workdir = kind, dataset, workdir
        self.pg_name = f"bench_portal_{dataset}"
        self.path = Path(workdir) / f"sqlite-{dataset}.db"

    def create(self):
        if self.kind == "postgres":
            return services.create_postgres(self.pg_name)
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{self.path}"

    def size_bytes(self):
        if self.kind == "postgres":
            return services.postgres_size_bytes(self.pg_name)
        return services.sqlite_size_bytes(self.path)

    def drop(self):
        if self.kind == "postgres":
            services.drop_postgres(self.pg_name)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)


def build(database, orders, returns, analyze=True):
    """Create, migrate and fill one database; returns (url, load summary, targets)."""
    from portal.db import db

    url = database.create()
    datagen.open_database(url)

    def progress(done, total):
        if done % 200_000 == 0 and done < total:
            log(f"  {done:,}/{total:,} orders")

    summary = datagen.generate(orders, returns, analyze=analyze, progress=progress)
    if database.kind == "sqlite":
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    targets = pages.targets(datagen.BENCH_SHOPPER)
    db.close()
    summary["size_bytes"] = database.size_bytes()
    summary["size_mb_per_100k_orders"] = round(summary["size_bytes"] / 1e6 * 100_000 / orders, 1)
    return url, summary, targets


def single_request_ms(base_url, path, session, count=3):
    """Median time of a few requests one at a time: the page's own latency, with no queue."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        load.fetch(base_url, path, session)
        times.append((time.perf_counter() - started) * 1000)
    return round(sorted(times)[len(times) // 2], 1)


def measure_pages(url, targets, which, instance, redis, wrk, seconds, warmup, logs):
    """Serve the portal and the baseline with the same gunicorn settings; load each page and a
    baseline page of the same size, one after the other. Where every page is measured
    (which == "all"), the portal's floor page of the same size is loaded too."""
    env = services.portal_env(url, redis.url, instance)
    portal = services.Gunicorn("wsgi:app", env, log=logs / "gunicorn-portal.log").start()
    bench_path = ["--pythonpath", str(ROOT / "bench")]
    baseline_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
    baseline = services.Gunicorn(
        "baseline_app:app", baseline_env, bench_path, log=logs / "gunicorn-baseline.log"
    ).start()
    floor = None
    if which == "all":
        floor = services.Gunicorn(
            "floor_app:app", env, bench_path, log=logs / "gunicorn-floor.log"
        ).start()
    results = []
    try:
        sessions = {
            pages.MANAGER: load.login(portal.url, datagen.BENCH_MANAGER, datagen.BENCH_PASSWORD),
            pages.SHOPPER: load.login(portal.url, datagen.BENCH_SHOPPER, datagen.BENCH_PASSWORD),
        }
        for target in targets:
            if which == "queue" and not target.queue:
                continue
            entry = {"page": target.name, "label": target.label, "path": target.path}
            session = sessions[target.who]
            status, body = load.fetch(portal.url, target.path, session)
            if status != 200:
                entry["not_available"] = f"GET {target.path} answered {status}"
                log(f"  {target.name}: not available ({status})")
                results.append(entry)
                continue
            entry["bytes"] = len(body)
            entry["single_ms"] = single_request_ms(portal.url, target.path, session)
            before = redis.commands_processed()
            page = load.run_wrk(wrk, portal.url + target.path, seconds, session, warmup,
                                settle=portal.settle)  # fmt: skip
            entry["redis_commands_during_load"] = redis.commands_processed() - before - 1
            base_path = f"/page?bytes={len(body)}"
            base_status, base_body = load.fetch(baseline.url, base_path)
            assert base_status == 200 and len(base_body) == len(body), "baseline size mismatch"
            base = load.run_wrk(wrk, baseline.url + base_path, seconds, None, warmup,
                                settle=baseline.settle)  # fmt: skip
            entry.update(page=target.name, result=page.as_dict(), baseline=base.as_dict())
            entry["ratio"] = round(page.requests_per_s / base.requests_per_s, 2)
            if floor is not None:
                entry.update(measure_floor(floor, len(body), session, wrk, seconds, warmup))
                entry["floor_ratio"] = round(entry["floor"]["requests_per_s"]
                                             / base.requests_per_s, 2)  # fmt: skip
            log(f"  {target.name}: {page.requests_per_s:.0f} req/s vs {base.requests_per_s:.0f}"
                f" (x{entry['ratio']}), p99 {page.p99_ms} ms")  # fmt: skip
            results.append(entry)
        memory = {
            "portal_workers_mb": portal.peak_rss(),
            "baseline_workers_mb": baseline.peak_rss(),
        }
        if floor is not None:
            memory["floor_workers_mb"] = floor.peak_rss()
    finally:
        portal.stop()
        baseline.stop()
        if floor is not None:
            floor.stop()
    return results, memory


def measure_floor(floor, size, session, wrk, seconds, warmup):
    """The portal's floor page (bench/floor_app.py) at `size` bytes, signed in as the page's
    user: the same session cookie works, the servers share SECRET_KEY and database."""
    path = f"/_bench/floor?bytes={size}"
    status, body = load.fetch(floor.url, path, session)
    if status != 200 or len(body) != size:
        return {"floor_not_available": f"GET {path} answered {status}, {len(body)} bytes"}
    result = load.run_wrk(wrk, floor.url + path, seconds, session, warmup, settle=floor.settle)
    return {"floor": result.as_dict()}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Returns Portal benchmarks (see bench/README.md)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small store, short runs (default)")
    size.add_argument("--full", action="store_true", help="100k orders / 50k returns, 10 s runs")
    parser.add_argument("--million", action="store_true", help="--full plus the 1M-return store")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=int, help="wrk duration per page (overrides the mode)")
    parser.add_argument("--refunds", type=int, help="refunds (and no-op tasks) to run")
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument(
        "--no-analyze", action="store_true", help="no planner statistics after the load"
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--workdir", help="where SQLite files and instance dirs go (a temp dir)")
    args = parser.parse_args(argv)

    mode_name = "full" if (args.full or args.million) else "quick"
    mode = dict(MODES[mode_name])
    datasets = list(mode["datasets"]) + ([MILLION] if args.million else [])
    if args.million and not any(name == "10k" for name, *_ in datasets):
        datasets.append(("10k", 20_000, 10_000, "queue"))
    seconds = args.seconds or mode["seconds"]
    refund_count = args.refunds or mode["refunds"]
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="portal-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.datetime.now():%Y%m%d-%H%M%S}"
    logs = RESULTS / f"{stamp}-logs"  # server output, kept with the results
    started = time.perf_counter()

    report = {
        "mode": mode_name + (" + million" if args.million else ""),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {
            "wrk": f"-t{load.WRK_THREADS} -c{load.WRK_CONNECTIONS} -d{seconds}s --latency",
            "gunicorn": f"-w {services.Gunicorn.WORKERS} (sync)",
            "celery": "--pool=prefork -c 2",
            "refunds": refund_count,
            "analyze_after_load": not args.no_analyze,
        },
        "logs": str(logs.relative_to(ROOT)),
        "notes": [],
        "databases": {},
    }
    wrk, note = load.wrk_path()
    if note:
        report["notes"].append(note)
        log(note)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in kinds:
        ok, why = services.postgres_available()
        if ok:
            report["machine"]["postgres"] = services.postgres_version()
        else:
            kinds.remove("postgres")
            report["notes"].append(f"PostgreSQL skipped: {why}")
            log(f"PostgreSQL skipped: {why}")

    # SIGTERM (a stopped run) unwinds like Ctrl-C: servers stopped, databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    redis = services.Redis(workdir).start()
    report["machine"]["redis"] = redis.version()
    database = None
    try:
        for kind in kinds:
            per_db = report["databases"][kind] = {"datasets": {}}
            for name, orders, returns, which in datasets:
                database = Database(kind, name, workdir)
                log(f"{kind}/{name}: generating {orders:,} orders, {returns:,} returns")
                url, summary, targets = build(database, orders, returns, not args.no_analyze)
                log(f"{kind}/{name}: loaded {sum(summary['rows'].values()):,} rows in "
                    f"{summary['load_seconds']} s, {summary['size_bytes'] / 1e6:.0f} MB")  # fmt: skip
                entry = per_db["datasets"][name] = {"load": summary}
                instance = workdir / f"instance-{kind}-{name}"
                dataset_logs = logs / f"{kind}-{name}"
                if wrk:
                    entry["pages"], entry["memory"] = measure_pages(
                        url, targets, which, instance, redis, wrk, seconds, mode["warmup"],
                        dataset_logs,
                    )  # fmt: skip
                if name == "main" and not args.skip_workers:
                    log(f"{kind}/{name}: {refund_count:,} refunds vs {refund_count:,} no-op tasks")
                    per_db["workers"] = workers.bench_workers(
                        url, redis, instance, refund_count, log=dataset_logs / "celery.log",
                        wait_emails=mode["wait_emails"],
                    )  # fmt: skip
                    w = per_db["workers"]
                    log(f"  refunds {w['refunds']['per_s'] if w['refunds'] else 'n/a'}/s vs "
                        f"no-op {w['baseline']['per_s']}/s")  # fmt: skip
                if not args.keep:
                    database.drop()
                database = None
    finally:
        redis.stop()
        if database is not None and not args.keep:
            from portal.db import db

            if db.obj is not None:
                db.close()
            database.drop()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["targets"] = evaluate(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps(report, indent=2))
    out.with_suffix(".md").write_text(render(report, markdown=True) + "\n")
    print_report(report)
    print(f"\nwritten: {out.relative_to(ROOT)}  ({report['seconds']:.0f} s)")
    return report


def evaluate(report):
    """Each target: met, missed or not measured, with the figures behind it."""
    checks = []
    for kind, per_db in report["databases"].items():
        for name, entry in per_db["datasets"].items():
            for page in entry.get("pages", []):
                if "ratio" in page:
                    checks.append({
                        "target": f"{kind}/{name} {page['page']} >= {PAGE_TARGET}x baseline req/s",
                        "value": page["ratio"],
                        "met": page["ratio"] >= PAGE_TARGET,
                    })  # fmt: skip
            for label, values in entry.get("memory", {}).items():
                if label == "portal_workers_mb":
                    checks.append({
                        "target": f"{kind}/{name} gunicorn workers < {MEMORY_TARGET_MB} MB",
                        "value": max(v for v in values if v is not None),
                        "met": all(v < MEMORY_TARGET_MB for v in values if v is not None),
                    })  # fmt: skip
        small = per_db["datasets"].get("10k", {}).get("pages", [])
        for big_name in ("1m", "main"):
            big = per_db["datasets"].get(big_name, {}).get("pages", [])
            for page in big:
                match = [p for p in small if p["page"] == page["page"] and "result" in p]
                if "result" in page and match and match[0]["result"]["p99_ms"]:
                    big_p99 = page["result"]["p99_ms"]
                    # No response within the run: slower than the run lasted.
                    ratio = round(big_p99 / match[0]["result"]["p99_ms"], 2) if big_p99 else "inf"
                    checks.append({
                        "target": f"{kind} {page['page']} p99 at {big_name} <= {SCALE_TARGET}x "
                                  "p99 at 10k returns",
                        "value": ratio,
                        "met": ratio != "inf" and ratio <= SCALE_TARGET,
                        "binding": big_name == "1m",
                    })  # fmt: skip
        w = per_db.get("workers")
        if w and w.get("ratio") is not None:
            checks.append({
                "target": f"{kind} refunds >= {WORKER_TARGET}x no-op task throughput",
                "value": w["ratio"],
                "met": w["ratio"] >= WORKER_TARGET and w["refunds"]["complete"],
            })  # fmt: skip
        if w and w.get("worker_peak_rss_mb"):
            values = [v for v in w["worker_peak_rss_mb"] if v is not None]
            checks.append({
                "target": f"{kind} celery worker processes < {MEMORY_TARGET_MB} MB",
                "value": max(values),
                "met": all(v < MEMORY_TARGET_MB for v in values),
            })  # fmt: skip
    return checks


if __name__ == "__main__":
    main()

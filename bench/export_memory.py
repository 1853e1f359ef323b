"""Peak memory of the queue's CSV export at 100,000 returns (issue 14): the export streams,
reading returns in chunks by id, so its peak stays flat however many rows go out.

    .venv/bin/python bench/export_memory.py                 # 100,000 returns on SQLite
    .venv/bin/python bench/export_memory.py --returns 20000 --db postgresql://postgres@127.0.0.1:5432/

It builds a store with bench/datagen.py (in a temporary folder, or reuses --keep's), signs in
the bench manager through Flask's test client, downloads /merchant/returns/export.csv?status=all
without buffering, and prints the rows and bytes received with the peak of Python's allocations
while streaming (tracemalloc), next to the same rows built as one list in memory (what a
non-streaming export would hold) and the process's peak resident set (VmHWM)."""

import argparse
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import datagen  # noqa: E402

MB = 1024 * 1024


def vm_hwm():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _database(args, folder):
    if args.db.startswith("postgres"):
        import psycopg2

        name = "bench_export_memory"
        admin = psycopg2.connect(args.db.rstrip("/") + "/postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        return args.db.rstrip("/") + "/" + name
    return f"sqlite:///{folder / 'export.db'}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a postgresql://... server URL")
    parser.add_argument("--keep", help="a folder to keep (and reuse) the SQLite store in")
    args = parser.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="export-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = _database(args, folder)
    fresh = not (args.keep and (folder / "export.db").exists())
    datagen.open_database(url)
    if fresh or url.startswith("postgres"):
        started = time.perf_counter()
        datagen.generate(orders=args.returns, returns=args.returns, analyze=True)
        print(f"store: {args.returns:,} returns built in {time.perf_counter() - started:.0f} s")
    datagen.db.close()

    from portal import create_app
    from portal.returns import exports, queue

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
                      "REDIS_URL": "memory://localhost/",
                      "CELERY": {"broker_url": "memory://localhost/",
                                 "result_backend": "cache+memory://"}})  # fmt: skip
    client = app.test_client()
    answer = client.post("/login", data={"email": datagen.BENCH_MANAGER,
                                         "password": datagen.BENCH_PASSWORD})  # fmt: skip
    assert answer.status_code == 302, answer.status_code

    tracemalloc.start()
    started = time.perf_counter()
    response = client.get("/merchant/returns/export.csv?status=all", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    rows = size = 0
    for chunk in response.response:
        size += len(chunk)
        rows += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    seconds = time.perf_counter() - started
    _, streamed_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()

    with app.app_context():
        whole = list(exports.queue_rows(queue.Filters(status="all")))  # the non-streaming way
    _, list_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"export: {rows - 1:,} returns, {size / MB:.1f} MB of CSV in {seconds:.1f} s "
          f"(under tracemalloc)")  # fmt: skip
    print(f"peak Python memory while streaming: {streamed_peak / MB:.1f} MB")
    print(f"the same {len(whole) - 1:,} rows held in one list: {list_peak / MB:.1f} MB")
    print(f"process peak resident set (VmHWM, store build included): {vm_hwm() / MB:.0f} MB")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

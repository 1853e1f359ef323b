"""Profile one page against a bench database: pyinstrument, plus every SQL query it ran, timed.

    .venv/bin/pip install pyinstrument      # a bench tool, not a project dependency
    .venv/bin/python bench/datagen.py sqlite:////tmp/b.db --orders 100000 --returns 50000
    .venv/bin/python bench/profile_page.py sqlite:////tmp/b.db /merchant/returns --as manager
    .venv/bin/python bench/profile_page.py sqlite:////tmp/b.db --all     # every bench page

Runs pages in-process through Flask's test client (sign-in by POST /login, CSRF off): a couple
of warm-up requests, `--repeat` timed ones (wall and CPU time, every SQL statement timed), then
for a single page the same again under pyinstrument, with its call tree and slowest queries.
"""

import argparse
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import datagen  # noqa: E402


class TimedCursor:
    """A DB-API cursor whose fetches count towards its statement's time (SQLite runs a
    GROUP BY or a sort while rows are fetched, not in execute)."""

    def __init__(self, cursor, times):
        self._cursor, self._times = cursor, times

    def _timed(self, name, *args):
        started = time.perf_counter()
        try:
            return getattr(self._cursor, name)(*args)
        finally:
            self._times.append(time.perf_counter() - started)
            self._times[-2:] = [sum(self._times[-2:])]  # one entry per execution

    def fetchone(self):
        return self._timed("fetchone")

    def fetchmany(self, *args):
        return self._timed("fetchmany", *args)

    def fetchall(self):
        return self._timed("fetchall")

    def __iter__(self):
        return iter(self.fetchone, None)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


class QueryTimer:
    """Wraps the database's execute_sql to time each statement."""

    def __init__(self, database):
        self.database = database
        self.original = database.execute_sql
        self.times = defaultdict(list)

    def __enter__(self):
        def timed(sql, params=None, *args, **kwargs):
            started = time.perf_counter()
            try:
                return TimedCursor(self.original(sql, params, *args, **kwargs), self.times[sql])
            finally:
                self.times[sql].append(time.perf_counter() - started)

        self.database.execute_sql = timed
        return self

    def __exit__(self, *exc):
        self.database.execute_sql = self.original

    def report(self, requests, top=8):
        total = sum(sum(v) for v in self.times.values())
        count = sum(len(v) for v in self.times.values())
        print(f"\n{count / requests:.1f} queries per request, "
              f"{total / requests * 1000:.1f} ms of SQL per request")  # fmt: skip
        ranked = sorted(self.times.items(), key=lambda kv: -sum(kv[1]))[:top]
        for sql, times in ranked:
            per = sum(times) / requests * 1000
            print(f"\n  {per:7.2f} ms/request  x{len(times) / requests:.0f}  {sql[:400]}")


def make_client(url):
    os.environ.setdefault("PORTAL_INSTANCE", tempfile.mkdtemp(prefix="portal-profile-"))
    from portal import create_app

    app = create_app({
        "DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False, "SECRET_KEY": "profile",
    })  # fmt: skip
    return app


def signed_in_client(app, who):
    client = app.test_client()
    email = datagen.BENCH_MANAGER if who == "manager" else datagen.BENCH_SHOPPER
    response = client.post("/login", data={"email": email, "password": datagen.BENCH_PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"sign-in as {email} failed: {response.status_code}")
    return client


def measure(client, path, repeat):
    """(bytes, wall ms, CPU ms per request, QueryTimer) without the profiler."""
    from portal.db import db

    for _ in range(2):
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    started, cpu = time.perf_counter(), time.process_time()
    with QueryTimer(db.obj) as timer:
        for _ in range(repeat):
            client.get(path)
    wall = (time.perf_counter() - started) / repeat * 1000
    return len(response.data), wall, (time.process_time() - cpu) / repeat * 1000, timer


def cpu_per_request(client, path, repeat):
    """CPU ms per request of GET `path` (after two warm-ups), and the last response's body."""
    for _ in range(2):
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    cpu = time.process_time()
    for _ in range(repeat):
        client.get(path)
    return (time.process_time() - cpu) / repeat * 1000, response.data


CSRF = re.compile(
    rb'(name="(?:[\w-]+-)?csrf[-_]token" (?:type="hidden" )?(?:content|value)=")[^"]*"'
    rb'|("X-CSRFToken": ")[^"]*"'
)


def _normalised(body):
    """A page without what differs from session to session (its CSRF tokens)."""
    return CSRF.sub(lambda m: (m.group(1) or m.group(2)) + b'-"', body)


def bench_clients(url):
    """The bench pages of the store at `url`, a signed-in client for each who (the portal app
    with the floor page installed) and the bare baseline's client."""
    from bench import baseline_app, floor_app, pages
    from portal.db import ensure_connection, release

    app = floor_app.install(make_client(url))
    with app.app_context():
        ensure_connection()
        targets = pages.targets(datagen.BENCH_SHOPPER)
        release()
    clients = {who: signed_in_client(app, who) for who in ("manager", "shopper")}
    return targets, clients, baseline_app.app.test_client()


def summary(url, repeat, save=None, compare=None):
    """Every page the bench loads: CPU per request beside the bare Flask render of the same size
    (bench/baseline_app.py) and the portal's floor page (bench/floor_app.py, installed into the
    same app) of the same size, as ratios; queries and SQL time per request. With `save`, each
    page's HTML is written there; with `compare`, checked byte for byte against such a folder
    (CSRF tokens aside)."""
    targets, clients, bare = bench_clients(url)
    print(f"{'page':17} {'bytes':>7} {'bare ms':>7} {'floor ms':>8} {'page ms':>7} "
          f"{'floor/bare':>10} {'page/floor':>10} {'queries':>7} {'SQL ms':>6}  same")  # fmt: skip
    different = []
    for target in targets:
        client = clients[target.who]
        size, _wall, cpu, timer = measure(client, target.path, repeat)
        _, body = cpu_per_request(client, target.path, 1)
        bare_ms, _ = cpu_per_request(bare, f"/page?bytes={size}", repeat)
        floor_ms, _ = cpu_per_request(client, f"/_bench/floor?bytes={size}", repeat)
        count = sum(len(v) for v in timer.times.values()) / repeat
        sql_ms = sum(sum(v) for v in timer.times.values()) / repeat * 1000
        same = "-"
        if save:
            Path(save).mkdir(parents=True, exist_ok=True)
            (Path(save) / f"{target.name}.html").write_bytes(_normalised(body))
        if compare:
            before = _normalised((Path(compare) / f"{target.name}.html").read_bytes())
            same = "yes" if before == _normalised(body) else "NO"
            if same == "NO":
                different.append(target.name)
        print(f"{target.name:17} {size:7,} {bare_ms:7.2f} {floor_ms:8.2f} {cpu:7.2f} "
              f"{bare_ms / floor_ms:9.2f}x {floor_ms / cpu:9.2f}x {count:7.1f} {sql_ms:6.2f}"
              f"  {same}")  # fmt: skip
    print(
        "\nratios are throughput ratios (CPU per request inverted): floor/bare = bare ms / "
        "floor ms, page/floor = floor ms / page ms"
    )
    if different:
        raise SystemExit(f"pages not byte-identical to {compare}: {', '.join(different)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="database URL of a generated bench store")
    parser.add_argument("path", nargs="?", help="page to profile, e.g. /merchant/returns")
    parser.add_argument("--as", dest="who", choices=["manager", "shopper"], default="manager")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--all", action="store_true", help="a summary line for every bench page")
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument("--save", help="with --all: write each page's HTML to this folder")
    parser.add_argument("--compare", help="with --all: check each page against --save's folder")
    args = parser.parse_args(argv)
    if args.all or not args.path:
        summary(args.url, args.repeat, args.save, args.compare)
        return

    from pyinstrument import Profiler

    from portal.db import db

    client = signed_in_client(make_client(args.url), args.who)
    size, wall, cpu, _timer = measure(client, args.path, args.repeat)
    print(f"GET {args.path}: {size:,} bytes, {wall:.1f} ms ({cpu:.1f} ms CPU) per request")
    profiler = Profiler(interval=0.0005)
    with QueryTimer(db.obj) as timer:
        profiler.start()
        for _ in range(args.repeat):
            client.get(args.path)
        profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    timer.report(args.repeat)
    if args.html:
        Path(args.html).write_text(profiler.output_html())


if __name__ == "__main__":
    main()

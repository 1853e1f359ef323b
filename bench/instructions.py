"""The bench pages' figures as instructions instead of CPU time: every bench page, the bare
Flask render of the same size and the portal's floor page of the same size, each counted by
valgrind's callgrind, in ONE process (the same as profile_page.py --all, but repeatable on a
loaded machine: an instruction count does not change with what else runs).

    .venv/bin/python bench/instructions.py sqlite:////tmp/bench.db [--requests 30]

The script runs itself under `valgrind --tool=callgrind --collect-atstart=no`-like control: a
child process builds the apps and signs in (not counted), then for each segment (a page, its
floor, its bare render) waits, and the parent zeroes callgrind's counters
(`callgrind_control -z`), lets it run `--requests` requests, and dumps the count
(`callgrind_control -d`). Needs valgrind (`apt-get install valgrind`). Takes a few minutes.
Ratios are of instructions per request: floor/bare = bare / floor, page/floor = floor / page.
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def child(url, requests, only=()):
    """Under valgrind: for each segment, say `ready <label>`, wait for `go`, run the requests,
    say `done <bytes>`."""
    from bench.profile_page import bench_clients

    targets, clients, bare = bench_clients(url)

    def segment(label, client, path):
        for _ in range(3):  # warm: templates compiled, statements prebuilt, caches filled
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
        print(f"ready {label}", flush=True)
        sys.stdin.readline()
        for _ in range(requests):
            client.get(path)
        print(f"done {len(response.data)}", flush=True)
        return len(response.data)

    for target in targets:
        if only and target.name not in only:
            continue
        client = clients[target.who]
        size = segment(f"{target.name} page", client, target.path)
        segment(f"{target.name} floor", client, f"/_bench/floor?bytes={size}")
        segment(f"{target.name} bare", bare, f"/page?bytes={size}")
    print("end", flush=True)


def _count(out_dir, before):
    """The instructions of the dump callgrind just wrote (its `summary:` line)."""
    for _ in range(200):
        new = sorted(set(glob.glob(f"{out_dir}/cg.out.*")) - before, key=os.path.getmtime)
        if new:
            text = Path(new[-1]).read_text()
            if "\nsummary:" in text or text.startswith("summary:"):
                before.add(new[-1])
                for line in text.splitlines():
                    if line.startswith("summary:"):
                        return int(line.split()[1])
        import time

        time.sleep(0.1)
    raise SystemExit("callgrind wrote no dump")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="database URL of a generated bench store")
    parser.add_argument("--requests", type=int, default=30, help="requests counted per segment")
    parser.add_argument("--pages", nargs="*", default=[], help="only these bench pages (names)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.url, args.requests, set(args.pages))
    out_dir = tempfile.mkdtemp(prefix="bench-callgrind-")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/cg.out",
           sys.executable, __file__, args.url, "--requests", str(args.requests), "--child",
           "--pages", *args.pages]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    counts, sizes, seen = {}, {}, set()
    while True:
        line = proc.stdout.readline().strip()
        if not line or line == "end":
            break
        if not line.startswith("ready "):
            continue
        name, kind = line[len("ready ") :].rsplit(" ", 1)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True,
                       capture_output=True)  # fmt: skip
        proc.stdin.write("go\n")
        proc.stdin.flush()
        done = proc.stdout.readline().split()
        subprocess.run(["callgrind_control", "-d", f"{name}-{kind}", str(proc.pid)], check=True,
                       capture_output=True)  # fmt: skip
        counts[name, kind] = _count(out_dir, seen) / args.requests
        sizes.setdefault(name, int(done[1]))
        if kind == "bare":
            bare, floor, page = (counts[name, k] for k in ("bare", "floor", "page"))
            print(f"{name:17} {sizes[name]:7,} bare {bare / 1e6:6.2f}M floor {floor / 1e6:6.2f}M "
                  f"page {page / 1e6:6.2f}M  floor/bare {bare / floor:5.2f}x  "
                  f"page/floor {floor / page:5.2f}x", flush=True)  # fmt: skip
    proc.wait()
    print(
        "\ninstructions per request (callgrind); floor/bare = bare / floor, "
        "page/floor = floor / page"
    )


if __name__ == "__main__":
    main()

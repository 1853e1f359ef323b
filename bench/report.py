"""The table of a bench run (the same figures as the JSON file), as text or as Markdown."""


class Out:
    """Collects the report's lines; `markdown` switches tables to Markdown."""

    def __init__(self, markdown=False):
        self.markdown = markdown
        self.lines = []

    def __call__(self, text=""):
        self.lines.extend(str(text).split("\n"))

    def table(self, title, header, rows):
        self(f"\n{'**' + title + '**' if self.markdown else title}")
        if self.markdown:
            self()
        if not rows:
            self("  (nothing measured)")
            return
        if self.markdown:
            self("| " + " | ".join(header) + " |")
            self("|" + "|".join(" --- " if i < 3 else " ---: " for i in range(len(header))) + "|")
            for row in rows:
                self("| " + " | ".join(str(c) for c in row) + " |")
            return
        widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
        for n, row in enumerate([header, *rows]):
            cells = [
                str(c).ljust(w) if i < 3 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            self("  " + "  ".join(cells).rstrip())
            if n == 0:
                self("  " + "  ".join("-" * w for w in widths))

    def text(self):
        return "\n".join(self.lines)


def _ms(value):
    return "-" if value is None else f"{value:.1f}"


def page_rows(report):
    rows = []
    for kind, per_db in report["databases"].items():
        for name, entry in per_db["datasets"].items():
            for p in entry.get("pages", []):
                if "result" not in p:
                    rows.append((kind, name, p["page"], "-", "n/a", "-", "-", "-", "-", "-", "-",
                             "-", "-", p.get("not_available", "")))  # fmt: skip
                    continue
                r, b = p["result"], p["baseline"]
                errors = r["non_200"] + r["socket_errors"]
                floor = p.get("floor")
                rows.append((kind, name, p["page"], f"{p['bytes'] / 1024:.1f}",
                             f"{r['requests_per_s']:.1f}", f"{b['requests_per_s']:.0f}",
                             f"{p['ratio']:.2f}",
                             f"{floor['requests_per_s']:.0f}" if floor else "-",
                             f"{p['floor_ratio']:.2f}" if floor else "-",
                             _ms(r["p50_ms"]), _ms(r["p99_ms"]),
                             _ms(b["p99_ms"]), _ms(p.get("single_ms")), str(errors)))  # fmt: skip
    return rows


def print_report(report):
    print(render(report))


def render(report, markdown=False):
    out = Out(markdown)
    settings = report["settings"]
    lead = "- " if markdown else "  "
    out(f"\nReturns Portal bench: {report['mode']} mode, {report['started']}, "
        f"{report.get('seconds', 0):.0f} s" + ("\n" if markdown else ""))  # fmt: skip
    m = report["machine"]
    out(f"{lead}machine: {m.get('nproc')} cores ({m.get('cpu', '?')}), {m.get('ram_gb')} GB RAM, "
        f"Python {m.get('python')}, SQLite {m.get('sqlite')}, PostgreSQL {m.get('postgres', '-')}, "
        f"Redis {m.get('redis')}, {m.get('gunicorn')}, {m.get('wrk')}")  # fmt: skip
    out(f"{lead}load average at start: {m.get('load_average_at_start')} (figures are ratios "
        "measured in the same run)")  # fmt: skip
    for note in report["notes"]:
        out(f"{lead}note: {note}")

    rows = []
    for kind, per_db in report["databases"].items():
        for name, entry in per_db["datasets"].items():
            s = entry["load"]
            rows.append((kind, name, f"{s['orders']:,}", f"{s['returns']:,}",
                         f"{sum(s['rows'].values()):,}", f"{s['load_seconds']:.1f}",
                         f"{s['rows_per_second']:,}", f"{s['size_bytes'] / 1e6:.0f}",
                         f"{s['size_mb_per_100k_orders']:.0f}"))  # fmt: skip
    out.table("Data load (batched inserts in one transaction per 10,000 orders)",
           ("db", "data", "orders", "returns", "rows", "seconds", "rows/s", "MB",
            "MB/100k orders"), rows)  # fmt: skip

    out.table(f"Pages under load (wrk {settings['wrk']}; gunicorn {settings['gunicorn']}; baseline = "
           "bare Flask page of the same size, same server settings, same run)",
           ("db", "data", "page", "KB", "req/s", "base req/s", "ratio", "floor req/s",
            "floor ratio", "p50 ms", "p99 ms", "base p99", "alone ms", "errors"),
           page_rows(report))  # fmt: skip
    gap = "\n" if markdown else ""
    out(f"{gap}floor = the portal app serving a signed-in page of the same size with no queries "
        "of its own (bench/floor_app.py); floor ratio = floor req/s / base req/s, the best any "
        f"portal page could reach{gap}")  # fmt: skip

    rows = []
    for kind, per_db in report["databases"].items():
        small = {p["page"]: p for p in per_db["datasets"].get("10k", {}).get("pages", [])}
        for big_name in ("main", "1m"):
            big = per_db["datasets"].get(big_name, {}).get("pages", [])
            for p in big:
                q = small.get(p["page"])
                if q and "result" in q and "result" in p and q["result"]["p99_ms"]:
                    a, b = q["result"]["p99_ms"], p["result"]["p99_ms"]
                    returns = per_db["datasets"][big_name]["load"]["returns"]
                    sa, sb = q.get("single_ms"), p.get("single_ms")
                    rows.append((kind, p["page"], f"{returns:,}", _ms(a), _ms(b),
                                 f"{b / a:.2f}" if b else "inf", _ms(sa), _ms(sb),
                                 f"{sb / sa:.2f}" if sa and sb else "-"))  # fmt: skip
    out.table("Queue p99 as the store grows (10,000 returns vs larger; 'alone' = one request at a "
           "time)", ("db", "page", "returns", "p99 @10k", "p99 larger", "ratio", "alone @10k",
                     "alone larger", "ratio"), rows)  # fmt: skip

    rows = []
    for kind, per_db in report["databases"].items():
        w = per_db.get("workers")
        if not w:
            continue
        base = w["baseline"]
        ref = w.get("refunds")
        if ref is None:
            rows.append((kind, "n/a", f"{base['per_s']:.0f}", "-", "-", "-",
                         w.get("not_available", "not available")))  # fmt: skip
            continue
        rows.append((kind, f"{ref['per_s']:.0f}", f"{base['per_s']:.0f}", f"{w['ratio']:.2f}",
                     f"{ref['succeeded']:,}/{ref['count']:,}", f"{ref['seconds']:.1f}",
                     f"all emails sent after {ref['with_emails_sent_seconds']:.1f} s"
                     if ref["with_emails_sent_seconds"] else "emails not awaited"))  # fmt: skip
    out.table(f"Workers ({settings['refunds']:,} refunds end to end vs as many no-op tasks, celery "
           f"{settings['celery']})",
           ("db", "refunds/s", "no-op/s", "ratio", "succeeded", "seconds", "notes"), rows)  # fmt: skip

    rows = []
    for kind, per_db in report["databases"].items():
        for name, entry in per_db["datasets"].items():
            mem = entry.get("memory")
            if mem:
                rows.append((kind, name, "gunicorn workers (portal)",
                             ", ".join(str(v) for v in mem["portal_workers_mb"]),
                             ", ".join(str(v) for v in mem["baseline_workers_mb"])))  # fmt: skip
        w = per_db.get("workers")
        if w and w.get("worker_peak_rss_mb"):
            rows.append((kind, "main", "celery worker (main, pool)",
                         ", ".join(str(v) for v in w["worker_peak_rss_mb"]), "-"))  # fmt: skip
    out.table("Peak resident memory (VmHWM, MB)", ("db", "data", "process", "peak MB",
                                                "baseline MB"), rows)  # fmt: skip

    out("\n**Targets**\n" if markdown else "\nTargets")
    for check in report["targets"]:
        if markdown:
            out(f"- {'met' if check['met'] else '**missed**'}: {check['target']}: {check['value']}")
        else:
            out(f"  {'met   ' if check['met'] else 'MISSED'} {check['target']}: {check['value']}")
    if not report["targets"]:
        out("  (nothing measured)")
    return out.text()

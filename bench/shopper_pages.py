"""Many shopper pages saved, or checked byte for byte against a saved folder: every return
status's tracking page and its order's page (opened as a guest link opens them), the bench
shopper's order history (pages, a search), tracking and order pages signed in, each in English
and German. A faster path must leave every one of them as it was.

    .venv/bin/python bench/shopper_pages.py sqlite:////tmp/b.db --save /tmp/shopper-before
    .venv/bin/python bench/shopper_pages.py sqlite:////tmp/b.db --compare /tmp/shopper-before

`--per-status` returns of each status and kind (picked evenly by id, so the same ones every
run), CSRF tokens aside (bench/profile_page.py's normalisation)."""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import datagen  # noqa: E402
from bench.profile_page import _normalised, make_client, signed_in_client  # noqa: E402

LANGUAGES = ("en", "de")


def _picked(per_status):
    """[(reference, order number)] of `per_status` returns per status and kind, spread by id."""
    from peewee import fn

    from portal.models import Order, Return

    picked = []
    groups = (Return.select(Return.status, Return.kind, fn.COUNT(Return.id).alias("n"))
              .group_by(Return.status, Return.kind).order_by(Return.status, Return.kind).tuples())  # fmt: skip
    for status, kind, count in groups:
        step = max(1, count // per_status)
        for n in range(min(per_status, count)):
            row = (
                Return.select(Return.reference, Order.number)
                .join(Order)
                .where((Return.status == status) & (Return.kind == kind))
                .order_by(Return.id)
                .offset(n * step)
                .limit(1)
                .tuples()
                .first()
            )
            picked.append(row)
    return picked


def _shopper_pages():
    from portal.models import Order, Return, User

    shopper = User.get(User.email == datagen.BENCH_SHOPPER)
    references = [r for (r,) in Return.select(Return.reference).join(Order)
                  .where(Order.customer == shopper.id).order_by(Return.id).tuples()]  # fmt: skip
    numbers = [n for (n,) in Order.select(Order.number).where(Order.customer == shopper.id)
               .order_by(Order.id).tuples()]  # fmt: skip
    title = Order.select(Order.number).where(Order.customer == shopper.id).limit(1).scalar()
    paths = ["/orders", "/orders?page=2", f"/orders?q={title[-4:]}", "/orders?q=zzzz"]
    paths += [f"/orders/{n}" for n in numbers] + [f"/returns/{r}" for r in references]
    return paths


def pages(app, per_status):
    """[(name, client, path)] per language: a client made per language and guest; the bench
    shopper's account language set to each in turn (and back to English at the end: the
    other bench tools read the English pages)."""
    from portal.db import ensure_connection, release

    with app.app_context():
        ensure_connection()
        picked = _picked(per_status)
        own = _shopper_pages()
        release()
    for language in LANGUAGES:
        _account_language(app, language)
        out = []
        client = signed_in_client(app, "shopper")
        client.set_cookie("lang", language)
        for path in own:
            out.append((f"{language}-shopper-{_safe(path)}", client, path))
        for reference, number in picked:
            guest = app.test_client()
            guest.set_cookie("lang", language)
            with guest.session_transaction() as session:
                session["guest_order"] = number
            out.append((f"{language}-guest-return-{reference}", guest, f"/returns/{reference}"))
            out.append((f"{language}-guest-order-{reference}", guest, f"/orders/{number}"))
        yield from out
    _account_language(app, LANGUAGES[0])


def _account_language(app, language):
    from portal.db import ensure_connection, release
    from portal.models import User

    with app.app_context():
        ensure_connection()
        User.update(locale=language).where(User.email == datagen.BENCH_SHOPPER).execute()
        release()


def _safe(path):
    return path.strip("/").replace("/", "_").replace("?", "_").replace("=", "-")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="database URL of a generated bench store")
    parser.add_argument("--per-status", type=int, default=6)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", help="write each page's HTML to this folder")
    group.add_argument("--compare", help="check each page against --save's folder")
    args = parser.parse_args(argv)
    app = make_client(args.url)
    different, count = [], 0
    for name, client, path in pages(app, args.per_status):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} ({name}) answered {response.status_code}")
        body = _normalised(response.data)
        count += 1
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            (Path(args.save) / f"{name}.html").write_bytes(body)
        elif _normalised((Path(args.compare) / f"{name}.html").read_bytes()) != body:
            different.append(name)
    print(f"{count} pages {'saved' if args.save else 'compared'}", end="")
    if different:
        print(f"; {len(different)} differ:")
        print("\n".join(different))
        raise SystemExit(1)
    print(", all byte-identical" if args.compare else "")


if __name__ == "__main__":
    main()

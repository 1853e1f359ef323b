"""Flask commands: seed-demo, import-orders, create-user."""

import json

import pytest

from portal.db import db
from portal.models import Invoice, Order, OrderLine, Payment, Return, ReturnEvent, User
from tests.apps import make_app

DEMO_LOGINS = [
    ("shopper@example.com", "shopper"),
    ("shopper2@example.com", "shopper"),
    ("agent@example.com", "agent"),
    ("manager@example.com", "manager"),
    ("manager2@example.com", "manager"),
    ("admin@example.com", "admin"),
]
DEMO_PASSWORD = "demo-pass-1234"


def store_snapshot():
    """What a seed decides: order numbers, owners, totals, lines (not the clock)."""
    orders = Order.select().order_by(Order.number)
    return [
        (
            o.number,
            o.email,
            o.status,
            o.shipping_total,
            sorted((ln.sku, ln.quantity, ln.unit_price, ln.unit_tax) for ln in o.lines),
            sorted((p.method, p.amount) for p in o.payments),
        )
        for o in orders
    ]


def test_seed_demo_creates_the_demo_store_once(app, runner, client):
    # --if-empty on an empty database seeds it (that is what `make run` does every time).
    result = runner.invoke(args=["seed-demo", "--orders", "30", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "seeded 32 orders" in result.output
    assert DEMO_PASSWORD in result.output
    with app.app_context(), db.connection_context():
        for email, role in DEMO_LOGINS:
            user = User.by_email(email)
            assert user is not None, email
            assert user.role == role and user.active
            assert user.check_password(DEMO_PASSWORD)
        for email in ("shopper@example.com", "shopper2@example.com"):
            orders = Order.select().where(Order.customer == User.by_email(email))
            assert orders.count() >= 1, email
            # Each demo shopper has a delivered, invoiced multi-line order to return.
            assert any(
                o.status == "delivered" and o.lines.count() >= 2 and o.invoices.count() == 1
                for o in orders
            ), email
        # Captured payments match every order's total.
        for order in Order.select():
            # a bundle's parts are paid for by the bundle's line (they share its price)
            lines = [ln for ln in order.lines if ln.bundle_id is None]
            total = order.shipping_total + sum(ln.quantity * ln.unit_total for ln in lines)
            assert sum(p.amount for p in order.payments) == total, order.number

        # A queue to work, made through the domain: several states, each with its timeline.
        statuses = {r.status for r in Return.select()}
        assert {"requested", "approved", "received"} <= statuses, statuses
        for rma in Return.select():
            assert ReturnEvent.select().where(ReturnEvent.rma == rma.id).count() >= 1

    # The demo shopper can sign in and sees orders.
    response = client.post(
        "/login", data={"email": "shopper@example.com", "password": DEMO_PASSWORD}
    )
    assert response.headers["Location"] == "/orders"
    assert "Order #" in client.get("/orders").get_data(as_text=True)

    # Again: a no-op.
    result = runner.invoke(args=["seed-demo", "--orders", "30", "--if-empty"])
    assert result.exit_code == 0
    assert "demo data already present." in result.output
    with app.app_context(), db.connection_context():
        assert Order.select().count() == 32
        assert User.select().count() == 10


def test_seed_demo_is_deterministic_for_a_seed(tmp_path):
    snapshots = []
    for name in ("first", "second"):
        folder = tmp_path / name
        folder.mkdir()
        app = make_app(folder)
        result = app.test_cli_runner().invoke(args=["seed-demo", "--orders", "30", "--seed", "7"])
        assert result.exit_code == 0, result.output
        with app.app_context(), db.connection_context():
            snapshots.append(store_snapshot())
        db.close()
    first, second = snapshots
    assert len(first) == 32
    assert first == second


def test_seed_demo_refuses_production(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret")
    app = make_app(tmp_path)
    assert app.config["PORTAL_ENV"] == "production"
    result = app.test_cli_runner().invoke(args=["seed-demo", "--orders", "30"])
    assert result.exit_code == 1
    assert "refuses to run when PORTAL_ENV=production" in result.output
    with app.app_context(), db.connection_context():
        assert User.select().count() == 0


def test_production_needs_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_DOTENV", str(tmp_path / "no.env"))  # ignore a developer's .env
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    from portal import config

    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        config.load(str(tmp_path))


def test_seed_demo_refuses_a_database_with_accounts(app, runner, make):
    with app.app_context():
        make.user("someone@example.com")
    result = runner.invoke(args=["seed-demo", "--orders", "30"])
    assert result.exit_code == 1
    assert "already has accounts" in result.output
    result = runner.invoke(args=["seed-demo", "--orders", "30", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "demo data already present." in result.output
    with app.app_context(), db.connection_context():
        assert User.select().count() == 1
        assert Order.select().count() == 0


# --- import-orders ---------------------------------------------------------------------------


def record(number, **overrides):
    base = {
        "number": number,
        "email": "Buyer@Example.com",
        "currency": "usd",
        "status": "delivered",
        "placed_at": "2026-03-01T10:00:00Z",
        "delivered_at": "2026-03-04T12:00:00+02:00",
        "shipping_total": 500,
        "invoices": [{"number": f"INV-{number}", "kind": "sale"}],
        "lines": [
            {"sku": "TEE-M", "title": "Tee", "quantity": 2, "unit_price": 1000, "unit_tax": 200,
             "variant": {"size": "M"}, "invoice": f"INV-{number}"},
        ],
        "payments": [{"method": "card", "reference": f"ch_{number}", "amount": 2900}],
    }  # fmt: skip
    base.update(overrides)
    return base


def write_jsonl(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return str(path)


BAD_RECORDS = [
    ("not json", "{oops", "not valid JSON"),
    ("not an object", "[1, 2]", "a record must be a JSON object"),
    ("no number", record(None), "'number' is missing"),
    ("bad email", record("E1", email="nobody"), "'email' is not an email address"),
    ("currency", record("E2", currency="XXX"), "unknown currency 'XXX'"),
    ("status", record("E3", status="lost"), "status must be one of"),
    ("timestamp", record("E4", placed_at="yesterday"), "is not an ISO 8601 timestamp"),
    (
        "delivered before placed",
        record("E5", delivered_at="2026-02-01T00:00:00Z"),
        "delivered_at is before placed_at",
    ),
    ("no lines", record("E6", lines=[]), "'lines' must be a non-empty list"),
    (
        "float price",
        record("E7", lines=[{"sku": "A", "title": "A", "quantity": 1, "unit_price": 9.99}]),
        "'unit_price' must be a whole number of cents",
    ),
    (
        "zero quantity",
        record("E8", lines=[{"sku": "A", "title": "A", "quantity": 0, "unit_price": 100}]),
        "'quantity' must be at least 1",
    ),
    (
        "unknown invoice",
        record(
            "E9",
            lines=[
                {"sku": "A", "title": "A", "quantity": 1, "unit_price": 2400, "invoice": "INV-NOPE"}
            ],
        ),
        "invoice 'INV-NOPE' is not among the order's invoices",
    ),  # fmt: skip
    (
        "payments do not add up",
        record("E10", payments=[{"method": "card", "reference": "x", "amount": 100}]),
        "payments capture 100 cents but the order totals 2900 cents",
    ),
    (
        "payment method",
        record("E11", payments=[{"method": "cash", "reference": "x", "amount": 2900}]),
        "unknown method 'cash'",
    ),
    (
        "payment gateway",
        record(
            "E24",
            payments=[{"method": "card", "reference": "x", "amount": 2900, "gateway": "paypal"}],
        ),
        "unknown gateway 'paypal'",
    ),  # fmt: skip
    ("string shipping", record("E12", shipping_total="500"), "'shipping_total' must be a whole"),
    ("null shipping", record("E13", shipping_total=None), "'shipping_total' must be a whole"),
    ("negative shipping", record("E14", shipping_total=-5), "'shipping_total' can't be negative"),
    (
        "string tax",
        record(
            "E15",
            lines=[{"sku": "A", "title": "A", "quantity": 1, "unit_price": 100, "unit_tax": "20"}],
        ),
        "'unit_tax' must be a whole number of cents",
    ),  # fmt: skip
    ("payments not a list", record("E16", payments=5), "'payments' must be a list"),
    ("invoices not a list", record("E17", invoices="INV-1"), "'invoices' must be a list"),
    (
        "final_sale as a string",
        record(
            "E19",
            lines=[
                {"sku": "A", "title": "A", "quantity": 1, "unit_price": 2400, "final_sale": "false"}
            ],
        ),
        "'final_sale' must be true or false",
    ),  # fmt: skip
    (
        "missing title",
        record("E20", lines=[{"sku": "A", "quantity": 1, "unit_price": 2400}]),
        "line 1: 'title' is missing",
    ),
    ("status not a string", record("E21", status=["delivered"]), "status must be one of"),
    (
        "huge price",
        record("E22", lines=[{"sku": "A", "title": "A", "quantity": 1, "unit_price": 10**20}]),
        "'unit_price' is too large",
    ),
    ("huge shipping", record("E23", shipping_total=2**63), "'shipping_total' is too large"),
    (
        "sale invoices only",
        record("E18", invoices=[{"number": "R1", "kind": "return"}]),
        "only sale invoices are imported",
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    ("row", "message"), [(r, m) for _, r, m in BAD_RECORDS], ids=[i for i, _, _ in BAD_RECORDS]
)
def test_import_reports_each_bad_record(app, runner, tmp_path, row, message):
    path = write_jsonl(tmp_path / "orders.jsonl", [record("GOOD-1"), row])
    result = runner.invoke(args=["import-orders", path])
    assert result.exit_code == 1, result.output
    assert "line 2: " in result.stderr
    assert message in result.stderr, result.stderr
    assert "imported 1 orders, 1 rejected." in result.stdout
    with app.app_context(), db.connection_context():
        assert [o.number for o in Order.select()] == ["GOOD-1"]


def test_import_mixed_file(app, runner, tmp_path):
    rows = [
        record("100"),
        record("101", email="nobody"),  # bad
        "",  # blank lines are skipped
        record("102", status="shipped", delivered_at=None),
        record("100"),  # already imported
        record("103", invoices=[{"number": "INV-100", "kind": "sale"}],
               lines=[{"sku": "A", "title": "A", "quantity": 1, "unit_price": 2400,
                       "invoice": "INV-100"}]),  # invoice number taken by order 100
        "{broken",
        record("104", payments=[
            {"method": "card", "reference": "c", "amount": 1900},
            {"method": "gift_card", "reference": "g", "amount": 1000},
        ]),
    ]  # fmt: skip
    result = runner.invoke(args=["import-orders", write_jsonl(tmp_path / "mix.jsonl", rows)])
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors == [
        "line 2: order 101: 'email' is not an email address.",
        "line 5: order 100: already imported.",
        "line 6: order 103: an invoice number is already used.",
        "line 7: not valid JSON (Expecting property name enclosed in double quotes).",
    ]
    assert "imported 3 orders, 4 rejected." in result.stdout
    with app.app_context(), db.connection_context():
        assert [o.number for o in Order.select().order_by(Order.number)] == ["100", "102", "104"]
        # Nothing of a rejected record was written: no lines, payments or invoices either.
        numbers = {"100", "102", "104"}
        assert {ln.order.number for ln in OrderLine.select()} == numbers
        assert {p.order.number for p in Payment.select()} == numbers
        assert {i.number for i in Invoice.select()} == {"INV-100", "INV-102", "INV-104"}
        assert Invoice.select().count() == 3 and OrderLine.select().count() == 3
        order = Order.get(Order.number == "100")
        assert order.email == "buyer@example.com"
        assert order.currency == "USD"
        assert order.placed_at.isoformat() == "2026-03-01T10:00:00"
        assert order.delivered_at.isoformat() == "2026-03-04T10:00:00"  # converted to UTC
        (line,) = order.lines
        assert (line.variant, line.invoice_number, line.unit_total) == (
            {"size": "M"},
            "INV-100",
            1200,
        )
        assert [(p.method, p.amount, p.position) for p in Order.get(Order.number == "104")
                .payments.order_by(Payment.position)] == [("card", 1900, 1), ("gift_card", 1000, 2)]  # fmt: skip


def test_import_all_good_exits_zero_and_attaches_accounts(app, runner, make, tmp_path):
    with app.app_context():
        buyer = make.user("buyer@example.com")
    path = write_jsonl(tmp_path / "ok.jsonl", [record("200"), record("201")])
    result = runner.invoke(args=["import-orders", path])
    assert result.exit_code == 0, result.output
    assert "imported 2 orders, 0 rejected." in result.output
    with app.app_context(), db.connection_context():
        assert {o.customer_id for o in Order.select()} == {buyer.id}


def test_import_missing_file(runner, tmp_path):
    result = runner.invoke(args=["import-orders", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "No such file" in result.output


# --- create-user -----------------------------------------------------------------------------


def test_create_user(app, runner):
    result = runner.invoke(
        args=["create-user", "  New.Person@Example.COM ", "--name", "New Person", "--role",
              "manager", "--password", "long-enough-pw"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "created manager new.person@example.com" in result.output
    with app.app_context(), db.connection_context():
        user = User.by_email("new.person@example.com")
        assert user.name == "New Person" and user.role == "manager"
        assert user.check_password("long-enough-pw")
        # hashed with the configured KDF (scrypt outside the test suite, see test_auth)
        assert user.password_hash.startswith(app.config["PASSWORD_HASH_METHOD"].split(":")[0])


def test_create_user_prompts_for_the_password(app, runner):
    result = runner.invoke(
        args=["create-user", "prompted@example.com"], input="long-enough-pw\nlong-enough-pw\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context(), db.connection_context():
        assert User.by_email("prompted@example.com").role == "shopper"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-email", "--password", "long-enough-pw"], "is not an email address"),
        (["a@localhost", "--password", "long-enough-pw"], "is not an email address"),
        (["ok@example.com", "--password", "short"], "at least 10 characters"),
        (["ok@example.com", "--password", "long-enough-pw", "--role", "boss"], "Invalid value"),
    ],
)
def test_create_user_validation(app, runner, args, message):
    result = runner.invoke(args=["create-user", *args])
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context(), db.connection_context():
        assert User.select().count() == 0


def test_create_user_refuses_a_duplicate(app, runner, make):
    with app.app_context():
        make.user("taken@example.com")
    result = runner.invoke(
        args=["create-user", "TAKEN@example.com", "--password", "long-enough-pw"]
    )
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_created_shopper_gets_earlier_guest_orders(app, runner, tmp_path):
    runner.invoke(args=["import-orders", write_jsonl(tmp_path / "g.jsonl", [record("300")])])
    result = runner.invoke(
        args=["create-user", "buyer@example.com", "--password", "long-enough-pw"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context(), db.connection_context():
        assert Order.get(Order.number == "300").customer.email == "buyer@example.com"


@pytest.mark.postgres
def test_import_on_postgres_reports_database_refusals(pg_app, tmp_path):
    too_long = [{"sku": "X" * 300, "title": "Long", "quantity": 1, "unit_price": 2400}]
    path = write_jsonl(tmp_path / "pg.jsonl", [record("P1"), record("P2", lines=too_long)])
    result = pg_app.test_cli_runner().invoke(args=["import-orders", path])
    assert result.exit_code == 1
    assert "line 2: order P2: rejected by the database" in result.stderr
    with pg_app.app_context(), db.connection_context():
        assert [o.number for o in Order.select()] == ["P1"]
        assert OrderLine.select().count() == 1


def test_the_documented_example_imports(app, runner, tmp_path):
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "import-format.md").read_text()
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    line = json.dumps(json.loads(example))  # one line, as in a real file
    path = tmp_path / "example.jsonl"
    path.write_text(line + "\n")
    result = runner.invoke(args=["import-orders", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 1 orders, 0 rejected." in result.output
    with app.app_context(), db.connection_context():
        order = Order.get(Order.number == "100245")
        assert sum(p.amount for p in order.payments) == 8055

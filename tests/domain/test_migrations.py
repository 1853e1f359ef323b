"""Schema migrations: an old database is upgraded in place, data kept, no drift left."""

import datetime

import pytest

from portal import create_app, migrate
from portal.db import db, is_postgres
from portal.models import ALL_MODELS, Order, OrderLine, Payment, User
from tests.apps import broker_config

FIRST = "0001_initial"


def bare_app(tmp_path, database_url, monkeypatch):
    """The app on a database nobody has migrated (make_app would upgrade it to head)."""
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "instance"))
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            **broker_config(),
            "SECRET_KEY": "test-secret",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


def assert_no_drift():
    diff = migrate.drift()
    assert not diff, f"the schema differs from the models:\n{diff}"


def all_migrations():
    return [m.name for m in migrate.runner().migrations()]


def raw_insert(table, **values):
    """INSERT with plain SQL (no models), returning the new row's id."""
    columns = ", ".join(values)
    marks = ", ".join([db.param] * len(values))
    db.execute_sql(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', list(values.values()))
    cursor = db.execute_sql(f'SELECT max(id) FROM "{table}"')
    return cursor.fetchone()[0]


def insert_old_rows():
    """Rows written with raw SQL, the way a 0001-era app wrote them."""
    stamp = datetime.datetime(2026, 1, 2, 3, 4, 5)
    user_id = raw_insert(
        "user", email="old@example.com", password_hash="x", name="Old Timer", role="shopper",
        active=True, created_at=stamp,
    )  # fmt: skip
    order_id = raw_insert(
        "order", number="OLD-1", customer_id=user_id, email="old@example.com", currency="EUR",
        placed_at=stamp, delivered_at=stamp, shipping_total=495, status="delivered", version=1,
        created_at=stamp,
    )  # fmt: skip
    raw_insert(
        "order_line", order_id=order_id, sku="TEE", title="Tee", variant='{"size": "M"}',
        quantity=2, unit_price=1000, unit_tax=200, final_sale=False, category="apparel",
        invoice_number=None,
    )  # fmt: skip
    raw_insert(
        "payment", order_id=order_id, method="card", gateway="ledger", reference="ch_old",
        amount=2895, position=1, created_at=stamp,
    )  # fmt: skip


def check_old_rows_survived():
    user = User.get(User.email == "old@example.com")
    assert user.name == "Old Timer" and user.role == "shopper" and user.active
    order = Order.get(Order.number == "OLD-1")
    assert order.customer_id == user.id
    assert (order.currency, order.shipping_total, order.status) == ("EUR", 495, "delivered")
    (line,) = order.lines
    assert (line.sku, line.quantity, line.unit_price, line.unit_tax) == ("TEE", 2, 1000, 200)
    assert line.variant == {"size": "M"}
    assert [p.amount for p in order.payments] == [2895]


def upgrade_old_schema_in_place():
    assert migrate.upgrade(FIRST) == [FIRST]
    assert migrate.pending() == all_migrations()[1:]
    assert migrate.drift(), "0001 alone should not match the current models"
    with db.atomic():
        insert_old_rows()

    applied = migrate.upgrade()
    assert applied == all_migrations()[1:]
    assert migrate.pending() == []
    assert_no_drift()
    check_old_rows_survived()
    # The new tables work alongside the old rows.
    order = Order.get(Order.number == "OLD-1")
    OrderLine.create(order=order, sku="CAP", title="Cap", quantity=1, unit_price=500)
    assert order.lines.count() == 2
    assert migrate.upgrade() == []  # idempotent


def test_fresh_database_reaches_head_without_drift(app):
    with app.app_context(), db.connection_context():
        assert migrate.pending() == []
        assert_no_drift()
        for model in ALL_MODELS:
            assert model.table_exists(), model


def test_sqlite_upgrade_in_place_keeps_data(tmp_path, monkeypatch):
    app = bare_app(tmp_path, f"sqlite:///{tmp_path / 'old.db'}", monkeypatch)
    with app.app_context(), db.connection_context():
        upgrade_old_schema_in_place()


def test_db_status_and_upgrade_commands(tmp_path, monkeypatch):
    app = bare_app(tmp_path, f"sqlite:///{tmp_path / 'cli.db'}", monkeypatch)
    runner = app.test_cli_runner()
    names = all_migrations()

    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 1, result.output
    assert all(f"[ ] {name}" in result.output for name in names)

    with app.app_context(), db.connection_context():
        migrate.upgrade(FIRST)
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 1
    assert f"[x] {FIRST}" in result.output
    assert f"[ ] {names[1]}" in result.output

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "applied: " + ", ".join(names[1:]) in result.output

    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    assert all(f"[x] {name}" in result.output for name in names)

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0
    assert "database is up to date." in result.output
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert "database is up to date." in result.output


def test_db_generate_says_nothing_to_do_at_head(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["db", "generate", "noop"])
    assert result.exit_code == 0, result.output
    assert "nothing to generate" in result.output


def test_init_db_creates_the_schema(tmp_path, monkeypatch):
    app = bare_app(tmp_path, f"sqlite:///{tmp_path / 'init.db'}", monkeypatch)
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "applied: " in result.output
    with app.app_context(), db.connection_context():
        assert_no_drift()


@pytest.mark.postgres
def test_postgres_upgrade_in_place_keeps_data(tmp_path, scratch_postgres, monkeypatch):
    app = bare_app(tmp_path, scratch_postgres, monkeypatch)
    with app.app_context(), db.connection_context():
        assert is_postgres()
        upgrade_old_schema_in_place()
        # CHECK constraints made it into PostgreSQL too.
        with pytest.raises(Exception, match="check"), db.atomic():
            Payment.create(order=Order.get(), method="card", reference="bad", amount=0)


@pytest.mark.postgres
def test_postgres_db_status_exit_codes(tmp_path, scratch_postgres, monkeypatch):
    app = bare_app(tmp_path, scratch_postgres, monkeypatch)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "status"]).exit_code == 1
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.connection_context():
        assert_no_drift()

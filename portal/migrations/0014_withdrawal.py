# Written by hand on 2026-12-01. The EU withdrawal function (issue 16): the store's withdrawal
# settings, returns of kind "withdrawal" with the delivery cost they refund, and order lines'
# pictures (image_url, from the import).
from peewee import *


def _postgres(db):
    database = getattr(db, "obj", None) or db  # the app's DatabaseProxy, or a database
    return not database.__class__.__name__.startswith("Sqlite")


OLD_KINDS = "kind IN ('return', 'claim')"
NEW_KINDS = "kind IN ('return', 'claim', 'withdrawal')"


def _widen_kind_check(db, old, new):
    """Let "return".kind take one more value. PostgreSQL drops and adds the CHECK; SQLite
    can't alter a constraint, and rebuilding the table would lose its triggers (0004, 0005),
    so its stored definition is edited in place, as SQLite documents for changes that leave
    the rows as they are (the rows already pass the wider check)."""
    if _postgres(db):
        rows = db.execute_sql(
            "SELECT conname FROM pg_constraint WHERE conrelid = '\"return\"'::regclass "
            "AND contype = 'c' AND pg_get_constraintdef(oid) LIKE %s",
            ("%(kind)%",),
        ).fetchall()
        for (name,) in rows:
            db.execute_sql(f'ALTER TABLE "return" DROP CONSTRAINT "{name}"')
        db.execute_sql(f'ALTER TABLE "return" ADD CONSTRAINT return_kind_check CHECK ({new})')
        return
    version = db.execute_sql("PRAGMA schema_version").fetchone()[0]
    db.execute_sql("PRAGMA writable_schema = ON")
    try:
        changed = db.execute_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) "
            "WHERE type = 'table' AND name = 'return' AND instr(sql, ?) > 0",
            (old, new, old),
        ).rowcount
        if changed != 1:
            raise RuntimeError(f'"return".kind has no CHECK ({old}) to change')
        db.execute_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        db.execute_sql("PRAGMA writable_schema = OFF")


def _add_to_return(migrator, db, column, field, sqlite_ddl):
    if _postgres(db):
        migrator.migrate(migrator.add_column("return", column, field))
    else:
        db.execute_sql(f'ALTER TABLE "return" ADD COLUMN "{column}" {sqlite_ddl}')


def up(migrator, db):
    _widen_kind_check(db, OLD_KINDS, NEW_KINDS)
    _add_to_return(migrator, db, "withdrawal_shipping", IntegerField(default=0, constraints=[
        SQL("CHECK (withdrawal_shipping >= 0)")
    ]), "INTEGER NOT NULL DEFAULT 0 CHECK (withdrawal_shipping >= 0)")  # fmt: skip
    policy_columns = (
        ("withdrawal_days",
         IntegerField(default=14, constraints=[SQL("CHECK (withdrawal_days >= 14)")])),
        ("withdrawal_standard_delivery",
         IntegerField(null=True, constraints=[SQL("CHECK (withdrawal_standard_delivery >= 0)")])),
        ("withdrawal_shopper_pays_return", BooleanField(default=False)),
        ("withdrawal_return_cost",
         IntegerField(default=0, constraints=[SQL("CHECK (withdrawal_return_cost >= 0)")])),
        ("withdrawal_excluded_skus", TextField(default="")),
        ("withdrawal_excluded_categories", TextField(default="")),
    )  # fmt: skip
    for column, field in policy_columns:
        migrator.migrate(migrator.add_column("return_policy", column, field))
    migrator.migrate(migrator.add_column("order_line", "image_url", CharField(default="")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("order_line", "image_url"))
    for column in ("withdrawal_excluded_categories", "withdrawal_excluded_skus",
                   "withdrawal_return_cost", "withdrawal_shopper_pays_return",
                   "withdrawal_standard_delivery", "withdrawal_days"):  # fmt: skip
        migrator.migrate(migrator.drop_column("return_policy", column))
    db.execute_sql('ALTER TABLE "return" DROP COLUMN "withdrawal_shipping"')
    _widen_kind_check(db, NEW_KINDS, OLD_KINDS)

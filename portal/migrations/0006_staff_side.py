# Generated from a schema diff on 2026-12-01, then the audit log's append-only triggers added
# by hand. The merchant side (issue 11): bundles (order_line.bundle_id), extra lines on a
# return, the audit log, and the store settings for time zone, inventory tracking, default
# locations and staff-created returns.
from peewee import *

from portal.db import JSONField

APPEND_ONLY = "the audit log is append-only"
SQLITE_UP = [
    f"""CREATE TRIGGER "audit_entry_no_update" BEFORE UPDATE ON "audit_entry"
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
    f"""CREATE TRIGGER "audit_entry_no_delete" BEFORE DELETE ON "audit_entry"
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
]
SQLITE_DOWN = ['DROP TRIGGER "audit_entry_no_delete"', 'DROP TRIGGER "audit_entry_no_update"']
POSTGRES_UP = [
    f"""CREATE FUNCTION "audit_entry_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$""",
    """CREATE TRIGGER "audit_entry_append_only" BEFORE UPDATE OR DELETE ON "audit_entry"
       FOR EACH ROW EXECUTE FUNCTION "audit_entry_append_only"()""",
]
POSTGRES_DOWN = [
    'DROP TRIGGER "audit_entry_append_only" ON "audit_entry"',
    'DROP FUNCTION "audit_entry_append_only"()',
]


def _postgres(db):
    database = getattr(db, "obj", None) or db  # the app's DatabaseProxy, or a database
    return not database.__class__.__name__.startswith("Sqlite")


def up(migrator, db):
    class InventoryLocation(Model):
        class Meta:
            database = db
            table_name = "inventory_location"

    class OrderLine(Model):
        class Meta:
            database = db
            table_name = "order_line"

    class Return(Model):
        class Meta:
            database = db
            table_name = "return"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class AuditEntry(Model):
        actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
        action = CharField(index=True)
        subject = CharField(default="")
        before = JSONField(null=True)
        after = JSONField(null=True)
        created_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = "audit_entry"

    db.create_tables([AuditEntry])
    for sql in POSTGRES_UP if _postgres(db) else SQLITE_UP:
        db.execute_sql(sql)

    class ReturnExtraLine(Model):
        rma = ForeignKeyField(Return, on_delete="CASCADE")
        description = CharField(max_length=200)
        amount = IntegerField(constraints=[SQL("CHECK (amount <> 0)")])
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        refund_batch = CharField(index=True, null=True)

        class Meta:
            database = db
            table_name = "return_extra_line"

    db.create_tables([ReturnExtraLine])

    migrator.migrate(
        migrator.add_column(
            "order_line",
            "bundle_id",
            ForeignKeyField(OrderLine, field=OrderLine.id, null=True, on_delete="CASCADE"),
        )
    )
    migrator.migrate(migrator.add_column("return_policy", "timezone", CharField(default="UTC")))
    migrator.migrate(
        migrator.add_column("return_policy", "inventory_tracking", BooleanField(default=True))
    )
    migrator.migrate(
        migrator.add_column(
            "return_policy",
            "default_location_id",
            ForeignKeyField(
                InventoryLocation, field=InventoryLocation.id, null=True, on_delete="SET NULL"
            ),
        )
    )
    migrator.migrate(
        migrator.add_column(
            "return_policy",
            "default_quarantine_location_id",
            ForeignKeyField(
                InventoryLocation, field=InventoryLocation.id, null=True, on_delete="SET NULL"
            ),
        )
    )
    migrator.migrate(
        migrator.add_column("return_policy", "staff_returns_approved", BooleanField(default=True))
    )
    migrator.migrate(migrator.add_column("return", "estimated_refund", IntegerField(null=True)))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("return_policy", "return_policy_default_quarantine_location_id")
    )
    migrator.migrate(migrator.drop_index("return_policy", "return_policy_default_location_id"))
    migrator.migrate(migrator.drop_index("order_line", "order_line_bundle_id"))
    migrator.migrate(migrator.drop_column("return", "estimated_refund"))
    migrator.migrate(migrator.drop_column("return_policy", "staff_returns_approved"))
    migrator.migrate(migrator.drop_column("return_policy", "default_quarantine_location_id"))
    migrator.migrate(migrator.drop_column("return_policy", "default_location_id"))
    migrator.migrate(migrator.drop_column("return_policy", "inventory_tracking"))
    migrator.migrate(migrator.drop_column("return_policy", "timezone"))
    migrator.migrate(migrator.drop_column("order_line", "bundle_id"))
    migrator.migrate(migrator.drop_table("return_extra_line"))
    for sql in POSTGRES_DOWN if _postgres(db) else SQLITE_DOWN:
        db.execute_sql(sql)
    migrator.migrate(migrator.drop_table("audit_entry"))

# Generated from a schema diff on 2026-12-01, checked by hand. Getting the parcel back (issue
# 14): return shipping methods, labels, carrier status updates, calendar tokens, the orders'
# shipping address and, on each return, its method snapshot, carrier and tracking number.
from peewee import *

from portal.db import JSONField

EMPTY = SQL("DEFAULT ''")


def _in_place(migrator, table, name, field):
    """Columns added to "order" and "return" are NOT NULL with a DEFAULT in their DDL, so SQLite
    adds them in place: its migrator would otherwise rebuild the table, which the search
    triggers of migration 0005 (they name "order") refuse."""
    migrator.migrate(migrator.add_column(table, name, field, allow_not_null=True))


def up(migrator, db):
    class Return(Model):
        class Meta:
            database = db
            table_name = "return"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class CalendarToken(Model):
        user = ForeignKeyField(User, unique=True, on_delete="CASCADE")
        token_hash = CharField(unique=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "calendar_token"

    db.create_tables([CalendarToken])

    class ReturnShippingMethod(Model):
        name = CharField(max_length=80)
        price = IntegerField(default=0, constraints=[SQL("CHECK (price >= 0)")])
        free_for_merchant_fault = BooleanField(default=True)
        countries = CharField(default="")
        kind = CharField(
            constraints=[SQL("CHECK (kind IN ('prepaid_label', 'qr_dropoff', 'ship_yourself'))")]
        )
        active = BooleanField(default=True)
        position = IntegerField(default=0)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "return_shipping_method"

    db.create_tables([ReturnShippingMethod])

    class CarrierEvent(Model):
        event_id = CharField(unique=True)
        tracking_number = CharField()
        status = CharField()
        rma = ForeignKeyField(Return, null=True, on_delete="SET NULL")
        payload = JSONField(default=dict)
        received_at = DateTimeField()

        class Meta:
            database = db
            table_name = "carrier_event"

    db.create_tables([CarrierEvent])

    class ReturnLabel(Model):
        rma = ForeignKeyField(Return, unique=True, on_delete="CASCADE")
        carrier = CharField()
        tracking_number = CharField(index=True)
        size = CharField(default="a4")
        pdf = BlobField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "return_label"

    db.create_tables([ReturnLabel])

    for name in ("ship_name", "ship_lines", "ship_city", "ship_postcode"):
        _in_place(migrator, "order", name, CharField(default="", constraints=[EMPTY]))
    _in_place(migrator, "order", "ship_country",
              CharField(max_length=2, default="", constraints=[EMPTY]))  # fmt: skip
    migrator.migrate(
        migrator.add_column(
            "return",
            "shipping_method_id",
            ForeignKeyField(
                ReturnShippingMethod, field=ReturnShippingMethod.id, null=True, on_delete="SET NULL"
            ),
        )
    )
    for name in ("shipping_method_name", "shipping_method_kind", "carrier"):
        _in_place(migrator, "return", name, CharField(default="", constraints=[EMPTY]))
    _in_place(migrator, "return", "policy_return_shipping_free_merchant_fault",
              BooleanField(default=True, constraints=[SQL("DEFAULT TRUE")]))  # fmt: skip
    _in_place(migrator, "return", "tracking_number",
              CharField(index=True, default="", constraints=[EMPTY]))  # fmt: skip


def down(migrator, db):
    migrator.migrate(migrator.drop_index("return", "return_tracking_number"))
    migrator.migrate(migrator.drop_index("return", "return_shipping_method_id"))
    migrator.migrate(migrator.drop_column("return", "tracking_number"))
    migrator.migrate(migrator.drop_column("return", "carrier"))
    migrator.migrate(migrator.drop_column("return", "policy_return_shipping_free_merchant_fault"))
    migrator.migrate(migrator.drop_column("return", "shipping_method_kind"))
    migrator.migrate(migrator.drop_column("return", "shipping_method_name"))
    migrator.migrate(migrator.drop_column("return", "shipping_method_id"))
    migrator.migrate(migrator.drop_column("order", "ship_country"))
    migrator.migrate(migrator.drop_column("order", "ship_postcode"))
    migrator.migrate(migrator.drop_column("order", "ship_city"))
    migrator.migrate(migrator.drop_column("order", "ship_lines"))
    migrator.migrate(migrator.drop_column("order", "ship_name"))
    migrator.migrate(migrator.drop_table("return_label"))
    migrator.migrate(migrator.drop_table("carrier_event"))
    migrator.migrate(migrator.drop_table("return_shipping_method"))
    migrator.migrate(migrator.drop_table("calendar_token"))

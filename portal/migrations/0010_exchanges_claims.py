# Generated from a schema diff on 2026-12-01, checked by hand. Exchanges and claims (issue 13):
# the catalogue (products, variants), replacements with their stock reservation, exchange
# orders (the outbound shipments) and their lines; order lines know their catalogue variant
# and, for a replacement, the line it replaces and its own delivery; claims (a return's kind,
# reasons whose item stays with the shopper, kept lines) and the store's exchange settings.
from peewee import *

from portal.db import JSONField


def _postgres(db):
    database = getattr(db, "obj", None) or db  # the app's DatabaseProxy, or a database
    return not database.__class__.__name__.startswith("Sqlite")


def _add_to_return(migrator, db, column, field, sqlite_ddl):
    if _postgres(db):
        migrator.migrate(migrator.add_column("return", column, field))
    else:
        db.execute_sql(f'ALTER TABLE "return" ADD COLUMN "{column}" {sqlite_ddl}')


def up(migrator, db):
    class InventoryLocation(Model):
        class Meta:
            database = db
            table_name = "inventory_location"

    class OrderLine(Model):
        class Meta:
            database = db
            table_name = "order_line"

    class Payment(Model):
        class Meta:
            database = db
            table_name = "payment"

    class Return(Model):
        class Meta:
            database = db
            table_name = "return"

    class ReturnLine(Model):
        class Meta:
            database = db
            table_name = "return_line"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class ExchangeOrder(Model):
        rma = ForeignKeyField(Return, on_delete="CASCADE")
        reference = CharField(unique=True)
        status = CharField()
        amount_due = IntegerField(default=0, constraints=[SQL("CHECK (amount_due >= 0)")])
        payment = ForeignKeyField(Payment, null=True, on_delete="SET NULL")
        early = BooleanField(default=False)
        carrier = CharField(default="")
        tracking_number = CharField(default="")
        location = ForeignKeyField(InventoryLocation, null=True, on_delete="SET NULL")
        shipped_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        paid_at = DateTimeField(null=True)
        shipped_at = DateTimeField(null=True)
        delivered_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "exchange_order"
            indexes = ((("status", "created_at"), False),)

    db.create_tables([ExchangeOrder])

    class Product(Model):
        code = CharField(unique=True)
        title = CharField()
        image_url = CharField(default="")
        active = BooleanField(default=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "product"

    db.create_tables([Product])

    class Variant(Model):
        product = ForeignKeyField(Product, on_delete="CASCADE")
        sku = CharField(unique=True)
        title = CharField()
        options = JSONField(default=dict)
        price = IntegerField(constraints=[SQL("CHECK (price >= 0)")])
        tax = IntegerField(default=0, constraints=[SQL("CHECK (tax >= 0)")])
        image_url = CharField(default="")
        active = BooleanField(default=True)
        position = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "variant"

    db.create_tables([Variant])

    class Replacement(Model):
        line = ForeignKeyField(ReturnLine, unique=True, on_delete="CASCADE")
        variant = ForeignKeyField(Variant, on_delete="RESTRICT")
        kind = CharField(
            default="exchange", constraints=[SQL("CHECK (kind IN ('exchange', 'claim'))")]
        )
        quantity = IntegerField(constraints=[SQL("CHECK (quantity > 0)")])
        unit_price = IntegerField(constraints=[SQL("CHECK (unit_price >= 0)")])
        unit_tax = IntegerField(default=0, constraints=[SQL("CHECK (unit_tax >= 0)")])
        credited = IntegerField(default=0, constraints=[SQL("CHECK (credited >= 0)")])
        absorbed = IntegerField(default=0, constraints=[SQL("CHECK (absorbed >= 0)")])
        due = IntegerField(default=0, constraints=[SQL("CHECK (due >= 0)")])
        held = IntegerField(default=0)
        shipped = IntegerField(default=0)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "replacement"
            indexes = ((("variant", "held"), False),)
            constraints = [
                SQL("CHECK (held >= 0)"),
                SQL("CHECK (shipped >= 0)"),
                SQL("CHECK (held + shipped <= quantity)"),
            ]

    db.create_tables([Replacement])

    class ExchangeOrderLine(Model):
        exchange_order = ForeignKeyField(ExchangeOrder, on_delete="CASCADE")
        replacement = ForeignKeyField(Replacement, on_delete="CASCADE")
        quantity = IntegerField(constraints=[SQL("CHECK (quantity > 0)")])
        order_line = ForeignKeyField(OrderLine, null=True, on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "exchange_order_line"

    db.create_tables([ExchangeOrderLine])

    # On SQLite a NOT NULL column added by the migrator rebuilds the table, which the triggers
    # on "return" (0004, 0005) don't survive; SQLite adds one with a default in place.
    _add_to_return(migrator, db, "kind", CharField(default="return", constraints=[
        SQL("CHECK (kind IN ('return', 'claim'))")
    ]), "VARCHAR(255) NOT NULL DEFAULT 'return' CHECK (kind IN ('return', 'claim'))")  # fmt: skip
    for column in ("policy_exchange_restocking_fee", "policy_exchange_return_shipping",
                   "ship_early"):  # fmt: skip
        _add_to_return(migrator, db, column, BooleanField(default=False),
                       "INTEGER NOT NULL DEFAULT 0")  # fmt: skip
    migrator.migrate(
        migrator.add_column(
            "order_line",
            "product_variant_id",
            ForeignKeyField(Variant, field=Variant.id, null=True, on_delete="SET NULL"),
        )
    )
    migrator.migrate(
        migrator.add_column(
            "order_line",
            "replaces_id",
            ForeignKeyField(OrderLine, field=OrderLine.id, null=True, on_delete="SET NULL"),
        )
    )
    migrator.migrate(migrator.add_column("order_line", "delivered_at", DateTimeField(null=True)))
    migrator.migrate(migrator.add_column("return_reason", "keep_item", BooleanField(default=False)))
    migrator.migrate(migrator.add_column("return_line", "kept", BooleanField(default=False)))
    migrator.migrate(
        migrator.add_column("return_policy", "exchanges_enabled", BooleanField(default=True))
    )
    migrator.migrate(
        migrator.add_column("return_policy", "exchange_any_product", BooleanField(default=False))
    )
    migrator.migrate(
        migrator.add_column(
            "return_policy",
            "exchange_bonus",
            IntegerField(default=0, constraints=[SQL("CHECK (exchange_bonus >= 0)")]),
        )
    )
    migrator.migrate(
        migrator.add_column(
            "return_policy",
            "exchange_absorb_up_to",
            IntegerField(default=0, constraints=[SQL("CHECK (exchange_absorb_up_to >= 0)")]),
        )
    )
    migrator.migrate(
        migrator.add_column(
            "return_policy",
            "exchange_stock_buffer",
            IntegerField(default=0, constraints=[SQL("CHECK (exchange_stock_buffer >= 0)")]),
        )
    )
    migrator.migrate(
        migrator.add_column("return_policy", "exchange_restocking_fee", BooleanField(default=False))
    )
    migrator.migrate(
        migrator.add_column(
            "return_policy", "exchange_return_shipping", BooleanField(default=False)
        )
    )
    migrator.migrate(
        migrator.add_column("return_policy", "exchange_ship_early", BooleanField(default=False))
    )
    migrator.migrate(
        migrator.add_column(
            "return_policy",
            "claim_keep_item_below",
            IntegerField(default=0, constraints=[SQL("CHECK (claim_keep_item_below >= 0)")]),
        )
    )
    migrator.migrate(migrator.add_index("return", ("kind", "status", "created_at")))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("order_line", "order_line_replaces_id"))
    migrator.migrate(migrator.drop_index("order_line", "order_line_product_variant_id"))
    migrator.migrate(migrator.drop_index("return", "return_kind_status_created_at"))
    migrator.migrate(migrator.drop_column("return_policy", "claim_keep_item_below"))
    migrator.migrate(migrator.drop_column("return_policy", "exchange_ship_early"))
    migrator.migrate(migrator.drop_column("return_policy", "exchange_return_shipping"))
    migrator.migrate(migrator.drop_column("return_policy", "exchange_restocking_fee"))
    migrator.migrate(migrator.drop_column("return_policy", "exchange_stock_buffer"))
    migrator.migrate(migrator.drop_column("return_policy", "exchange_absorb_up_to"))
    migrator.migrate(migrator.drop_column("return_policy", "exchange_bonus"))
    migrator.migrate(migrator.drop_column("return_policy", "exchange_any_product"))
    migrator.migrate(migrator.drop_column("return_policy", "exchanges_enabled"))
    migrator.migrate(migrator.drop_column("return_line", "kept"))
    migrator.migrate(migrator.drop_column("return_reason", "keep_item"))
    migrator.migrate(migrator.drop_column("order_line", "delivered_at"))
    migrator.migrate(migrator.drop_column("order_line", "replaces_id"))
    migrator.migrate(migrator.drop_column("order_line", "product_variant_id"))
    for column in ("ship_early", "policy_exchange_return_shipping",
                   "policy_exchange_restocking_fee", "kind"):  # fmt: skip
        db.execute_sql(f'ALTER TABLE "return" DROP COLUMN "{column}"')
    migrator.migrate(migrator.drop_table("exchange_order_line"))
    migrator.migrate(migrator.drop_table("replacement"))
    migrator.migrate(migrator.drop_table("variant"))
    migrator.migrate(migrator.drop_table("product"))
    migrator.migrate(migrator.drop_table("exchange_order"))

"""Inventory locations, stock levels and the movements that change them."""

from peewee import SQL, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from portal.db import BaseModel
from portal.models.accounts import User, now


class InventoryLocation(BaseModel):
    code = CharField(unique=True)
    name = CharField()
    # sellable stock, or quarantine for damaged units (never sold)
    kind = CharField(
        default="sellable", constraints=[SQL("CHECK (kind IN ('sellable', 'quarantine'))")]
    )
    active = BooleanField(default=True)


class StockLevel(BaseModel):
    location = ForeignKeyField(InventoryLocation, backref="levels", on_delete="CASCADE")
    sku = CharField()
    quantity = IntegerField(default=0, constraints=[SQL("CHECK (quantity >= 0)")])

    class Meta:
        indexes = ((("location", "sku"), True),)


class StockMovement(BaseModel):
    location = ForeignKeyField(InventoryLocation, backref="movements", on_delete="CASCADE")
    sku = CharField(index=True)
    quantity = IntegerField()  # signed
    reason = CharField()  # restock, quarantine, adjustment
    return_line_id = IntegerField(null=True, index=True)
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=now)

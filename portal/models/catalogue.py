"""The shop's catalogue: products and their variants (size, colour, ...). Stock is kept per SKU
and location (inventory.StockLevel), so a variant's stock is the StockLevel rows of its SKU."""

from peewee import SQL, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from portal.db import BaseModel, JSONField
from portal.models.accounts import now


class Product(BaseModel):
    code = CharField(unique=True)  # the shop's own id of the product, e.g. TEE-CLASSIC
    title = CharField()
    image_url = CharField(default="")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)


class Variant(BaseModel):
    product = ForeignKeyField(Product, backref="variants", on_delete="CASCADE")
    sku = CharField(unique=True)
    title = CharField()  # e.g. "M / White"
    options = JSONField(default=dict)  # {"size": "M", "colour": "White"}
    price = IntegerField(constraints=[SQL("CHECK (price >= 0)")])  # per unit, tax excluded
    tax = IntegerField(default=0, constraints=[SQL("CHECK (tax >= 0)")])
    image_url = CharField(default="")
    active = BooleanField(default=True)
    position = IntegerField(default=0)

    @property
    def unit_total(self):
        return self.price + self.tax

    @property
    def options_text(self):
        return ", ".join(f"{k}: {v}" for k, v in sorted((self.options or {}).items()))

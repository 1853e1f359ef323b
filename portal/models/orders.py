"""Orders pushed in by the shop: lines, payments and invoices. Money is integer cents."""

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from portal.db import BaseModel, JSONField
from portal.models.accounts import User, now
from portal.models.catalogue import Variant

ORDER_STATUSES = ("placed", "shipped", "delivered", "cancelled")


def check(expr):
    return [SQL(f"CHECK ({expr})")]


class Order(BaseModel):
    number = CharField(unique=True)
    customer = ForeignKeyField(User, null=True, backref="orders", on_delete="SET NULL")
    email = CharField(index=True)  # lower-cased
    currency = CharField(max_length=3)
    placed_at = DateTimeField(index=True)
    delivered_at = DateTimeField(null=True)
    shipping_total = IntegerField(default=0, constraints=check("shipping_total >= 0"))
    status = CharField(default="placed")
    # Incremented whenever a return is requested or received on this order (as Medusa does).
    version = IntegerField(default=1)
    created_at = DateTimeField(default=now)
    # Where the parcel comes back from (optional for orders imported before issue 14); the
    # country (ISO 3166 alpha-2) decides which return shipping methods can be chosen.
    ship_name = CharField(default="")
    ship_lines = CharField(default="")  # street lines, "\n"-separated
    ship_city = CharField(default="")
    ship_postcode = CharField(default="")
    ship_country = CharField(default="", max_length=2)

    class Meta:
        indexes = ((("customer", "placed_at"), False),)

    @property
    def ship_address(self):
        """The shipping address as lines (empty when the order has none)."""
        city = " ".join(p for p in (self.ship_postcode, self.ship_city) if p)
        parts = [self.ship_name, *self.ship_lines.splitlines(), city, self.ship_country]
        return [p for p in parts if p]


class OrderLine(BaseModel):
    order = ForeignKeyField(Order, backref="lines", on_delete="CASCADE")
    sku = CharField(index=True)
    title = CharField()
    variant = JSONField(default=dict)  # {"size": "M", "colour": "blue"}
    quantity = IntegerField(constraints=check("quantity > 0"))
    # What the shopper actually paid per unit, after allocated discounts, and its tax.
    unit_price = IntegerField(constraints=check("unit_price >= 0"))
    unit_tax = IntegerField(default=0, constraints=check("unit_tax >= 0"))
    final_sale = BooleanField(default=False)
    category = CharField(default="")
    # The sale invoice that covers this line; a line without one is not returnable yet.
    invoice_number = CharField(null=True)
    # A bundle's component lines point at the bundle's line; the bundle's price is allocated
    # over its components by the shop. Components are returned, the bundle line is not.
    bundle = ForeignKeyField("self", null=True, backref="components", on_delete="CASCADE")
    # The catalogue variant this line sold, where the shop sends it (exchanges offer its
    # product's other variants; a claim's replacement is one more of it).
    product_variant = ForeignKeyField(Variant, null=True, backref="order_lines",
                                      on_delete="SET NULL")  # fmt: skip
    # A replacement shipped in an exchange or a claim: the line whose unit it replaces, and its
    # own delivery (its return window counts from it, not from the order's).
    replaces = ForeignKeyField("self", null=True, backref="replaced_by", on_delete="SET NULL")
    delivered_at = DateTimeField(null=True)
    # A picture of the item, where the shop sends one (else its catalogue variant's or product's).
    image_url = CharField(default="")

    @property
    def unit_total(self):
        return self.unit_price + self.unit_tax

    @property
    def variant_text(self):
        return ", ".join(f"{k}: {v}" for k, v in sorted((self.variant or {}).items()))


class Payment(BaseModel):
    order = ForeignKeyField(Order, backref="payments", on_delete="CASCADE")
    method = CharField()  # card, gift_card, store_credit, ...
    gateway = CharField(default="ledger")  # ledger, stripe
    reference = CharField()  # the gateway's charge / payment intent id
    amount = IntegerField(constraints=check("amount > 0"))  # captured
    position = IntegerField(default=0)  # refund order: original card first, then gift card
    created_at = DateTimeField(default=now)


class Invoice(BaseModel):
    order = ForeignKeyField(Order, backref="invoices", on_delete="CASCADE")
    # Unique across kinds: a return invoice number never equals a sale invoice number.
    number = CharField(unique=True)
    kind = CharField(constraints=check("kind IN ('sale', 'return')"))
    issued_at = DateTimeField(default=now)

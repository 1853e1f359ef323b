"""Exchanges and claims' replacements: the unit a return line gets instead of money
(Replacement, with its price, its part of the money and the stock it holds), and the outbound
shipments that carry replacements to the shopper (ExchangeOrder and its lines)."""

from peewee import SQL, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from portal.db import BaseModel
from portal.models.accounts import User, now
from portal.models.catalogue import Variant
from portal.models.inventory import InventoryLocation
from portal.models.orders import OrderLine, Payment
from portal.models.returns import Return, ReturnLine


class Replacement(BaseModel):
    """What one return line gets instead of a refund: `quantity` units of `variant` at the price
    fixed when it was requested (unit_price + unit_tax). Its difference with what was paid is
    split into credited (the exchange bonus), absorbed (by the store) and due (paid by the
    shopper before it ships). `held` units are reserved in stock: not shipped, not released."""

    line = ForeignKeyField(ReturnLine, unique=True, backref="replacements", on_delete="CASCADE")
    variant = ForeignKeyField(Variant, backref="replacements", on_delete="RESTRICT")
    kind = CharField(default="exchange", constraints=[SQL("CHECK (kind IN ('exchange', 'claim'))")])
    quantity = IntegerField(constraints=[SQL("CHECK (quantity > 0)")])
    unit_price = IntegerField(constraints=[SQL("CHECK (unit_price >= 0)")])
    unit_tax = IntegerField(default=0, constraints=[SQL("CHECK (unit_tax >= 0)")])
    credited = IntegerField(default=0, constraints=[SQL("CHECK (credited >= 0)")])
    absorbed = IntegerField(default=0, constraints=[SQL("CHECK (absorbed >= 0)")])
    due = IntegerField(default=0, constraints=[SQL("CHECK (due >= 0)")])
    held = IntegerField(default=0)
    shipped = IntegerField(default=0)
    created_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("variant", "held"), False),)
        constraints = [
            SQL("CHECK (held >= 0)"),
            SQL("CHECK (shipped >= 0)"),
            SQL("CHECK (held + shipped <= quantity)"),
        ]

    @property
    def unit_total(self):
        return self.unit_price + self.unit_tax

    @property
    def reservation(self):
        """The stock it holds, in a word: held, shipped or released."""
        if self.held:
            return "held"
        return "shipped" if self.shipped == self.quantity else "released"


class ExchangeOrder(BaseModel):
    """The outbound shipment of replacements for a return (its life: returns/exchange_states)."""

    rma = ForeignKeyField(Return, backref="exchange_orders", on_delete="CASCADE")
    reference = CharField(unique=True)  # the return's reference + "-X1", "-X2", ...
    status = CharField()
    amount_due = IntegerField(default=0, constraints=[SQL("CHECK (amount_due >= 0)")])
    payment = ForeignKeyField(Payment, null=True, on_delete="SET NULL")  # the difference, paid
    early = BooleanField(default=False)  # ships before the returned item is back
    carrier = CharField(default="")
    tracking_number = CharField(default="")
    location = ForeignKeyField(InventoryLocation, null=True, on_delete="SET NULL")
    shipped_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=now)
    paid_at = DateTimeField(null=True)
    shipped_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)

    class Meta:
        # The fulfilment list reads one status oldest first.
        indexes = ((("status", "created_at"), False),)


class ExchangeOrderLine(BaseModel):
    exchange_order = ForeignKeyField(ExchangeOrder, backref="lines", on_delete="CASCADE")
    replacement = ForeignKeyField(Replacement, backref="shipments", on_delete="CASCADE")
    quantity = IntegerField(constraints=[SQL("CHECK (quantity > 0)")])
    # The line it became on the shopper's order once shipped (returnable from its delivery).
    order_line = ForeignKeyField(OrderLine, null=True, on_delete="SET NULL")

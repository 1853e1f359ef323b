"""Refunds (one row per payment or store credit), store credit and the internal ledger."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.db import BaseModel, JSONField
from portal.models.accounts import User, now
from portal.models.orders import Order, Payment, check
from portal.models.returns import Return


class Refund(BaseModel):
    rma = ForeignKeyField(Return, backref="refunds", on_delete="CASCADE")
    payment = ForeignKeyField(Payment, null=True, backref="refunds", on_delete="RESTRICT")
    method = CharField()  # original payment method, or store_credit
    amount = IntegerField(constraints=check("amount > 0"))
    currency = CharField(max_length=3)
    status = CharField()  # its life: portal.returns.refund_states; indexed with rma (Meta)
    idempotency_key = CharField(unique=True)
    gateway_reference = CharField(null=True)
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    breakdown = JSONField(default=dict)  # stored, never recomputed
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    approved_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=now)
    processing_started_at = DateTimeField(null=True)
    lease_expires_at = DateTimeField(null=True)  # the processing worker's claim ends then
    settled_at = DateTimeField(null=True)
    # Past the gateway's idempotency window a retry looks the refund up first (issue 12).
    first_attempted_at = DateTimeField(null=True)
    # What the gateway last said (Stripe: pending, succeeded, failed, canceled, requires_action)
    # and why (a failure or pending reason), shown on the staff page.
    gateway_status = CharField(default="")
    gateway_reason = CharField(default="")

    class Meta:
        # "Returns whose refund failed" (a queue tab, counted on every queue page) is read
        # from this index without touching the refunds (docs/performance.md).
        indexes = ((("status", "rma"), False),)


class StoreCredit(BaseModel):
    """Store credit entries; a shopper's balance is their sum."""

    customer = ForeignKeyField(User, null=True, backref="store_credit", on_delete="SET NULL")
    email = CharField(index=True)
    currency = CharField(max_length=3)
    amount = IntegerField()  # signed
    refund = ForeignKeyField(Refund, null=True, unique=True, on_delete="SET NULL")
    note = CharField(default="")
    created_at = DateTimeField(default=now)


class LedgerTransaction(BaseModel):
    """The built-in payment gateway's book: one row per idempotency key, ever."""

    idempotency_key = CharField(unique=True)
    order = ForeignKeyField(Order, on_delete="CASCADE")
    payment = ForeignKeyField(Payment, null=True, on_delete="SET NULL")
    method = CharField()
    amount = IntegerField()
    currency = CharField(max_length=3)
    reference = CharField(unique=True)
    created_at = DateTimeField(default=now)

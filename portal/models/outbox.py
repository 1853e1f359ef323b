"""Work for the background workers, written in the same transaction as the change behind it."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.db import BaseModel, JSONField
from portal.models.accounts import now
from portal.models.returns import Return


class OutboxMessage(BaseModel):
    kind = CharField()  # email, refund, webhook
    payload = JSONField(default=dict)
    dedupe_key = CharField(unique=True)
    status = CharField()  # portal.outbox.messages.STATUSES
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    rma = ForeignKeyField(Return, null=True, backref="outbox", on_delete="SET NULL")
    created_at = DateTimeField(default=now)
    available_at = DateTimeField(default=now)
    sent_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("status", "available_at"), False),)

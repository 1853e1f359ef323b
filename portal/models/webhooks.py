"""Webhooks (issue 12): the endpoints admins register for the portal's events, each delivery
attempt made to them, and the payment gateway's events received (each applied once).

An endpoint's secret is kept as it is (it signs every delivery), shown to the admin once; while
a rotated secret's overlap lasts, deliveries are signed with both."""

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal.db import BaseModel, JSONField
from portal.models.accounts import User, now
from portal.models.outbox import OutboxMessage
from portal.models.refunds import Refund


class WebhookEndpoint(BaseModel):
    url = CharField(max_length=500)
    description = CharField(default="")
    event_types = JSONField(default=list)  # a subset of portal.returns.webhook_events.TYPES
    secret = CharField()  # whsec_<base64>
    previous_secret = CharField(null=True)  # still signs until previous_secret_until
    previous_secret_until = DateTimeField(null=True)
    active = BooleanField(default=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)


class WebhookAttempt(BaseModel):
    """One try at delivering one event to one endpoint (the endpoint's delivery log)."""

    endpoint = ForeignKeyField(WebhookEndpoint, backref="attempts", on_delete="CASCADE")
    message = ForeignKeyField(OutboxMessage, null=True, on_delete="SET NULL")
    event_id = CharField()
    event_type = CharField()
    outcome = CharField()  # delivered, retry, failed
    response_code = IntegerField(null=True)
    error = CharField(default="")
    duration_ms = IntegerField(default=0)
    at = DateTimeField(default=now)

    class Meta:
        indexes = ((("endpoint", "at"), False),)


class GatewayEvent(BaseModel):
    """A payment gateway's event, stored once per event id: a replay changes nothing."""

    gateway = CharField(default="stripe")
    event_id = CharField(unique=True)
    kind = CharField()
    refund = ForeignKeyField(Refund, null=True, on_delete="SET NULL")
    outcome = TextField(default="")
    received_at = DateTimeField(default=now)

# Generated from a schema diff on 2026-12-01, checked by hand. Webhooks (issue 12): the endpoints
# admins register, each delivery attempt, the payment gateway's events applied once; on refunds
# the first attempt's time (the gateway's idempotency window) and what the gateway last said.
from peewee import *

from portal.db import JSONField


def up(migrator, db):
    class OutboxMessage(Model):
        class Meta:
            database = db
            table_name = "outbox_message"

    class Refund(Model):
        class Meta:
            database = db
            table_name = "refund"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class GatewayEvent(Model):
        gateway = CharField(default="stripe")
        event_id = CharField(unique=True)
        kind = CharField()
        refund = ForeignKeyField(Refund, null=True, on_delete="SET NULL")
        outcome = TextField(default="")
        received_at = DateTimeField()

        class Meta:
            database = db
            table_name = "gateway_event"

    db.create_tables([GatewayEvent])

    class WebhookEndpoint(Model):
        url = CharField(max_length=500)
        description = CharField(default="")
        event_types = JSONField(default=list)
        secret = CharField()
        previous_secret = CharField(null=True)
        previous_secret_until = DateTimeField(null=True)
        active = BooleanField(default=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "webhook_endpoint"

    db.create_tables([WebhookEndpoint])

    class WebhookAttempt(Model):
        endpoint = ForeignKeyField(WebhookEndpoint, on_delete="CASCADE")
        message = ForeignKeyField(OutboxMessage, null=True, on_delete="SET NULL")
        event_id = CharField()
        event_type = CharField()
        outcome = CharField()
        response_code = IntegerField(null=True)
        error = CharField(default="")
        duration_ms = IntegerField(default=0)
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "webhook_attempt"
            indexes = ((("endpoint", "at"), False),)

    db.create_tables([WebhookAttempt])

    migrator.migrate(migrator.add_column("refund", "first_attempted_at", DateTimeField(null=True)))
    migrator.migrate(migrator.add_column("refund", "gateway_status", CharField(default="")))
    migrator.migrate(migrator.add_column("refund", "gateway_reason", CharField(default="")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("refund", "gateway_reason"))
    migrator.migrate(migrator.drop_column("refund", "gateway_status"))
    migrator.migrate(migrator.drop_column("refund", "first_attempted_at"))
    migrator.migrate(migrator.drop_table("webhook_attempt"))
    migrator.migrate(migrator.drop_table("webhook_endpoint"))
    migrator.migrate(migrator.drop_table("gateway_event"))

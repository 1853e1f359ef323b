# Generated from a schema diff on 2026-12-01 (issue 12, the JSON API): API keys (stored as
# sha256 hashes, each acting as its own service account) and the stored first answers of POSTs
# sent with an Idempotency-Key (unique per key and Idempotency-Key).
from peewee import *

from portal.db import JSONField


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class ApiKey(Model):
        name = CharField()
        prefix = CharField()
        key_hash = CharField(unique=True)
        scopes = JSONField(default=list)
        user = ForeignKeyField(User, on_delete="CASCADE")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        last_used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "api_key"

    db.create_tables([ApiKey])

    class IdempotentRequest(Model):
        api_key = ForeignKeyField(ApiKey, on_delete="CASCADE")
        key = CharField()
        method = CharField()
        path = CharField()
        body_hash = CharField()
        status = IntegerField(null=True)
        body = TextField(null=True)
        headers = JSONField(null=True)
        created_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = "idempotent_request"
            indexes = ((("api_key", "key"), True),)

    db.create_tables([IdempotentRequest])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("idempotent_request"))
    migrator.migrate(migrator.drop_table("api_key"))

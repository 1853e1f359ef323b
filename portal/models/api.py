"""The JSON API's tables: API keys (stored hashed, each acting as its own service account) and
the stored first answers of POSTs made with an Idempotency-Key."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.db import BaseModel, JSONField
from portal.models.accounts import User, now


class ApiKey(BaseModel):
    name = CharField()
    prefix = CharField()  # the key's first characters, shown in the list to tell keys apart
    key_hash = CharField(unique=True)  # sha256 hex of the whole key; the key itself is never kept
    scopes = JSONField(default=list)  # orders:write, returns:read, returns:write, refunds:write
    # The staff-like account the key acts as: timeline and audit entries name it.
    user = ForeignKeyField(User, on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField(default=now)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    @property
    def active(self):
        return self.revoked_at is None


class IdempotentRequest(BaseModel):
    """The first answer to a POST with an Idempotency-Key, per API key: replayed for the same
    key and body. `status` is None while the first request is still running."""

    api_key = ForeignKeyField(ApiKey, on_delete="CASCADE")
    key = CharField()
    method = CharField()
    path = CharField()
    body_hash = CharField()
    status = IntegerField(null=True)
    body = TextField(null=True)
    headers = JSONField(null=True)
    created_at = DateTimeField(default=now, index=True)

    class Meta:
        indexes = ((("api_key", "key"), True),)

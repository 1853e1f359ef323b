"""The audit log: who changed what, when, with the values before and after. Append-only: rows
are only ever inserted (database triggers refuse updates and deletes, migration 0006)."""

from peewee import CharField, DateTimeField, ForeignKeyField

from portal.db import BaseModel, JSONField
from portal.models.accounts import User, now


class AuditEntry(BaseModel):
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")  # None: the system
    action = CharField(index=True)  # policy.updated, reason.added, location.renamed, ...
    subject = CharField(default="")  # what it is about: "policy", "reason:12", "user:7"
    before = JSONField(null=True)
    after = JSONField(null=True)
    created_at = DateTimeField(default=now, index=True)

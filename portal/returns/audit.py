"""The audit log: every change to the store's settings, reasons, locations and staff accounts
writes an entry (who, when, before, after) in the same transaction as the change. Entries are
only ever added (the database refuses to change or delete them)."""

import datetime
from dataclasses import dataclass

from portal.models import AuditEntry, User

ACTIONS = {
    "policy.updated": "Return policy changed",
    "reason.added": "Reason added",
    "reason.changed": "Reason changed",
    "reason.activated": "Reason activated",
    "reason.deactivated": "Reason deactivated",
    "location.added": "Location added",
    "location.changed": "Location changed",
    "location.activated": "Location activated",
    "location.deactivated": "Location deactivated",
    "location.deleted": "Location deleted",
    "location.default": "Default location set",
    "staff.added": "Staff account added",
    "staff.activated": "Staff account activated",
    "staff.deactivated": "Staff account deactivated",
    "staff.role_changed": "Staff role changed",
}


def record(actor, action, subject="", before=None, after=None):
    """Write one entry (inside the caller's transaction). Only what changed is kept."""
    if before is not None and after is not None:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        before = {k: before.get(k) for k in changed}
        after = {k: after.get(k) for k in changed}
    return AuditEntry.create(actor=getattr(actor, "id", actor), action=action, subject=subject,
                             before=before, after=after)  # fmt: skip


def snapshot(row, fields):
    """The audited values of a model row, as plain JSON values."""
    out = {}
    for name in fields:
        value = getattr(row, name)
        if isinstance(value, datetime.date | datetime.datetime):
            value = value.isoformat()
        out[name] = value
    return out


@dataclass
class Filters:
    action: str = ""  # an ACTIONS key, or "" for any
    actor: str = ""  # an email address, or ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def entries(filters, limit=200):
    """The newest entries matching `filters`, with their actors (two queries)."""
    query = AuditEntry.select().order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if filters.action in ACTIONS:
        query = query.where(AuditEntry.action == filters.action)
    if filters.actor:
        user = User.by_email(filters.actor)
        query = query.where(AuditEntry.actor == (user.id if user else -1))
    if filters.date_from:
        query = query.where(
            AuditEntry.created_at >= datetime.datetime.combine(filters.date_from, datetime.time())
        )
    if filters.date_to:
        end = filters.date_to + datetime.timedelta(days=1)
        query = query.where(AuditEntry.created_at < datetime.datetime.combine(end, datetime.time()))
    rows = list(query.limit(limit))
    ids = {row.actor_id for row in rows if row.actor_id}
    actors = {u.id: u for u in User.select(User.id, User.email, User.name).where(User.id.in_(ids))}
    return [(row, actors.get(row.actor_id)) for row in rows]

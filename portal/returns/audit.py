"""The audit log: every change to the store's settings, reasons, locations and staff accounts,
and every security event (sign-ins and their failures, locks, sessions ended, passwords, two-
factor sign-in, refund approvals) writes an entry (who, when, before, after) in the same
transaction as the change. Entries never hold a secret: no password, token or code. Entries are
only ever added (the database refuses to change or delete them)."""

import datetime
from dataclasses import dataclass

from portal.models import AuditEntry, InventoryLocation, ReturnReason, ReturnShippingMethod, User

ACTIONS = {
    "policy.updated": "Return policy changed",
    "store.look_changed": "Store's name, logo or colour changed",
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
    "shipping_method.added": "Return shipping method added",
    "shipping_method.changed": "Return shipping method changed",
    "shipping_method.activated": "Return shipping method activated",
    "shipping_method.deactivated": "Return shipping method deactivated",
    "shipping_method.deleted": "Return shipping method deleted",
    "signin.succeeded": "Signed in",
    "signin.failed": "Sign-in failed",
    "account.locked": "Account locked (failed sign-ins)",
    "account.unlocked": "Account unlocked",
    "sessions.ended": "Sessions ended",
    "password.changed": "Password changed",
    "password.reset": "Password reset by emailed link",
    "2fa.enabled": "Two-factor sign-in turned on",
    "2fa.disabled": "Two-factor sign-in turned off",
    "2fa.recovery_used": "Recovery code used",
    "refund.approved": "Refund approved (second manager)",
    "webhook.added": "Webhook endpoint added",
    "webhook.changed": "Webhook endpoint changed",
    "webhook.secret_rotated": "Webhook secret rotated",
    "webhook.redelivered": "Webhook event redelivered",
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
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


# --- the audit page (a read model) --------------------------------------------------------------

# Fields whose values are location ids (set_default), shown by the location's name.
LOCATION_FIELDS = ("default_location", "default_quarantine_location")


@dataclass
class Change:
    field: str
    before: str
    after: str


@dataclass
class AuditRow:
    entry: AuditEntry
    actor: User | None  # None: the system, or an account since deleted
    action: str  # in words
    subject: str  # in words: "location Main warehouse", "user x@y", "return policy"
    changes: list  # [Change], field by field


def _subject_id(subject, kind):
    prefix, _, number = (subject or "").partition(":")
    return int(number) if prefix == kind and number.isdigit() else None


def _value(value, field, locations):
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field in LOCATION_FIELDS and isinstance(value, int) and value in locations:
        return locations[value].name
    return str(value)


def describe(pairs):
    """`entries()` in words: what was done, what it was about (names read in at most three
    queries, whatever the number of entries) and each changed field's before and after. A row
    deleted since is named by what the entries themselves kept of it."""
    ids = {"location": set(), "user": set(), "reason": set(), "shipping_method": set()}
    kept = {}  # (kind, id): the newest name an entry kept
    for entry, _ in pairs:  # newest first
        for kind, found in ids.items():
            number = _subject_id(entry.subject, kind)
            if number is not None:
                found.add(number)
                name = _kept_name(entry)
                if name:
                    kept.setdefault((kind, number), name)
        for values in (entry.before or {}, entry.after or {}):
            for field in LOCATION_FIELDS:
                if isinstance(values.get(field), int):
                    ids["location"].add(values[field])
    names = {}
    for kind, model, field in (("location", InventoryLocation, InventoryLocation.name),
                               ("user", User, User.email),
                               ("reason", ReturnReason, ReturnReason.label),
                               ("shipping_method", ReturnShippingMethod,
                                ReturnShippingMethod.name)):  # fmt: skip
        if ids[kind]:
            query = model.select(model.id, field).where(model.id.in_(list(ids[kind]))).tuples()
            names.update({(kind, number): name for number, name in query})
    return [
        AuditRow(
            entry,
            actor,
            ACTIONS.get(entry.action, entry.action),
            _subject_words(entry.subject, names, kept),
            _changes(entry, names, kept),
        )
        for entry, actor in pairs
    ]


def _kept_name(entry):
    """The name (label, email) of the entry's subject as the entry left it."""
    for values in (entry.after or {}, entry.before or {}):
        for attr in ("name", "label", "email"):
            if values.get(attr):
                return values[attr]
    return None


def _named(kind, number, names, kept):
    if (kind, number) in names:
        return names[kind, number]
    name = kept.get((kind, number))
    return f"{name} (deleted)" if name else f"#{number} (deleted)"


def _subject_words(subject, names, kept):
    if subject == "policy":
        return "return policy"
    for kind in ("location", "user", "reason", "shipping_method"):
        number = _subject_id(subject, kind)
        if number is not None:
            return f"{kind.replace('_', ' ')} {_named(kind, number, names, kept)}"
    return subject or ""


def _value(value, field, names, kept):
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field in LOCATION_FIELDS and isinstance(value, int):
        return _named("location", value, names, kept)
    return str(value)


def _changes(entry, names, kept):
    before, after = entry.before or {}, entry.after or {}
    return [
        Change(
            field,
            _value(before.get(field), field, names, kept),
            _value(after.get(field), field, names, kept),
        )
        for field in sorted(set(before) | set(after))
    ]

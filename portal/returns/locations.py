"""Inventory locations (managers): add, rename, deactivate and reactivate, delete when unused,
and the default location for restocked units and for damaged ones. The stock page reads the
levels per SKU and location with the movements that made them. Every change is audited."""

import re
from dataclasses import dataclass

from peewee import JOIN, IntegrityError, fn

from portal.db import db, locked
from portal.models import (
    InventoryLocation,
    Return,
    ReturnLine,
    ReturnPolicy,
    StockLevel,
    StockMovement,
    User,
)
from portal.returns import audit
from portal.returns.errors import DomainError, NotFound
from portal.returns.transitions import require_staff

MANAGERS = "Only managers can change inventory locations."
KINDS = {"sellable": "Sellable stock", "quarantine": "Quarantine (damaged goods, never sold)"}
CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,19}")
FIELDS = ("code", "name", "kind", "active")


def all_locations():
    return list(
        InventoryLocation.select().order_by(InventoryLocation.active.desc(), InventoryLocation.name)
    )


def _get(location_id):
    location = InventoryLocation.get_or_none(InventoryLocation.id == int(location_id))
    if location is None:
        raise NotFound("That location doesn't exist.")
    return location


def _clean(name, code, kind):
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise DomainError("A location needs a name of at most 80 characters.")
    code = (code or "").strip().upper() or re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")
    code = code[:20]
    if not CODE.fullmatch(code):
        raise DomainError("A location code is 1-20 capital letters, digits, - or _.")
    if kind not in KINDS:
        raise DomainError("Choose sellable stock or quarantine.")
    return name, code, kind


def _unique(name, code, location_id=None):
    others = InventoryLocation.select().where(
        (fn.LOWER(InventoryLocation.name) == name.lower()) | (InventoryLocation.code == code)
    )
    for other in others:
        if other.id != location_id:
            what = "name" if other.name.lower() == name.lower() else "code"
            raise DomainError(f"The {what} is already used by the location “{other.name}”.")


def add_location(actor, name, kind="sellable", code=""):
    require_staff(actor, "manager", MANAGERS)
    name, code, kind = _clean(name, code, kind)
    with db.atomic():
        _unique(name, code)
        try:
            location = InventoryLocation.create(code=code, name=name, kind=kind)
        except IntegrityError:
            raise DomainError(f"The code {code} is already used by another location.") from None
        policy = _policy()
        default = "default_location" if kind == "sellable" else "default_quarantine_location"
        after = audit.snapshot(location, FIELDS)
        if getattr(policy, f"{default}_id") is None:  # the first of its kind is the default
            setattr(policy, default, location)
            policy.save()
            after[default] = location.id  # the policy changed too: the entry says so
        audit.record(actor, "location.added", f"location:{location.id}", after=after)
        return location


def change_location(actor, location_id, name, code=""):
    """Rename (its kind stays: stock in it is of that kind)."""
    require_staff(actor, "manager", MANAGERS)
    with db.atomic():
        location = _get(location_id)
        before = audit.snapshot(location, FIELDS)
        name, code, _ = _clean(name, code or location.code, location.kind)
        _unique(name, code, location.id)
        location.name, location.code = name, code
        location.save()
        audit.record(actor, "location.changed", f"location:{location.id}", before,
                     audit.snapshot(location, FIELDS))  # fmt: skip
        return location


def _policy():
    ReturnPolicy.current()
    return locked(ReturnPolicy.select().where(ReturnPolicy.id == 1)).get()


def _is_default(policy, location):
    return location.id in (policy.default_location_id, policy.default_quarantine_location_id)


def set_active(actor, location_id, active):
    require_staff(actor, "manager", MANAGERS)
    with db.atomic():
        location = _get(location_id)
        if location.active == bool(active):  # nothing changes, so nothing is audited
            return location
        if not active and _is_default(_policy(), location):
            raise DomainError(
                f"“{location.name}” is a default location: make another one the default first."
            )
        location.active = bool(active)
        location.save()
        audit.record(actor, "location.activated" if active else "location.deactivated",
                     f"location:{location.id}", {"active": not active},
                     {"active": bool(active)})  # fmt: skip
        return location


def set_default(actor, location_id):
    """Make the location the default for its kind (restocked units, or damaged ones)."""
    require_staff(actor, "manager", MANAGERS)
    with db.atomic():
        location = _get(location_id)
        if not location.active:
            raise DomainError(f"“{location.name}” is deactivated; activate it first.")
        policy = _policy()
        field = "default_location" if location.kind == "sellable" else "default_quarantine_location"
        before = getattr(policy, f"{field}_id")
        if before == location.id:  # already the default: nothing changes, nothing is audited
            return location
        setattr(policy, field, location)
        policy.save()
        audit.record(actor, "location.default", f"location:{location.id}", {field: before},
                     {field: location.id})  # fmt: skip
        return location


def _why_in_use(moved, levelled, default):
    if moved:
        return "stock moved through it"
    if levelled:
        return "it holds stock levels"
    if default:
        return "it is a default location"
    return ""


def in_use(location):
    """Why the location can't be deleted ('' when it can): stock or movements, or a default."""
    return _why_in_use(
        StockMovement.select().where(StockMovement.location == location.id).exists(),
        StockLevel.select().where(StockLevel.location == location.id).exists(),
        _is_default(ReturnPolicy.current(), location),
    )


@dataclass
class LocationRow:
    location: object
    default_for: str  # "sellable" (restocked units), "quarantine" (damaged ones) or ""
    in_use: str  # why it can't be deleted, or "" (as in_use())


def overview():
    """Every location (active first, by name) with whether it is a default and why it can't be
    deleted: four queries, whatever the number of locations."""
    locations = all_locations()
    policy = ReturnPolicy.current()
    moved = {row[0] for row in StockMovement.select(StockMovement.location).distinct().tuples()}
    levelled = {row[0] for row in StockLevel.select(StockLevel.location).distinct().tuples()}
    defaults = {policy.default_location_id: "sellable",
                policy.default_quarantine_location_id: "quarantine"}  # fmt: skip
    defaults.pop(None, None)
    return [
        LocationRow(
            location,
            defaults.get(location.id, ""),
            _why_in_use(location.id in moved, location.id in levelled, location.id in defaults),
        )
        for location in locations
    ]


def delete_location(actor, location_id):
    require_staff(actor, "manager", MANAGERS)
    with db.atomic():
        location = _get(location_id)
        why = in_use(location)
        if why:
            raise DomainError(
                f"“{location.name}” is in use ({why}), so it can't be deleted; deactivate it "
                "instead."
            )
        before = audit.snapshot(location, FIELDS)
        location.delete_instance()
        audit.record(actor, "location.deleted", f"location:{location.id}", before=before)
        return location


# --- the stock page ---------------------------------------------------------------------------


@dataclass
class StockRow:
    sku: str
    location: object
    quantity: int


def stock_levels(q="", limit=200):
    """Stock per SKU and location, SKUs containing `q` (any case), at most `limit` rows."""
    query = (
        StockLevel.select(StockLevel, InventoryLocation)
        .join(InventoryLocation)
        .order_by(StockLevel.sku, InventoryLocation.name)
        .limit(limit)
    )
    if q:
        query = query.where(StockLevel.sku.contains(q.strip().upper()))
    return [StockRow(level.sku, level.location, level.quantity) for level in query]


def sku_levels(sku):
    """One SKU's stock per location (exactly that SKU), by location name: one query."""
    query = (
        StockLevel.select(StockLevel, InventoryLocation)
        .join(InventoryLocation)
        .where(StockLevel.sku == sku)
        .order_by(InventoryLocation.name)
    )
    return [StockRow(level.sku, level.location, level.quantity) for level in query]


def movements(sku, limit=100):
    """The movements that made a SKU's stock levels, newest first, each with its location, its
    actor (None: the system) and `rma_reference`, the reference of the return it came from
    (None when it came from no return): two queries, whatever the number of movements."""
    rows = list(
        StockMovement.select(StockMovement, InventoryLocation, User.id, User.email, User.name)
        .join(InventoryLocation)
        .switch(StockMovement)
        .join(User, JOIN.LEFT_OUTER, on=(StockMovement.actor == User.id))
        .where(StockMovement.sku == sku)
        .order_by(StockMovement.created_at.desc(), StockMovement.id.desc())
        .limit(limit)
    )
    line_ids = {row.return_line_id for row in rows if row.return_line_id}
    references = {}
    if line_ids:
        references = dict(
            ReturnLine.select(ReturnLine.id, Return.reference)
            .join(Return)
            .where(ReturnLine.id.in_(list(line_ids)))
            .tuples()
        )
    for row in rows:
        row.rma_reference = references.get(row.return_line_id)
    return rows

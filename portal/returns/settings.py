"""The store's return settings: the policy row and the (nested) return reasons. Managers only.

Open returns keep the policy snapshot taken when they were requested, so changing fees here never
changes an open return's money."""

import re
import zoneinfo
from decimal import Decimal, InvalidOperation

from portal.db import db, locked
from portal.models import ReturnPolicy, ReturnReason, now
from portal.returns import audit, pickers
from portal.returns.errors import DomainError, NotAllowed, NotFound
from portal.returns.references import validate_pattern
from portal.returns.withdrawal import REASON_CODE as WITHDRAWAL_REASON

AUTO_APPROVE = ("never", "always", "merchant_fault", "under_amount")
REASON_FIELDS = ("code", "label", "label_de", "parent_id", "merchant_fault", "requires_note", "requires_photo",
                 "keep_item", "position", "active")  # fmt: skip
CODE = re.compile(r"[a-z0-9_]{1,40}")


def _manager(actor):
    if actor is None or not actor.is_staff or not actor.active or not actor.has_role("manager"):
        raise NotAllowed("Only managers can change the store's return settings.")


def percent_to_bps(text):
    """'12.5' -> 1250 basis points. At most two decimals, between 0 and 100."""
    raw = str(text if text is not None else "").strip().rstrip("%").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise DomainError(
            f"{text!r} is not a percentage; enter a number like 10 or 12.5."
        ) from None
    if not value.is_finite() or value < 0 or value > 100:
        raise DomainError("The restocking fee is a percentage between 0 and 100.")
    bps = value * 100
    if bps != bps.to_integral_value():
        raise DomainError("Give the restocking fee with at most two decimals, like 12.5.")
    return int(bps)


def bps_to_percent(bps):
    """1250 -> '12.5'; 1000 -> '10'; 1005 -> '10.05'. The inverse of percent_to_bps()."""
    whole, cents = divmod(int(bps), 100)
    if not cents:
        return str(whole)
    return f"{whole}.{cents:02d}".rstrip("0")


def _whole(value, low, high, what):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(f"{what} must be a whole number from {low} to {high}.")
    return value


def _cents(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(f"{what} must be an amount of zero or more.")
    return value


def update_policy(actor, **values):
    """Change the policy; every value is checked first and nothing changes on a refusal."""
    _manager(actor)
    checks = {
        "returns_enabled": bool,
        "require_responsible": bool,
        "require_return_invoice": bool,
        "allow_edit_completed": bool,
        "inventory_tracking": bool,
        "staff_returns_approved": bool,
        "exchanges_enabled": bool,
        "exchange_any_product": bool,
        "exchange_restocking_fee": bool,
        "exchange_return_shipping": bool,
        "exchange_ship_early": bool,
        "exchange_bonus": lambda v: _cents(v, "The exchange bonus"),
        "exchange_absorb_up_to": lambda v: _cents(v, "What the store absorbs of a dearer exchange"),
        "exchange_stock_buffer": lambda v: _whole(v, 0, 100000, "The exchange stock buffer"),
        "claim_keep_item_below": lambda v: _cents(v, "The claim keep-the-item amount"),
        "timezone": _timezone,
        "window_days": lambda v: _whole(v, 0, 3650, "The return window"),
        "restocking_fee_bps": lambda v: _whole(v, 0, 10000, "The restocking fee (basis points)"),
        "return_shipping_fee": lambda v: _cents(v, "The return shipping fee"),
        "auto_approve_max": lambda v: _cents(v, "The auto-approve amount"),
        "refund_approval_threshold": lambda v: _cents(v, "The refund approval threshold"),
        "additional_approval_limit": lambda v: (
            None if v is None else _cents(v, "The additional value limit")
        ),
        "expire_unshipped_days": lambda v: _whole(v, 0, 3650, "The expiry (0: never)"),
        "reference_pattern": lambda v: validate_pattern((v or "").strip()),
        "return_address": _address,
        "auto_approve": _auto_approve,
        # The EU withdrawal function (portal.returns.withdrawal): the law's 14 days at least.
        "withdrawal_days": lambda v: _whole(v, 14, 3650, "The withdrawal period"),
        "withdrawal_standard_delivery": lambda v: (
            None if v is None else _cents(v, "The standard delivery cost")
        ),
        "withdrawal_shopper_pays_return": bool,
        "withdrawal_return_cost": lambda v: _cents(v, "The withdrawal return cost"),
        "withdrawal_excluded_skus": lambda v: _lines(v, "The excluded SKUs"),
        "withdrawal_excluded_categories": lambda v: _lines(v, "The excluded categories"),
    }
    unknown = set(values) - set(checks)
    if unknown:
        raise DomainError(f"Unknown settings: {', '.join(sorted(unknown))}.")
    clean = {name: checks[name](value) for name, value in values.items()}
    with db.atomic():
        ReturnPolicy.current()
        policy = locked(ReturnPolicy.select().where(ReturnPolicy.id == 1)).get()
        before = audit.snapshot(policy, clean)
        for name, value in clean.items():
            setattr(policy, name, value)
        policy.updated_at = now()
        policy.save()
        after = audit.snapshot(policy, clean)
        if before != after:
            audit.record(actor, "policy.updated", "policy", before, after)
        return policy


def _lines(value, what):
    """A text box of one value a line: trimmed, blanks dropped."""
    lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
    if any(len(line) > 120 for line in lines) or len(lines) > 500:
        raise DomainError(f"{what}: at most 500 lines of 120 characters.")
    return "\n".join(lines)


def _timezone(value):
    value = (value or "").strip()
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DomainError(
            f"{value!r} is not a time zone: use a name like Europe/Berlin or America/New_York."
        ) from None
    return value


def _address(value):
    value = (value or "").strip()
    if not value:
        raise DomainError("Enter the return address shoppers send parcels to.")
    if len(value) > 1000:
        raise DomainError("Keep the return address under 1000 characters.")
    return value


def _auto_approve(value):
    if value not in AUTO_APPROVE:
        raise DomainError("Choose when returns are approved automatically.")
    return value


# --- reasons -------------------------------------------------------------------------------


def _parent(parent_id, reason_id=None):
    """The parent for a reason: a top-level reason. Reasons nest one level deep, as deep as a
    shopper picks (a first choice, then a more specific one)."""
    if parent_id in (None, ""):
        return None
    parent = ReturnReason.get_or_none(ReturnReason.id == int(parent_id))
    if parent is None:
        raise DomainError("Choose an existing parent reason.")
    if reason_id is not None and parent.id == reason_id:
        raise DomainError("A reason can't be nested under itself or one of its own children.")
    if parent.parent_id is not None:
        raise DomainError(
            f"“{parent.label}” is itself nested under another reason: reasons nest one level "
            "deep (shoppers pick a reason, then a more specific one). Choose a top-level parent."
        )
    if (
        reason_id is not None
        and ReturnReason.select().where(ReturnReason.parent == reason_id).exists()
    ):
        raise DomainError(
            "This reason has more specific reasons under it, so it stays at the top level."
        )
    return parent


def save_reason(actor, reason_id=None, *, code, label, parent_id=None, merchant_fault=False,
                requires_note=False, requires_photo=False, position=0,
                keep_item=False, label_de=""):  # fmt: skip
    """Add a reason (reason_id None) or edit one. Codes are lower-case letters, digits and _."""
    _manager(actor)
    code = (code or "").strip().lower()
    label = (label or "").strip()
    if not CODE.fullmatch(code):
        raise DomainError("A reason code is 1-40 lower-case letters, digits or underscores.")
    if not label or len(label) > 120:
        raise DomainError("A reason needs a label of at most 120 characters.")
    label_de = (label_de or "").strip()
    if len(label_de) > 120:
        raise DomainError("The German label can be at most 120 characters.")
    _whole(position or 0, 0, 9999, "The position")
    with db.atomic():
        reason = None
        if reason_id is not None:
            reason = ReturnReason.get_or_none(ReturnReason.id == int(reason_id))
            if reason is None:
                raise NotFound("That reason doesn't exist.")
        clash = ReturnReason.get_or_none(ReturnReason.code == code)
        if clash is not None and (reason is None or clash.id != reason.id):
            raise DomainError(f"The code {code} is already used by “{clash.label}”.")
        parent = _parent(parent_id, reason.id if reason else None)
        before = audit.snapshot(reason, REASON_FIELDS) if reason else None
        reason = reason or ReturnReason()
        reason.code, reason.label, reason.parent = code, label, parent
        reason.label_de = label_de
        reason.merchant_fault = bool(merchant_fault)
        reason.requires_note, reason.requires_photo = bool(requires_note), bool(requires_photo)
        reason.keep_item = bool(keep_item)
        reason.position = position or 0
        reason.save()
        after = audit.snapshot(reason, REASON_FIELDS)
        if before is None:
            audit.record(actor, "reason.added", f"reason:{reason.id}", after=after)
        elif before != after:
            audit.record(actor, "reason.changed", f"reason:{reason.id}", before, after)
        return reason


def set_reason_active(actor, reason_id, active):
    """Deactivate (shoppers can no longer pick it; existing returns keep it) or reactivate."""
    _manager(actor)
    with db.atomic():
        reason = ReturnReason.get_or_none(ReturnReason.id == int(reason_id))
        if reason is None:
            raise NotFound("That reason doesn't exist.")
        if reason.active != bool(active):
            reason.active = bool(active)
            reason.save()
            audit.record(actor, "reason.activated" if active else "reason.deactivated",
                         f"reason:{reason.id}", {"active": not active}, {"active": bool(active)})  # fmt: skip
        return reason


def reason_tree(generation=None):
    """Every reason as (reason, depth), parents before their children, by position (the
    per-process cache checked against `generation`, see portal.returns.pickers), but not the
    withdrawal's own, which no shopper picks and staff don't edit."""
    reasons = [r for r in pickers.reasons(generation) if r.code != WITHDRAWAL_REASON]
    children = {}
    for reason in reasons:
        children.setdefault(reason.parent_id, []).append(reason)
    out, seen = [], set()

    def walk(parent_id, depth):
        for reason in children.get(parent_id, []):
            if reason.id not in seen:
                seen.add(reason.id)
                out.append((reason, depth))
                walk(reason.id, depth + 1)

    walk(None, 0)
    out += [(r, 0) for r in reasons if r.id not in seen]  # orphans, if any
    return out

"""Inspection and restocking: received lines are accepted or rejected (with a reason the shopper
reads); accepted undamaged units go back into sellable stock, damaged ones only ever into a
quarantine location (rule 2). Stock moves write a StockMovement and the StockLevel together."""

from portal.db import db
from portal.models import InventoryLocation, ReturnLine, ReturnPolicy, StockLevel, StockMovement
from portal.outbox.messages import enqueue_email
from portal.returns import exchanges
from portal.returns.errors import DomainError, InvalidTransition, NotFound, QuantityExceeded
from portal.returns.facts import line_facts, line_name, lines_of, refund_batches, refunded_units
from portal.returns.transitions import change, check_version, ensure_line_work, load, require_staff

DECISIONS = ("accepted", "rejected")


def inspect(rma, actor, decisions, version=None):
    """Accept or reject received lines: {line_id: (decision, note)}. Rejection needs a reason."""
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_line_work(current, ReturnPolicy.current(), "inspect items")
        lines = {ln.id: ln for ln in lines_of(current.id)}
        covered = refunded_units(refund_batches(current.id))
        summary = []
        for line_id, raw in (decisions or {}).items():
            decision, note = (tuple(raw) + ("",))[:2] if not isinstance(raw, str) else (raw, "")
            note = (note or "").strip()[:2000]
            line = lines.get(int(line_id))
            if line is None:
                raise NotFound("That item is not part of this return.")
            name = line_name(line)
            if decision not in DECISIONS:
                raise DomainError(f"{name}: choose accept or reject.")
            if line.received_quantity == 0:
                raise DomainError(f"{name}: nothing has been received yet, so there is nothing "
                                  f"to inspect.")  # fmt: skip
            if decision == "rejected" and not note:
                raise DomainError(f"{name}: say why it is rejected; the shopper will read it.")
            if decision == line.inspection and note == line.inspection_note:
                continue
            if covered[line.id] and decision != line.inspection:
                raise DomainError(f"{name}: a refund was prepared for it, so its inspection "
                                  f"can't change.")  # fmt: skip
            if decision == "rejected" and line.restocked_quantity:
                raise DomainError(f"{name}: units were restocked already, so it can't be "
                                  f"rejected.")  # fmt: skip
            if decision == "rejected" and line.swap is not None and line.swap.shipped:
                raise DomainError(f"{name}: its replacement has shipped already, so it can't "
                                  f"be rejected.")  # fmt: skip
            ReturnLine.update(inspection=decision, inspection_note=note).where(
                ReturnLine.id == line.id
            ).execute()
            summary.append({"line_id": line.id, "title": name, "decision": decision,
                            "note": note})  # fmt: skip
        if not summary:
            raise DomainError("Choose accept or reject for at least one item.")
        change(current, "inspected", actor, lines=summary)
        rejected = [s for s in summary if s["decision"] == "rejected"]
        if rejected:  # their replacements won't ship: the units held go back to stock
            exchanges.release(current, actor, "rejected at inspection",
                              line_ids={s["line_id"] for s in rejected})  # fmt: skip
        exchanges.sync(current, actor, early=current.ship_early)
        if rejected:  # the shopper reads why, by email and on their tracking page
            enqueue_email("items_rejected", current.email,
                          f"return:{current.id}:email:items_rejected:v{current.version}",
                          rma=current, context={"lines": rejected})  # fmt: skip
        return current


def _location(value, kind, role):
    if value in (None, ""):
        return None
    location = InventoryLocation.get_or_none(InventoryLocation.id == getattr(value, "id", value))
    if location is None or not location.active:
        raise DomainError(f"Choose an active {role} location.")
    if location.kind != kind:
        if kind == "sellable":
            raise DomainError(
                f"{location.name} is a quarantine location: restocked units go to a sellable "
                f"location, and damaged units are never restocked as sellable."
            )
        raise DomainError(f"{location.name} is not a quarantine location.")
    return location


NO_LOCATIONS = (
    "There is no inventory location to restock into yet: a manager adds one under Settings, "
    "Locations."
)


def _move_stock(location, sku, quantity, reason, line, actor):
    StockMovement.create(location=location, sku=sku, quantity=quantity, reason=reason,
                         return_line_id=line.id, actor=actor)  # fmt: skip
    StockLevel.insert(location=location, sku=sku, quantity=0).on_conflict_ignore().execute()
    StockLevel.update(quantity=StockLevel.quantity + quantity).where(
        (StockLevel.location == location) & (StockLevel.sku == sku)
    ).execute()


def restock_lines(rma, actor, items, location, quarantine_location=None, version=None):
    """Restock accepted units: {line_id: (restock_qty, quarantine_qty)}.

    Sellable units go to `location` (StockMovement + StockLevel in this transaction); damaged
    units are never restocked as sellable, but may be moved into a quarantine location."""
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        policy = ReturnPolicy.current()
        ensure_line_work(current, policy, "restock items")
        if not policy.inventory_tracking:
            raise InvalidTransition(
                "The store doesn't track inventory in the portal (a setting), so nothing is "
                "restocked here."
            )
        if not InventoryLocation.select().where(InventoryLocation.active == True).exists():  # noqa: E712
            raise DomainError(NO_LOCATIONS)
        lines = {ln.id: ln for ln in lines_of(current.id)}
        sellable = quarantine = None
        summary = []
        for line_id, raw in (items or {}).items():
            raw = (raw,) if isinstance(raw, int) else tuple(raw)
            qty, q_qty = (raw + (0,))[:2]
            line = lines.get(int(line_id))
            if line is None:
                raise NotFound("That item is not part of this return.")
            name = line_name(line)
            for value in (qty, q_qty):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise DomainError(f"{name}: quantities must be whole numbers of zero or more.")
            if not qty and not q_qty:
                continue
            if qty:
                if line.inspection != "accepted":
                    raise DomainError(f"{name}: accept it at inspection before restocking it.")
                room = line_facts(line, 0).restockable
                if qty > room:
                    why = (
                        f"the {line.damaged_quantity} damaged unit(s) are never restocked as "
                        f"sellable" if line.damaged_quantity else
                        f"received {line.received_quantity}, restocked {line.restocked_quantity}"
                    )  # fmt: skip
                    raise QuantityExceeded(f"{name}: only {room} unit(s) can be restocked ({why}).")
                sellable = sellable or _location(location, "sellable", "sellable")
                if sellable is None:
                    raise DomainError("Choose the location to restock into.")
                _move_stock(sellable, line.order_line.sku, qty, "restock", line, actor)
            if q_qty:
                room = line_facts(line, 0).quarantinable
                if q_qty > room:
                    raise QuantityExceeded(
                        f"{name}: only {room} damaged unit(s) are left to quarantine."
                    )
                quarantine = quarantine or _location(quarantine_location, "quarantine",
                                                     "quarantine")  # fmt: skip
                if quarantine is None:
                    raise DomainError("Choose the quarantine location for damaged units.")
                _move_stock(quarantine, line.order_line.sku, q_qty, "quarantine", line, actor)
            ReturnLine.update(
                restocked_quantity=ReturnLine.restocked_quantity + qty,
                quarantined_quantity=ReturnLine.quarantined_quantity + q_qty,
            ).where(ReturnLine.id == line.id).execute()
            summary.append({"line_id": line.id, "title": name, "sku": line.order_line.sku,
                            "restocked": qty, "quarantined": q_qty})  # fmt: skip
        if not summary:
            raise DomainError("Enter how many units to restock.")
        change(
            current, "restocked", actor, lines=summary,
            location=sellable.code if sellable else None,
            quarantine=quarantine.code if quarantine else None,
        )  # fmt: skip
        return current


def restock(rma, actor, line_id, qty, location, version=None, quarantine_qty=0,
            quarantine_location=None):  # fmt: skip
    """Restock `qty` accepted units of one line into `location` (see restock_lines)."""
    return restock_lines(rma, actor, {line_id: (qty, quarantine_qty)}, location,
                         quarantine_location, version)  # fmt: skip

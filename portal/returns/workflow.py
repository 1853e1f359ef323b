"""Staff work on a return: review, hold and resume, assign, notes, receive, inspect, restock,
cancel and finish.

Every function runs in one transaction: it re-reads the return (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), checks the version the caller saw,
applies its change with a compare-and-set on status + version (bumping the version), and writes
its ReturnEvent. Refusals are DomainErrors whose message can be shown as is.
"""

import datetime
from collections import Counter
from dataclasses import dataclass

from portal.db import db, locked
from portal.models import (
    InventoryLocation,
    Order,
    OrderLine,
    Refund,
    Return,
    ReturnEvent,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    StockLevel,
    StockMovement,
    User,
    now,
)
from portal.outbox import enqueue_email
from portal.returns import states, timeline
from portal.returns.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotAllowed,
    NotFound,
    QuantityExceeded,
)
from portal.returns.states import (
    CANCELLED,
    COMPLETED,
    ON_HOLD,
    PARTIALLY_RECEIVED,
    RECEIVED,
    RECEIVING,
    REJECTED,
    REQUESTED,
)

STALE = (
    "Someone else changed this return a moment ago. The page now shows its latest state: "
    "check it and try again."
)
LOCKED = "This return is completed and locked: nothing on it can change."
PENDING_REFUND = ("awaiting_approval", "pending", "processing")
LINE_WORK = (PARTIALLY_RECEIVED, RECEIVED)  # where inspect, restock and refund happen


# --- reading and writing the return ------------------------------------------------------


def load(rma):
    """The return, re-read inside the caller's transaction (locked on PostgreSQL)."""
    rma_id = getattr(rma, "id", rma)
    current = locked(Return.select().where(Return.id == rma_id)).first()
    if current is None:
        raise NotFound("That return doesn't exist.")
    return current


def check_version(current, version):
    """Refuse when the caller acted on an older version of the return than the stored one."""
    if version in (None, ""):
        return
    try:
        seen = int(version)
    except (TypeError, ValueError):
        raise Conflict(STALE) from None
    if seen != current.version:
        raise Conflict(STALE)


def save(current, **changes):
    """Compare-and-set on status + version; bumps the version. Updates `current` in place."""
    changes["updated_at"] = now()
    rows = (
        Return.update(version=Return.version + 1, **changes)
        .where(
            (Return.id == current.id)
            & (Return.status == current.status)
            & (Return.version == current.version)
        )
        .execute()
    )
    if rows != 1:
        raise Conflict(STALE)
    for name, value in changes.items():
        setattr(current, name, value)
    current.version += 1
    return current


def require_staff(actor, minimum="agent", message=None):
    if actor is None or not actor.is_staff or not actor.active or not actor.has_role(minimum):
        raise NotAllowed(message or "Only staff can change returns.")


def ensure_editable(current, policy):
    if current.status == COMPLETED and not policy.allow_edit_completed:
        raise InvalidTransition(LOCKED)


def ensure_line_work(current, policy, verb):
    """Inspect, restock and refund happen once something arrived (or on editable completed ones)."""
    ensure_editable(current, policy)
    if current.status == ON_HOLD:
        raise InvalidTransition(f"This return is on hold; resume it before you {verb}.")
    if current.status in LINE_WORK or current.status == COMPLETED:
        return
    label = states.LABELS[current.status].lower()
    if current.status in (REQUESTED, states.APPROVED):
        raise InvalidTransition(
            f"Nothing has been received on this return yet, so you can't {verb}."
        )
    raise InvalidTransition(f"You can't {verb} on a return that is {label}.")


def lines_of(rma_id):
    """The return's lines with their order lines and reasons, in a stable order."""
    return list(
        ReturnLine.select(ReturnLine, OrderLine, ReturnReason)
        .join(OrderLine)
        .switch(ReturnLine)
        .join(ReturnReason)
        .where(ReturnLine.rma == rma_id)
        .order_by(ReturnLine.id)
    )


def line_name(line):
    return line.order_line.title


# --- facts: what the domain knows about a return's state ---------------------------------


def refund_batches(rma_id, events=None):
    """Payloads of the refunds prepared on this return and not declined, oldest first.

    Each prepare_refund() is one batch (one Refund row per payment); its "refund_created" event
    records the units and amounts per line, so refunded units are known even for a batch with
    no money due (every unit overridden to 0)."""
    if events is None:
        events = (
            ReturnEvent.select(ReturnEvent.kind, ReturnEvent.payload)
            .where(
                (ReturnEvent.rma == rma_id)
                & ReturnEvent.kind.in_(("refund_created", "refund_declined"))
            )
            .order_by(ReturnEvent.id)
        )
    created, declined = [], set()
    for event in events:
        if event.kind == "refund_created":
            created.append(event.payload or {})
        elif event.kind == "refund_declined":
            declined.add((event.payload or {}).get("batch"))
    return [batch for batch in created if batch.get("batch") not in declined]


def refunded_units(batches):
    """{line_id: units covered by refunds} from refund_batches()."""
    units = Counter()
    for batch in batches:
        for line_id, count in (batch.get("line_units") or {}).items():
            units[int(line_id)] += int(count)
    return units


def facts_for(rma, lines=None, refunds=None, policy=None, batches=None):
    """states.ReturnFacts for `rma` (lines in the given order)."""
    lines = lines_of(rma.id) if lines is None else lines
    if refunds is None:
        refunds = list(Refund.select(Refund.status).where(Refund.rma == rma.id))
    policy = policy or ReturnPolicy.current()
    covered = refunded_units(refund_batches(rma.id) if batches is None else batches)
    line_facts = tuple(
        states.LineFacts(
            requested=ln.quantity,
            received=ln.received_quantity,
            damaged=ln.damaged_quantity,
            restocked=ln.restocked_quantity,
            inspection=ln.inspection,
            refunded=ln.received_quantity > 0 and covered[ln.id] >= ln.received_quantity,
        )
        for ln in lines
    )
    refund_statuses = {r.status for r in refunds}
    return states.ReturnFacts(
        status=rma.status,
        lines=line_facts,
        refund_pending=bool(refund_statuses & set(PENDING_REFUND)),
        refund_failed="failed" in refund_statuses,
        refund_awaiting_approval="awaiting_approval" in refund_statuses,
        edit_completed=bool(policy.allow_edit_completed),
    )


def next_actions(rma, **known):
    """The actions the return allows now (states.next_actions over facts_for())."""
    return states.next_actions(facts_for(rma, **known))


# --- review ------------------------------------------------------------------------------


def approve(rma, actor, version=None):
    require_staff(actor, "manager", "Only managers can approve returns.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        policy = ReturnPolicy.current()
        ensure_editable(current, policy)
        target = states.next_status(current.status, "approve")
        if policy.require_responsible and current.responsible_id is None:
            raise DomainError(
                "Assign a responsible staff member before approving: the store's policy "
                "requires one."
            )
        approved_at = now()
        target_date = None
        if policy.expire_unshipped_days:
            target_date = approved_at.date() + datetime.timedelta(days=policy.expire_unshipped_days)
        save(current, status=target, approved_at=approved_at, target_date=target_date)
        timeline.record(current, "approved", actor)
        enqueue_email("return_approved", current.email,
                      f"return:{current.id}:email:return_approved", rma=current,
                      context={"return_address": policy.return_address})  # fmt: skip
        return current


def reject(rma, actor, reason, version=None):
    """Reject a requested return. The reason is shown to the shopper."""
    require_staff(actor, "manager", "Only managers can reject returns.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the return is rejected; the shopper will read it.")
    if len(reason) > 2000:
        raise DomainError("Keep the rejection reason under 2000 characters.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        target = states.next_status(current.status, "reject")
        save(current, status=target, rejection_reason=reason)
        timeline.record(current, "rejected", actor, reason=reason)
        enqueue_email("return_rejected", current.email,
                      f"return:{current.id}:email:return_rejected", rma=current,
                      context={"rejection_reason": reason})  # fmt: skip
        return current


def cancel(rma, actor, reason, version=None):
    """Staff cancel a return that has not received anything (e.g. the shopper phoned)."""
    require_staff(actor, "manager", "Only managers can cancel returns.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the return is cancelled; the shopper will read it.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        target = states.next_status(current.status, "cancel")
        save(current, status=target)
        timeline.record(current, "cancelled", actor, reason=reason[:2000], by="staff")
        enqueue_email("return_cancelled", current.email,
                      f"return:{current.id}:email:return_cancelled", rma=current,
                      context={"reason": reason[:2000]})  # fmt: skip
        return current


def hold(rma, actor, note="", version=None):
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        target = states.next_status(current.status, "hold")
        held_from = current.status
        save(current, status=target, held_from=held_from)
        timeline.record(current, "on_hold", actor, held_from=held_from, note=(note or "")[:2000])
        return current


def resume(rma, actor, version=None):
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        target = states.next_status(current.status, "resume", held_from=current.held_from)
        save(current, status=target, held_from=None)
        timeline.record(current, "resumed", actor, status=target)
        return current


def assign_responsible(rma, actor, user, version=None):
    """Make `user` (an active staff member, or None to clear) responsible for the return."""
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        if current.status in (REJECTED, CANCELLED):
            raise InvalidTransition("This return is closed; it needs no responsible member.")
        member = None
        if user is not None:
            member = User.get_or_none(User.id == getattr(user, "id", user))
            if member is None or not member.is_staff or not member.active:
                raise DomainError("Choose an active staff member.")
        save(current, responsible=member.id if member else None)
        timeline.record(
            current, "assigned", actor, internal=True,
            responsible_id=member.id if member else None,
            responsible=member.display_name if member else "",
        )  # fmt: skip
        return current


def add_internal_note(rma, actor, text, version=None):
    """A staff-only note on the timeline (never shown to the shopper)."""
    require_staff(actor)
    text = (text or "").strip()
    if not text:
        raise DomainError("Write the note first.")
    if len(text) > 5000:
        raise DomainError("Keep notes under 5000 characters.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        save(current)
        timeline.record(current, "note", actor, internal=True, text=text)
        return current


# --- receiving ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    received: int = 0
    damaged: int = 0
    missing: int = 0
    wrong_item: int = 0
    note: str = ""

    @classmethod
    def of(cls, raw):
        if isinstance(raw, Receipt):
            return raw
        if isinstance(raw, dict):
            raw = cls(**raw)
            values = (raw.received, raw.damaged, raw.missing, raw.wrong_item, raw.note)
        else:
            values = tuple(raw) + (0, 0, 0, 0, "")[len(tuple(raw)) :]
        counts = []
        for value in values[:4]:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DomainError("Quantities must be whole numbers of zero or more.")
            counts.append(value)
        return cls(*counts, note=str(values[4] or "").strip()[:2000])

    @property
    def empty(self):
        return not (self.received or self.damaged or self.missing or self.wrong_item)


def _check_receipt(line, receipt):
    name = line_name(line)
    outstanding = line.quantity - line.received_quantity
    if receipt.damaged > receipt.received:
        raise QuantityExceeded(
            f"{name}: damaged units are part of the received ones, so at most "
            f"{receipt.received} of them can be damaged."
        )
    if receipt.received > outstanding:
        raise QuantityExceeded(
            f"{name}: only {outstanding} more unit(s) can be received (requested {line.quantity}, "
            f"already received {line.received_quantity})."
        )
    if receipt.received + receipt.missing + receipt.wrong_item > outstanding:
        raise QuantityExceeded(
            f"{name}: received, missing and wrong units add up to more than the {outstanding} "
            f"unit(s) still expected."
        )
    if (receipt.missing or receipt.wrong_item) and not receipt.note:
        raise DomainError(
            f"{name}: add a note saying what happened when units are missing or a wrong item "
            f"came back."
        )


def _inspection_after(line, receipt, accept_on_receipt):
    """Undamaged units accepted on receipt keep a line accepted; damaged units need a decision."""
    if receipt.received == 0:
        return line.inspection
    if (
        receipt.damaged == 0
        and accept_on_receipt
        and (line.inspection == "accepted" or line.received_quantity == 0)
    ):
        return "accepted"
    return "pending"


def receive(rma, actor, receipts, version=None, accept_on_receipt=True):
    """Record a receipt: {line_id: (received, damaged, missing, wrong_item, note)}.

    Receipts add up; damaged <= received <= requested always. Undamaged units are accepted at
    once when `accept_on_receipt`; damaged ones wait for inspection."""
    require_staff(actor)
    receipts = {int(k): Receipt.of(v) for k, v in (receipts or {}).items()}
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        if current.status == REQUESTED:
            raise InvalidTransition("Approve this return before receiving its items.")
        if current.status not in RECEIVING:
            states.next_status(current.status, "receive")  # raises with a readable message
        lines = {ln.id: ln for ln in lines_of(current.id)}
        entries = []
        for line_id, receipt in receipts.items():
            line = lines.get(line_id)
            if line is None:
                raise NotFound("That item is not part of this return.")
            if receipt.empty:
                continue
            _check_receipt(line, receipt)
            entries.append((line, receipt))
        if not entries:
            raise DomainError("Enter the units received, or the units missing from the parcel.")

        summary = []
        for line, receipt in entries:
            received = line.received_quantity + receipt.received
            missing = line.missing_quantity + receipt.missing
            wrong = line.wrong_item_quantity + receipt.wrong_item
            # Units counted missing earlier that turned up now are no longer missing.
            excess = max(0, received + missing + wrong - line.quantity)
            drop_missing = min(excess, missing)
            missing, wrong = missing - drop_missing, wrong - (excess - drop_missing)
            inspection = _inspection_after(line, receipt, accept_on_receipt)
            ReturnLine.update(
                received_quantity=received,
                damaged_quantity=line.damaged_quantity + receipt.damaged,
                missing_quantity=missing,
                wrong_item_quantity=wrong,
                inspection=inspection,
            ).where(ReturnLine.id == line.id).execute()
            line.received_quantity, line.inspection = received, inspection
            summary.append(
                {
                    "line_id": line.id,
                    "title": line_name(line),
                    "sku": line.order_line.sku,
                    "received": receipt.received,
                    "damaged": receipt.damaged,
                    "missing": receipt.missing,
                    "wrong_item": receipt.wrong_item,
                    "note": receipt.note,
                    "inspection": inspection,
                }
            )

        units = sum(r.received for _, r in entries)
        total_received = sum(ln.received_quantity for ln in lines.values())
        if total_received:
            fully = all(ln.received_quantity == ln.quantity for ln in lines.values())
            target = states.next_status(current.status, "receive", fully_received=fully)
        else:
            target = current.status  # only exceptions so far: still waiting for the parcel
        save(current, status=target)
        Order.update(version=Order.version + 1).where(Order.id == current.order_id).execute()
        if units:
            timeline.record(current, "received", actor, lines=summary, units=units,
                            damaged=sum(r.damaged for _, r in entries), status=target)  # fmt: skip
            enqueue_email(
                "return_received",
                to=current.email,
                dedupe_key=f"return_received:{current.id}:v{current.version}",
                rma=current,
                context={
                    "reference": current.reference,
                    "fully_received": target == RECEIVED,
                    "lines": [
                        {"title": s["title"], "received": s["received"], "damaged": s["damaged"]}
                        for s in summary
                        if s["received"]
                    ],
                },
            )
        else:
            timeline.record(current, "receipt_exception", actor, internal=True, lines=summary)
        return current


# --- inspection and restocking -----------------------------------------------------------

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
            ReturnLine.update(inspection=decision, inspection_note=note).where(
                ReturnLine.id == line.id
            ).execute()
            summary.append({"line_id": line.id, "title": name, "decision": decision,
                            "note": note})  # fmt: skip
        if not summary:
            raise DomainError("Choose accept or reject for at least one item.")
        save(current)
        timeline.record(current, "inspected", actor, lines=summary)
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
        ensure_line_work(current, ReturnPolicy.current(), "restock items")
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
                room = line.received_quantity - line.damaged_quantity - line.restocked_quantity
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
                room = line.damaged_quantity - line.quarantined_quantity
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
        save(current)
        timeline.record(
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


# --- finishing ---------------------------------------------------------------------------


def finish(rma, actor, version=None):
    """Complete and lock the return; units requested but never received are released."""
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        policy = ReturnPolicy.current()
        ensure_editable(current, policy)
        lines = lines_of(current.id)
        refunds = list(Refund.select(Refund.status).where(Refund.rma == current.id))
        blocker = states.finish_blocker(facts_for(current, lines, refunds, policy))
        if blocker:
            raise InvalidTransition(blocker)
        target = states.next_status(current.status, "finish")
        save(current, status=target, completed_at=now())
        timeline.record(current, "completed", actor)
        released = [
            {
                "line_id": ln.id,
                "title": line_name(ln),
                "sku": ln.order_line.sku,
                "units": ln.quantity - ln.received_quantity,
            }  # fmt: skip
            for ln in lines
            if ln.quantity > ln.received_quantity
        ]
        if released:
            timeline.record(current, "released", actor, lines=released,
                            units=sum(r["units"] for r in released))  # fmt: skip
            Order.update(version=Order.version + 1).where(Order.id == current.order_id).execute()
        return current

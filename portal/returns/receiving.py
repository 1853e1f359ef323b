"""Receiving a return's parcel: units received, damaged, missing or a wrong item, per line.

Receipts add up; damaged <= received <= requested always (rule 2). Undamaged units can be
accepted on receipt; damaged ones wait for inspection (inspection.py)."""

from dataclasses import dataclass

from portal.db import db
from portal.models import Order, ReturnLine, ReturnPolicy
from portal.outbox.messages import enqueue_email
from portal.returns import exchanges, states
from portal.returns.errors import DomainError, InvalidTransition, NotFound, QuantityExceeded
from portal.returns.facts import line_name, lines_of
from portal.returns.states import RECEIVED, RECEIVING, REQUESTED
from portal.returns.transitions import (
    change,
    check_version,
    ensure_editable,
    load,
    require_staff,
    transition,
)


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
        Order.update(version=Order.version + 1).where(Order.id == current.order_id).execute()
        if not units:  # only exceptions so far: still waiting for the parcel
            change(current, "receipt_exception", actor, internal=True, lines=summary)
            return current
        fully = all(ln.received_quantity == ln.quantity for ln in lines.values())
        target = states.next_status(current.status, "receive", fully_received=fully)
        transition(current, "receive", actor, fully_received=fully, lines=summary, units=units,
                   damaged=sum(r.damaged for _, r in entries), status=target)  # fmt: skip
        exchanges.sync(current, actor, early=current.ship_early)
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
        return current

"""Refunds for a return, prepared by a manager from accepted received units.

prepare_refund() computes the amount with amounts.refund_for_return() (the same function as the
shopper's estimate), caps it at what the order can still refund, splits it across the order's
payments (card first, then gift card) or store credit, and writes the Refund rows, their
outbox messages and the timeline event in one transaction. The worker carries refunds out;
nothing here talks to a payment gateway. Refunds over the policy's threshold, and refunds with an
additional value over its limit, wait for a second manager (maker-checker).
"""

import uuid
from dataclasses import dataclass, field, replace

from peewee import fn

from portal.db import db, locked
from portal.models import Invoice, Order, Payment, Refund, ReturnExtraLine, ReturnLine, ReturnPolicy
from portal.returns import amounts, audit, refund_states
from portal.returns.errors import Conflict, DomainError, InvalidTransition, NotAllowed, NotFound
from portal.returns.facts import facts_for, lines_of, needs_refund, refund_batches, refunded_units
from portal.returns.money import format_money
from portal.returns.refund_calc import Allocation, calculate_refund, split_refund
from portal.returns.refund_execution import enqueue_refund
from portal.returns.refund_states import AWAITING_APPROVAL, PENDING
from portal.returns.transitions import (
    STALE,
    change,
    check_version,
    ensure_editable,
    ensure_line_work,
    load,
    require_staff,
    touch,
)

MANAGERS_ONLY = "Only managers can issue refunds."


@dataclass
class RefundPlan:
    """What a refund would be right now: the form's prefill and what prepare_refund() writes."""

    lines: list
    quantities: dict  # {line_id: units refunded now}
    breakdown: object  # refund_calc.RefundBreakdown
    rooms: list  # refund_calc.PaymentRoom per payment of the order
    first_batch: bool
    extras: list = field(default_factory=list)  # ReturnExtraLines this refund settles

    @property
    def total(self):
        return self.breakdown.total

    @property
    def line_amounts(self):
        return {
            ln.id: part.amount
            for ln, part in zip(self.lines, self.breakdown.lines, strict=True)
            if self.quantities.get(ln.id)
        }

    def default_split(self, store_credit=False):
        """The allocation used when the manager doesn't choose one (empty if it can't split)."""
        try:
            return split_refund(self.total, self.rooms, store_credit=store_credit).allocations
        except DomainError:
            return []


def plan_refund(rma, lines=None, order=None, refund_shipping=None, additional=0,
                overrides=None, batches=None, known=None, extras=None,
                payments=None):  # fmt: skip
    """The refund for the accepted received units not refunded yet. Overrides: {line_id: cents}.
    `known` (amounts.Known), `extras` (the pending extra lines) and `payments` (the order's):
    read beforehand by a page, else read here."""
    lines = lines_of(rma.id) if lines is None else lines
    order = order or Order.get_by_id(rma.order_id)
    rma.order = order
    batches = refund_batches(rma.id) if batches is None else batches
    covered = refunded_units(batches)
    quantities = {
        ln.id: ln.received_quantity - covered[ln.id]
        for ln in lines
        if ln.inspection == "accepted"
        and ln.received_quantity > covered[ln.id]
        and needs_refund(ln)
    }
    overrides = overrides or {}
    extras = amounts.pending_extras(rma.id) if extras is None else extras
    extra = sum(x.amount for x in extras)
    if not batches:
        breakdown = amounts.refund_for_return(rma, lines, quantities, overrides, refund_shipping,
                                              additional, extra=extra, known=known)  # fmt: skip
    else:
        # A later refund on the same return: its fees and shipping were settled by the first.
        terms = amounts.terms_for(rma, order, refund_shipping, additional, extra=extra,
                                  known=known)  # fmt: skip
        earlier = [b.get("breakdown") or {} for b in batches]
        terms = replace(
            terms,
            return_shipping_fee=0
            if any(b.get("return_shipping") for b in earlier)
            else terms.return_shipping_fee,
            shipping_already_refunded=terms.shipping_already_refunded
            or any(b.get("shipping") for b in earlier),
        )
        items = amounts.refund_items(lines, quantities, overrides)
        already = known.line_refunded if known else None
        breakdown = calculate_refund(
            amounts.refund_lines(items, exclude_rma_id=rma.id, already=already), terms
        )
    rooms = amounts.payment_rooms(order, payments, known.committed if known else None)
    return RefundPlan(lines, quantities, breakdown, rooms, not batches, extras)


def additional_limit(policy, order):
    """The largest additional value one manager may give alone (cents): the store's setting,
    or (None) the order's original shipping total."""
    limit = policy.additional_approval_limit
    return order.shipping_total if limit is None else limit


def _whole_cents(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(f"{what} must be an amount of zero or more.")
    return value


def _allocate(total, rooms, store_credit, split, currency):
    if total == 0:
        return []
    if store_credit:
        if split:
            raise DomainError("Choose store credit or a split across the payments, not both.")
        return [Allocation(None, "store_credit", total)]
    if not split:
        return split_refund(total, rooms).allocations
    by_id = {room.payment_id: room for room in rooms}
    allocations = []
    for payment_id, amount in split.items():
        room = by_id.get(int(payment_id))
        if room is None:
            raise DomainError("That payment doesn't belong to this order.")
        _whole_cents(amount, f"The amount for the {room.method} payment")
        if amount > room.refundable:
            raise DomainError(
                f"The {room.method.replace('_', ' ')} payment can refund at most "
                f"{format_money(max(room.refundable, 0), currency)} more."
            )
        if amount:
            allocations.append(Allocation(room.payment_id, room.method, amount))
    chosen = sum(a.amount for a in allocations)
    if chosen != total:
        raise DomainError(
            f"The split adds up to {format_money(chosen, currency)}, but the refund is "
            f"{format_money(total, currency)}."
        )
    return allocations


def check_captured(order):
    """Rule 3, re-read inside the transaction: committed refunds never exceed what was captured,
    per payment and per order."""
    payments = list(Payment.select().where(Payment.order == order.id))
    committed = amounts.committed_by_payment(order)
    for payment in payments:
        if committed.get(payment.id, 0) > payment.amount:
            raise DomainError(
                f"Refunds on the {payment.method.replace('_', ' ')} payment would exceed the "
                f"{format_money(payment.amount, order.currency)} it captured."
            )
    if sum(committed.values()) > sum(p.amount for p in payments):
        raise DomainError("Refunds on this order would exceed what its payments captured.")


def _return_invoice(current, order, policy, number):
    """Changes to save on the return for its return invoice number (VTEX rule)."""
    number = (number or "").strip()
    if current.return_invoice_number:
        if number and number.lower() != current.return_invoice_number.lower():
            raise DomainError(
                f"This return already has return invoice {current.return_invoice_number}."
            )
        return {}
    if not number:
        if policy.require_return_invoice:
            raise DomainError(
                "The store requires a return invoice number with the refund: enter one."
            )
        return {}
    if len(number) > 60 or any(ch.isspace() for ch in number):
        raise DomainError("A return invoice number is 1-60 characters without spaces.")
    clash = Invoice.select().where(fn.LOWER(Invoice.number) == number.lower()).first()
    if clash is not None:
        used_by = "a sale invoice" if clash.kind == "sale" else "another return"
        raise DomainError(
            f"Invoice number {number} is already used by {used_by}; a return invoice needs a "
            f"number of its own."
        )
    Invoice.create(order=order, number=number, kind="return")
    return {"return_invoice_number": number}


@dataclass(frozen=True)
class RefundPreview:
    """What prepare_refund() would create, for the manager to confirm (nothing written)."""

    total: int
    currency: str
    allocations: list  # refund_calc.Allocation per payment (or store credit)
    awaiting_approval: bool
    capped_by: str = ""


def prepare_refund(rma, actor, refund_shipping=None, additional=0, additional_note="",
                   overrides=None, store_credit=False, split=None, return_invoice_number=None,
                   version=None, simulate=False):  # fmt: skip
    """Create the refund for the accepted received units not refunded yet.

    overrides: {line_id: (cents, note)}; split: {payment_id: cents} (default: card first, then
    gift card); store_credit: one store-credit refund instead. Returns the Refund rows (none when
    nothing is due, e.g. every line overridden to 0: the lines are settled all the same).

    `simulate`: every check and the amounts per payment, as a RefundPreview, and nothing
    written (the manager's confirmation step; as Solidus's reimbursement simulate)."""
    require_staff(actor, "manager", MANAGERS_ONLY)
    _whole_cents(additional, "The additional value")
    additional_note = (additional_note or "").strip()[:500]
    if additional and not additional_note:
        raise DomainError('Add a "referred to" note saying what the additional value is for.')
    notes, override_cents = {}, {}
    for line_id, raw in (overrides or {}).items():
        amount, note = (tuple(raw) + ("",))[:2]
        _whole_cents(amount, "An overridden line amount")
        if not (note or "").strip():
            raise DomainError("Add a note saying why a line's amount is overridden.")
        override_cents[int(line_id)], notes[int(line_id)] = amount, note.strip()[:500]

    with db.atomic() as transaction:
        current = load(rma)
        check_version(current, version)
        policy = ReturnPolicy.current()
        ensure_line_work(current, policy, "refund")
        order = locked(Order.select().where(Order.id == current.order_id)).get()
        lines = lines_of(current.id)
        batches = refund_batches(current.id)
        refunds = list(Refund.select(Refund.status).where(Refund.rma == current.id))
        facts = facts_for(current, lines, refunds, policy, batches)
        if facts.refund_pending:
            raise InvalidTransition(
                "A refund for this return is already waiting (for approval or to be sent). "
                "Wait for it before preparing another."
            )
        if facts.refund_failed:
            raise InvalidTransition("A refund for this return failed: retry it instead.")
        plan = plan_refund(current, lines, order, refund_shipping, additional, override_cents,
                           batches)  # fmt: skip
        if not plan.quantities and plan.breakdown.extra <= 0:
            raise DomainError("There is nothing to refund: no accepted units are waiting for one.")
        if set(override_cents) - set(plan.quantities):
            raise DomainError("Only the lines refunded now can have their amount overridden.")
        total = plan.total
        if total == 0 and plan.breakdown.capped_by:
            raise DomainError(
                f"Nothing is left to refund on this order. {plan.breakdown.capped_by}"
            )
        allocations = _allocate(total, plan.rooms, store_credit, split, order.currency)
        over = policy.refund_approval_threshold > 0 and total > policy.refund_approval_threshold
        # The additional value is no back door: above its limit it needs a second manager too.
        additional_over = additional > additional_limit(policy, order)
        over = over or additional_over
        status = AWAITING_APPROVAL if over else PENDING
        changes = _return_invoice(current, order, policy, return_invoice_number)
        if simulate:  # the return invoice checked above is not kept
            transaction.rollback()
            return RefundPreview(total, current.currency, allocations, over,
                                 plan.breakdown.capped_by)  # fmt: skip

        batch = uuid.uuid4().hex
        line_units = {str(k): v for k, v in plan.quantities.items()}
        line_amounts = {str(k): v for k, v in plan.line_amounts.items()}
        override_log = {str(k): {"amount": override_cents[k], "note": notes[k]}
                        for k in override_cents}  # fmt: skip
        stored = {
            **plan.breakdown.as_dict(),
            "batch": batch,
            "line_units": line_units,
            "line_amounts": line_amounts,
            "overrides": override_log,
            "additional_note": additional_note,
            "store_credit": bool(store_credit),
            "extra_lines": [x.id for x in plan.extras],
        }
        created = [
            Refund.create(
                rma=current,
                payment=a.payment_id,
                method=a.method,
                amount=a.amount,
                currency=current.currency,
                status=status,
                idempotency_key=uuid.uuid4().hex,
                breakdown={**stored, "allocation": a.amount},
                created_by=actor,
            )  # fmt: skip
            for a in allocations
        ]
        check_captured(order)
        for line in lines:
            if line.id in plan.quantities:
                updates = {"refund_amount": (line.refund_amount or 0) + line_amounts[str(line.id)]}
                if line.id in notes:
                    updates["override_note"] = notes[line.id]
                ReturnLine.update(**updates).where(ReturnLine.id == line.id).execute()
        if plan.extras:
            ReturnExtraLine.update(refund_batch=batch).where(
                ReturnExtraLine.id.in_([x.id for x in plan.extras])
            ).execute()
        change(
            current, "refund_created", actor, changes=changes,
            batch=batch, total=total, currency=current.currency,
            breakdown=plan.breakdown.as_dict(), line_units=line_units, line_amounts=line_amounts,
            overrides=override_log, additional=additional, additional_note=additional_note,
            extra_lines=[{"id": x.id, "description": x.description, "amount": x.amount}
                         for x in plan.extras],
            refund_shipping=refund_shipping, store_credit=bool(store_credit),
            awaiting_approval=over, additional_over_limit=additional_over,
            capped_by=plan.breakdown.capped_by,
            return_invoice_number=changes.get("return_invoice_number"),
            refunds=[{"id": r.id, "method": r.method, "amount": r.amount, "status": r.status}
                     for r in created],
        )  # fmt: skip
        if status == PENDING:
            for refund in created:
                enqueue_refund(refund, current)
        return created


def _batch_of(refund_id, status, what):  # status: one of refund_states.STATUSES
    """(return, refunds of the same batch in `status`), re-read under the return's lock."""
    refund = Refund.get_or_none(Refund.id == getattr(refund_id, "id", refund_id))
    if refund is None:
        raise NotFound("That refund doesn't exist.")
    current = load(refund.rma_id)
    refund = Refund.get_by_id(refund.id)
    if refund.status != status:
        raise InvalidTransition(
            f"This refund can't be {what}: it is {refund_states.WORDS[refund.status]}."
        )
    batch = (refund.breakdown or {}).get("batch")
    group = [
        r
        for r in Refund.select().where((Refund.rma == current.id) & (Refund.status == status))
        if (r.breakdown or {}).get("batch") == batch or r.id == refund.id
    ]
    return current, group


def approve_refund(refund, approver, version=None):
    """A second manager approves a refund over the threshold: awaiting_approval -> pending."""
    require_staff(approver, "manager", "Only managers can approve refunds.")
    with db.atomic():
        current, group = _batch_of(refund, AWAITING_APPROVAL, "approved")
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        if any(r.created_by_id == approver.id for r in group):
            raise NotAllowed(
                "You prepared this refund, so another manager must approve it (maker-checker)."
            )
        if not refund_states.move(group, "approve", current, approver, approved_by=approver):
            raise Conflict(STALE)
        touch(current)
        audit.record(approver, "refund.approved", f"return:{current.reference}", after={
            "refunds": [r.id for r in group], "amount": sum(r.amount for r in group),
            "currency": current.currency, "prepared_by": group[0].created_by_id,
        })  # fmt: skip
        for r in group:
            enqueue_refund(r, current)
        return group


def decline_refund(refund, actor, reason, version=None):
    """Withdraw a refund still awaiting approval; its lines can be refunded again."""
    require_staff(actor, "manager", "Only managers can decline refunds.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the refund is declined.")
    with db.atomic():
        current, group = _batch_of(refund, AWAITING_APPROVAL, "declined")
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        stored = group[0].breakdown or {}
        moved = refund_states.move(group, "decline", current, actor, payload={
            "batch": stored.get("batch"), "reason": reason[:2000],
            "line_units": stored.get("line_units") or {},
        })  # fmt: skip
        if not moved:
            raise Conflict(STALE)
        for line_id, amount in (stored.get("line_amounts") or {}).items():
            line = ReturnLine.get_or_none(ReturnLine.id == int(line_id))
            if line is not None:
                left = (line.refund_amount or 0) - amount
                ReturnLine.update(refund_amount=left if left > 0 else None).where(
                    ReturnLine.id == line.id
                ).execute()
        ReturnExtraLine.update(refund_batch=None).where(
            ReturnExtraLine.refund_batch == stored.get("batch")
        ).execute()
        touch(current)
        return group

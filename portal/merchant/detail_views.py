"""A return's detail page and every action on it. Each action is a form POST that calls one
domain function in one transaction; without JavaScript it redirects back to the page, with htmx
the page's content is swapped in place. Refusals show the domain's message and change nothing.
The next-actions panel offers exactly states.next_actions() for the return."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from peewee import JOIN

from portal.auth.roles import staff_required
from portal.db import db
from portal.merchant import forms as f
from portal.merchant.views import bp, is_htmx, role_or_403, staff_choices
from portal.models import (
    InventoryLocation,
    Order,
    Payment,
    Refund,
    Return,
    ReturnEvent,
    ReturnPhoto,
    ReturnPolicy,
    User,
)
from portal.returns import refunding, states, timeline, workflow
from portal.returns.errors import Conflict, DomainError
from portal.returns.money import format_money
from portal.returns.settings import bps_to_percent

REFUND_MANAGERS = "Only managers can issue refunds. Ask a manager to refund this return."
REVIEW_MANAGERS = "Only managers can approve, reject or cancel returns."


def load_return(reference):
    rma = Return.select(Return, Order).join(Order).where(Return.reference == reference).first()
    if rma is None:
        abort(404)
    return rma


def actor():
    return current_user._get_current_object()


# --- what the page shows -------------------------------------------------------------------


def _forms(rma, lines, facts, plan, staff, locations, payments, bound):
    """Every form of the page, prefilled with what a parcel that arrives as expected needs."""
    version = rma.version

    def make(name, cls, **data):
        return bound.get(name) or cls(formdata=None, prefix=name, version=version, **data)

    forms = {
        name: make(name, cls)
        for name, cls in [
            ("approve", f.ActionForm),
            ("reject", f.RejectForm),
            ("hold", f.HoldForm),
            ("resume", f.ActionForm),
            ("finish", f.ActionForm),
            ("cancel", f.CancelForm),
            ("note", f.NoteForm),
            ("refund_action", f.ActionForm),
            ("decline_refund", f.RefundDeclineForm),
        ]  # fmt: skip
    }
    forms["assign"] = make("assign", f.AssignForm, responsible=str(rma.responsible_id or ""))
    forms["assign"].responsible.choices = f.choices(
        [("", "Nobody")] + [(u.id, u.name or u.email) for u in staff]
    )
    forms["receive"] = make("receive", f.ReceiveForm, lines=[
        {"line_id": ln.id, "received": ln.quantity - ln.received_quantity}
        for ln in lines if ln.quantity > ln.received_quantity
    ])  # fmt: skip
    forms["inspect"] = make("inspect", f.InspectForm, lines=[
        {"line_id": ln.id, "decision": "accepted"}
        for ln in lines if ln.received_quantity and ln.inspection == "pending"
    ])  # fmt: skip
    sellable = [loc for loc in locations if loc.kind == "sellable"]
    quarantine = [loc for loc in locations if loc.kind == "quarantine"]
    restock = make(
        "restock", f.RestockForm,
        location=str(sellable[0].id) if sellable else "",
        quarantine_location=str(quarantine[0].id) if quarantine else "",
        lines=[
            {"line_id": ln.id,
             "quantity": lf.restockable if ln.inspection == "accepted" else 0}
            for ln, lf in zip(lines, facts.lines, strict=True)
            if (ln.inspection == "accepted" and lf.restockable > 0)
            or ln.damaged_quantity > ln.quarantined_quantity
        ],
    )  # fmt: skip
    restock.location.choices = f.choices((loc.id, f"{loc.name} ({loc.code})") for loc in sellable)
    restock.quarantine_location.choices = f.choices(
        [("", "Nowhere")] + [(loc.id, f"{loc.name} ({loc.code})") for loc in quarantine]
    )
    forms["restock"] = restock
    if plan is not None:
        split = {a.payment_id: a.amount for a in plan.default_split()}
        forms["refund"] = make(
            "refund", f.RefundForm,
            destination="store_credit" if rma.resolution == "store_credit" else "auto",
            lines=[{"line_id": line_id} for line_id in plan.quantities],
            split=[{"payment_id": p.id, "amount": f.amount_text(split.get(p.id, 0))}
                   for p in payments],
        )  # fmt: skip
    return forms


def detail_context(rma, bound=None, refund_inputs=None):
    bound = bound or {}
    policy = ReturnPolicy.current()
    lines = workflow.lines_of(rma.id)
    refunds = list(Refund.select().where(Refund.rma == rma.id).order_by(Refund.id))
    events = list(
        ReturnEvent.select(ReturnEvent, User)
        .join(User, JOIN.LEFT_OUTER)
        .where(ReturnEvent.rma == rma.id)
        .order_by(ReturnEvent.created_at, ReturnEvent.id)
    )
    batches = workflow.refund_batches(rma.id, events=events)
    facts = workflow.facts_for(rma, lines, refunds, policy, batches)
    actions = states.next_actions(facts)
    covered = workflow.refunded_units(batches)
    photos = {}
    for photo in ReturnPhoto.select().where(ReturnPhoto.line.in_([ln.id for ln in lines])):
        photos.setdefault(photo.line_id, []).append(photo)
    staff = staff_choices()
    locations = list(
        InventoryLocation.select()
        .where(InventoryLocation.active == True)  # noqa: E712
        .order_by(InventoryLocation.id)
    )
    payments = list(
        Payment.select().where(Payment.order == rma.order_id).order_by(Payment.position, Payment.id)
    )
    plan, plan_error = None, None
    if "refund" in actions:
        inputs = refund_inputs or {}
        try:
            plan = refunding.plan_refund(
                rma, lines, rma.order, inputs.get("refund_shipping"), inputs.get("additional", 0),
                {k: v[0] for k, v in (inputs.get("overrides") or {}).items()}, batches,
            )  # fmt: skip
        except DomainError as exc:
            plan_error = str(exc)
            plan = refunding.plan_refund(rma, lines, rma.order, batches=batches)
    responsible = next((u for u in staff if u.id == rma.responsible_id), None)
    if rma.responsible_id and responsible is None:
        responsible = User.get_or_none(User.id == rma.responsible_id)
    return {
        "rma": rma,
        "order": rma.order,
        "policy": policy,
        "rows": list(zip(lines, facts.lines, strict=True)),
        "line_by_id": {ln.id: (ln, lf) for ln, lf in zip(lines, facts.lines, strict=True)},
        "unreceived": sum(ln.quantity - ln.received_quantity for ln in lines),
        "covered": covered,
        "photos": photos,
        "refunds": refunds,
        "events": events,
        "shopper_kinds": set(timeline.SHOPPER_TEXT),
        "actions": actions,
        "finish_blocker": states.finish_blocker(facts)
        if rma.status in (states.PARTIALLY_RECEIVED, states.RECEIVED)
        else None,
        "plan": plan,
        "plan_rows": [
            (ln, part)
            for ln, part in zip(plan.lines, plan.breakdown.lines, strict=True)
            if plan.quantities.get(ln.id)
        ]
        if plan
        else [],
        "plan_error": plan_error,
        "payments": payments,
        "responsible": responsible,
        "forms": _forms(rma, lines, facts, plan, staff, locations, payments, bound),
        "is_manager": current_user.has_role("manager"),
        "status_label": states.LABELS.get(rma.status, rma.status),
        "fee_percent": bps_to_percent(rma.policy_restocking_fee_bps),
        "labels": states.LABELS,
        "shopper_text": timeline.shopper_text,
    }


@bp.route("/returns/<reference>")
@staff_required
def detail(reference):
    """Order and shopper, lines with every quantity, refunds, timeline and the next actions."""
    rma = load_return(reference)
    template = "merchant/_detail.html" if is_htmx() else "merchant/detail.html"
    return render_template(template, **detail_context(rma))


# --- acting --------------------------------------------------------------------------------


def _first_error(form):
    for name, errors in form.errors.items():
        for error in errors:
            if isinstance(error, dict):  # a FieldList of sub-forms
                for sub in error.values():
                    if sub:
                        return sub[0]
            elif isinstance(error, list):
                if error:
                    return error[0]
            else:
                label = getattr(getattr(form, name, None), "label", None)
                return error if name == "csrf_token" or label is None else f"{label.text}: {error}"
    return "Check the form and try again."


def _refused(reference, error, bound=None, refund_inputs=None):
    """Show the page again with the refusal; nothing was changed. 422 so htmx swaps it."""
    ctx = detail_context(load_return(reference), bound, refund_inputs)
    template = "merchant/_detail.html" if is_htmx() else "merchant/detail.html"
    return render_template(template, error=error, **ctx), 422


def _done(reference, message):
    if is_htmx():
        return render_template("merchant/_detail.html", message=message,
                               **detail_context(load_return(reference)))  # fmt: skip
    flash(message, "success")
    return redirect(url_for("merchant.detail", reference=reference), code=303)


def _act(reference, name, form, call, message, refund_inputs=None):
    """Validate `form`, run `call()` in one transaction, answer with the page or the refusal."""
    if not form.validate_on_submit():
        return _refused(reference, _first_error(form), {name: form}, refund_inputs)
    try:
        with db.atomic():
            result = call()
    except Conflict as exc:  # someone else changed it: show the latest state, fresh forms
        return _refused(reference, str(exc))
    except DomainError as exc:
        return _refused(reference, str(exc), {name: form}, refund_inputs)
    return _done(reference, message(result) if callable(message) else message)


@bp.route("/returns/<reference>/approve", methods=["POST"])
@role_or_403("manager", REVIEW_MANAGERS)
def approve(reference):
    rma, form = load_return(reference), f.ActionForm(prefix="approve")
    return _act(reference, "approve", form,
                lambda: workflow.approve(rma, actor(), form.version.data),
                f"Return {reference} approved.")  # fmt: skip


@bp.route("/returns/<reference>/reject", methods=["POST"])
@role_or_403("manager", REVIEW_MANAGERS)
def reject(reference):
    rma, form = load_return(reference), f.RejectForm(prefix="reject")
    return _act(reference, "reject", form,
                lambda: workflow.reject(rma, actor(), form.reason.data, form.version.data),
                f"Return {reference} rejected; the shopper can read why.")  # fmt: skip


@bp.route("/returns/<reference>/cancel", methods=["POST"])
@role_or_403("manager", REVIEW_MANAGERS)
def cancel(reference):
    rma, form = load_return(reference), f.CancelForm(prefix="cancel")
    return _act(reference, "cancel", form,
                lambda: workflow.cancel(rma, actor(), form.reason.data, form.version.data),
                f"Return {reference} cancelled.")  # fmt: skip


@bp.route("/returns/<reference>/hold", methods=["POST"])
@staff_required
def hold(reference):
    rma, form = load_return(reference), f.HoldForm(prefix="hold")
    return _act(reference, "hold", form,
                lambda: workflow.hold(rma, actor(), form.note.data, form.version.data),
                f"Return {reference} is on hold.")  # fmt: skip


@bp.route("/returns/<reference>/resume", methods=["POST"])
@staff_required
def resume(reference):
    rma, form = load_return(reference), f.ActionForm(prefix="resume")
    return _act(reference, "resume", form,
                lambda: workflow.resume(rma, actor(), form.version.data),
                lambda r: f"Return {reference} resumed: {states.LABELS[r.status].lower()}.")  # fmt: skip


@bp.route("/returns/<reference>/assign", methods=["POST"])
@staff_required
def assign(reference):
    rma, form = load_return(reference), f.AssignForm(prefix="assign")
    form.responsible.choices = f.choices(
        [("", "Nobody")] + [(u.id, u.email) for u in staff_choices()]
    )
    return _act(
        reference, "assign", form,
        lambda: workflow.assign_responsible(
            rma, actor(), int(form.responsible.data) if form.responsible.data else None,
            form.version.data),
        "Responsible staff member saved.",
    )  # fmt: skip


@bp.route("/returns/<reference>/notes", methods=["POST"])
@staff_required
def note(reference):
    rma, form = load_return(reference), f.NoteForm(prefix="note")
    return _act(reference, "note", form,
                lambda: workflow.add_internal_note(rma, actor(), form.text.data),
                "Note added (staff only).")  # fmt: skip


@bp.route("/returns/<reference>/receive", methods=["POST"])
@staff_required
def receive(reference):
    rma, form = load_return(reference), f.ReceiveForm(prefix="receive")
    receipts = {
        row.line_id.data: (row.received.data or 0, row.damaged.data or 0, row.missing.data or 0,
                           row.wrong_item.data or 0, row.note.data or "")
        for row in form.lines
    }  # fmt: skip
    units = sum(r[0] for r in receipts.values())
    return _act(
        reference, "receive", form,
        lambda: workflow.receive(rma, actor(), receipts, form.version.data,
                                 accept_on_receipt=form.accept_on_receipt.data),
        f"Receipt recorded: {units} unit(s) received." if units else "Exceptions recorded.",
    )  # fmt: skip


@bp.route("/returns/<reference>/inspect", methods=["POST"])
@staff_required
def inspect(reference):
    rma, form = load_return(reference), f.InspectForm(prefix="inspect")
    decisions = {row.line_id.data: (row.decision.data, row.note.data or "")
                 for row in form.lines if row.decision.data}  # fmt: skip
    return _act(reference, "inspect", form,
                lambda: workflow.inspect(rma, actor(), decisions, form.version.data),
                "Inspection saved.")  # fmt: skip


@bp.route("/returns/<reference>/restock", methods=["POST"])
@staff_required
def restock(reference):
    rma, form = load_return(reference), f.RestockForm(prefix="restock")
    locations = list(InventoryLocation.select().where(InventoryLocation.active == True))  # noqa: E712
    form.location.choices = f.choices(
        (loc.id, loc.code) for loc in locations if loc.kind == "sellable"
    )
    form.quarantine_location.choices = f.choices(
        [("", "Nowhere")] + [(loc.id, loc.code) for loc in locations if loc.kind == "quarantine"]
    )
    items = {row.line_id.data: (row.quantity.data or 0, row.quarantine.data or 0)
             for row in form.lines}  # fmt: skip
    units = sum(q for q, _ in items.values())
    return _act(
        reference, "restock", form,
        lambda: workflow.restock_lines(
            rma, actor(), items, _id(form.location.data), _id(form.quarantine_location.data),
            form.version.data),
        f"Restocked {units} unit(s)." if units else "Damaged units quarantined.",
    )  # fmt: skip


def _id(value):
    return int(value) if value and str(value).isdigit() else None


def refund_inputs(form):
    """prepare_refund() keyword arguments from the refund form."""
    overrides = {
        row.line_id.data: (row.override.cents, row.note.data or "")
        for row in form.lines
        if row.override.cents is not None
    }
    destination = form.destination.data
    split = None
    if destination == "custom":
        split = {row.payment_id.data: row.amount.cents or 0 for row in form.split}
    return {
        "refund_shipping": {"yes": True, "no": False}.get(form.refund_shipping.data),
        "additional": form.additional.cents or 0,
        "additional_note": form.additional_note.data or "",
        "overrides": overrides,
        "store_credit": destination == "store_credit",
        "split": split,
        "return_invoice_number": (form.return_invoice_number.data or "").strip() or None,
    }


def _refund_message(created):
    if not created:
        return "Nothing was due: the lines are settled without a refund."
    total = format_money(sum(r.amount for r in created), created[0].currency)
    if created[0].status == "awaiting_approval":
        return f"Refund of {total} prepared; it waits for a second manager's approval."
    return f"Refund of {total} created; it is being sent."


@bp.route("/returns/<reference>/refund", methods=["POST"])
@role_or_403("manager", REFUND_MANAGERS)
def refund(reference):
    rma, form = load_return(reference), f.RefundForm(prefix="refund")
    inputs = refund_inputs(form)
    if form.preview.data:
        if not form.validate_on_submit():
            return _refused(reference, _first_error(form), {"refund": form}, inputs)
        ctx = detail_context(rma, {"refund": form}, inputs)
        template = "merchant/_detail.html" if is_htmx() else "merchant/detail.html"
        return render_template(template, message="Refund recalculated.", **ctx)
    return _act(reference, "refund", form,
                lambda: refunding.prepare_refund(rma, actor(), version=form.version.data,
                                                 **inputs),
                _refund_message, refund_inputs=inputs)  # fmt: skip


def _refund_of(rma, refund_id):
    refund = Refund.get_or_none((Refund.id == refund_id) & (Refund.rma == rma.id))
    if refund is None:
        abort(404)
    return refund


@bp.route("/returns/<reference>/refunds/<int:refund_id>/approve", methods=["POST"])
@role_or_403("manager", "Only managers can approve refunds.")
def approve_refund(reference, refund_id):
    rma, form = load_return(reference), f.ActionForm(prefix="refund_action")
    refund = _refund_of(rma, refund_id)
    return _act(reference, "refund_action", form,
                lambda: refunding.approve_refund(refund, actor(), form.version.data),
                "Refund approved; it is being sent.")  # fmt: skip


@bp.route("/returns/<reference>/refunds/<int:refund_id>/decline", methods=["POST"])
@role_or_403("manager", "Only managers can decline refunds.")
def decline_refund(reference, refund_id):
    rma, form = load_return(reference), f.RefundDeclineForm(prefix="decline_refund")
    refund = _refund_of(rma, refund_id)
    return _act(
        reference, "decline_refund", form,
        lambda: refunding.decline_refund(refund, actor(), form.reason.data, form.version.data),
        "Refund declined; the lines can be refunded again.",
    )  # fmt: skip


@bp.route("/returns/<reference>/refunds/<int:refund_id>/retry", methods=["POST"])
@role_or_403("manager", "Only managers can retry refunds.")
def retry_refund(reference, refund_id):
    from portal import refund_execution

    rma, form = load_return(reference), f.ActionForm(prefix="refund_action")
    refund = _refund_of(rma, refund_id)
    if rma.status == states.COMPLETED and not ReturnPolicy.current().allow_edit_completed:
        return _refused(reference, workflow.LOCKED)
    return _act(reference, "refund_action", form,
                lambda: refund_execution.retry_refund(refund, actor()),
                "Refund queued again with the same idempotency key.")  # fmt: skip


@bp.route("/returns/<reference>/finish", methods=["POST"])
@staff_required
def finish(reference):
    rma, form = load_return(reference), f.ActionForm(prefix="finish")
    return _act(reference, "finish", form,
                lambda: workflow.finish(rma, actor(), form.version.data),
                f"Return {reference} completed and locked.")  # fmt: skip

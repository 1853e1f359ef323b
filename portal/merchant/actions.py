"""Every action on a return's page: a form POST that calls one domain function (which owns its
transaction). Without JavaScript it redirects back to the page; with htmx the page's content is
swapped in place. Refusals show the domain's message and change nothing (422)."""

from flask import abort

from portal.auth.roles import role_required, staff_required
from portal.merchant import bp
from portal.merchant import forms as f
from portal.merchant.detail import (
    done,
    load_return,
    location_choices,
    render_page,
    responsible_choices,
)
from portal.models import ExchangeOrder, Refund
from portal.returns import (
    exchanges,
    extras,
    finishing,
    inspection,
    receiving,
    refund_execution,
    refund_states,
    refunding,
    review,
    states,
)
from portal.returns.detail import active_locations, active_staff
from portal.returns.errors import Conflict, DomainError
from portal.returns.money import format_money
from portal.web import actor, first_error, run_action

REFUND_MANAGERS = "Only managers can issue refunds. Ask a manager to refund this return."
REVIEW_MANAGERS = "Only managers can approve, reject or cancel returns."


def _act(reference, name, form, call, message, refund_inputs=None):
    """Validate `form`, run `call()`, answer with the page or the refusal."""

    def refused(text, error):
        if isinstance(error, Conflict):  # someone else changed it: the latest state, fresh forms
            return render_page(load_return(reference), 422, error=text)
        return render_page(load_return(reference), 422, {name: form}, refund_inputs, error=text)

    def finished(result):
        return done(reference, message(result) if callable(message) else message)

    return run_action(form, call, refused, finished)


@bp.route("/returns/<reference>/approve", methods=["POST"])
@role_required("manager", REVIEW_MANAGERS)
def approve(reference):
    rma, form = load_return(reference), f.ActionForm(prefix="approve")
    return _act(reference, "approve", form,
                lambda: review.approve(rma, actor(), form.version.data),
                f"Return {reference} approved.")  # fmt: skip


@bp.route("/returns/<reference>/reject", methods=["POST"])
@role_required("manager", REVIEW_MANAGERS)
def reject(reference):
    rma, form = load_return(reference), f.RejectForm(prefix="reject")
    return _act(reference, "reject", form,
                lambda: review.reject(rma, actor(), form.reason.data, form.version.data),
                f"Return {reference} rejected; the shopper can read why.")  # fmt: skip


@bp.route("/returns/<reference>/cancel", methods=["POST"])
@role_required("manager", REVIEW_MANAGERS)
def cancel(reference):
    rma, form = load_return(reference), f.CancelForm(prefix="cancel")
    return _act(reference, "cancel", form,
                lambda: review.cancel(rma, actor(), form.reason.data, form.version.data),
                f"Return {reference} cancelled.")  # fmt: skip


@bp.route("/returns/<reference>/hold", methods=["POST"])
@staff_required
def hold(reference):
    rma, form = load_return(reference), f.HoldForm(prefix="hold")
    return _act(reference, "hold", form,
                lambda: review.hold(rma, actor(), form.note.data, form.version.data),
                f"Return {reference} is on hold.")  # fmt: skip


@bp.route("/returns/<reference>/resume", methods=["POST"])
@staff_required
def resume(reference):
    rma, form = load_return(reference), f.ActionForm(prefix="resume")
    return _act(reference, "resume", form,
                lambda: review.resume(rma, actor(), form.version.data),
                lambda r: f"Return {reference} resumed: {states.LABELS[r.status].lower()}.")  # fmt: skip


@bp.route("/returns/<reference>/assign", methods=["POST"])
@staff_required
def assign(reference):
    rma, form = load_return(reference), f.AssignForm(prefix="assign")
    form.responsible.choices = responsible_choices(active_staff())
    return _act(
        reference, "assign", form,
        lambda: review.assign_responsible(
            rma, actor(), int(form.responsible.data) if form.responsible.data else None,
            form.version.data),
        "Responsible staff member saved.",
    )  # fmt: skip


@bp.route("/returns/<reference>/notes", methods=["POST"])
@staff_required
def note(reference):
    rma, form = load_return(reference), f.NoteForm(prefix="note")
    return _act(reference, "note", form,
                lambda: review.add_internal_note(rma, actor(), form.text.data),
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
        lambda: receiving.receive(rma, actor(), receipts, form.version.data,
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
                lambda: inspection.inspect(rma, actor(), decisions, form.version.data),
                "Inspection saved.")  # fmt: skip


def _id(value):
    return int(value) if value and str(value).isdigit() else None


@bp.route("/returns/<reference>/restock", methods=["POST"])
@staff_required
def restock(reference):
    rma, form = load_return(reference), f.RestockForm(prefix="restock")
    locations = active_locations()
    form.location.choices = location_choices(locations, "sellable")
    form.quarantine_location.choices = location_choices(locations, "quarantine", "Nowhere")
    items = {row.line_id.data: (row.quantity.data or 0, row.quarantine.data or 0)
             for row in form.lines}  # fmt: skip
    units = sum(q for q, _ in items.values())
    return _act(
        reference, "restock", form,
        lambda: inspection.restock_lines(
            rma, actor(), items, _id(form.location.data), _id(form.quarantine_location.data),
            form.version.data),
        f"Restocked {units} unit(s)." if units else "Damaged units quarantined.",
    )  # fmt: skip


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
    if created[0].status == refund_states.AWAITING_APPROVAL:
        return f"Refund of {total} prepared; it waits for a second manager's approval."
    return f"Refund of {total} created; it is being sent."


@bp.route("/returns/<reference>/refund", methods=["POST"])
@role_required("manager", REFUND_MANAGERS)
def refund(reference):
    rma, form = load_return(reference), f.RefundForm(prefix="refund")
    inputs = refund_inputs(form)
    if form.preview.data:
        if not form.validate_on_submit():
            return render_page(rma, 422, {"refund": form}, inputs, error=first_error(form))
        return render_page(rma, 200, {"refund": form}, inputs, message="Refund recalculated.")
    if form.validate_on_submit() and not _confirmed(form, rma, inputs):
        # Nothing leaves on one tap: the amount per payment first, then "Confirm refund".
        try:
            preview = refunding.prepare_refund(rma, actor(), version=form.version.data,
                                               simulate=True, **inputs)  # fmt: skip
        except DomainError as exc:
            return render_page(rma, 422, {"refund": form}, inputs, error=str(exc))
        changed = bool(form.confirm_total.data)
        form.confirm_total.data = str(preview.total)
        return render_page(rma, 200, {"refund": form}, inputs, refund_preview=preview,
                           refund_changed=changed)  # fmt: skip
    return _act(reference, "refund", form,
                lambda: refunding.prepare_refund(rma, actor(), version=form.version.data,
                                                 **inputs),
                _refund_message, refund_inputs=inputs)  # fmt: skip


def _confirmed(form, rma, inputs):
    """Whether the manager confirmed this very total (a recalculated one asks again)."""
    wanted = (form.confirm_total.data or "").strip()
    if not wanted.isdigit():
        return False
    try:
        preview = refunding.prepare_refund(rma, actor(), version=form.version.data,
                                           simulate=True, **inputs)  # fmt: skip
    except DomainError:
        return True  # prepare_refund() itself says why, with nothing written
    return preview.total == int(wanted)


def _refund_of(rma, refund_id):
    refund = Refund.get_or_none((Refund.id == refund_id) & (Refund.rma == rma.id))
    if refund is None:
        abort(404)
    return refund


@bp.route("/returns/<reference>/refunds/<int:refund_id>/approve", methods=["POST"])
@role_required("manager", "Only managers can approve refunds.")
def approve_refund(reference, refund_id):
    rma, form = load_return(reference), f.ActionForm(prefix="refund_action")
    refund = _refund_of(rma, refund_id)
    return _act(reference, "refund_action", form,
                lambda: refunding.approve_refund(refund, actor(), form.version.data),
                "Refund approved; it is being sent.")  # fmt: skip


@bp.route("/returns/<reference>/refunds/<int:refund_id>/decline", methods=["POST"])
@role_required("manager", "Only managers can decline refunds.")
def decline_refund(reference, refund_id):
    rma, form = load_return(reference), f.RefundDeclineForm(prefix="decline_refund")
    refund = _refund_of(rma, refund_id)
    return _act(
        reference, "decline_refund", form,
        lambda: refunding.decline_refund(refund, actor(), form.reason.data, form.version.data),
        "Refund declined; the lines can be refunded again.",
    )  # fmt: skip


@bp.route("/returns/<reference>/refunds/<int:refund_id>/retry", methods=["POST"])
@role_required("manager", "Only managers can retry refunds.")
def retry_refund(reference, refund_id):
    rma, form = load_return(reference), f.ActionForm(prefix="refund_action")
    refund = _refund_of(rma, refund_id)
    new_key = refund_execution.failed_at_gateway(refund)
    return _act(reference, "refund_action", form,
                lambda: refund_execution.retry_refund(refund, actor()),
                "Refund queued again with a new idempotency key (the gateway failed the first)."
                if new_key else "Refund queued again with the same idempotency key.")  # fmt: skip


@bp.route("/returns/<reference>/refunds/<int:refund_id>/store-credit", methods=["POST"])
@role_required("manager", "Only managers can turn a refund into store credit.")
def refund_to_store_credit(reference, refund_id):
    rma, form = load_return(reference), f.ActionForm(prefix="refund_action")
    refund = _refund_of(rma, refund_id)
    return _act(reference, "refund_action", form,
                lambda: refund_execution.to_store_credit(refund, actor()),
                "The failed refund is now store credit; a worker records it.")  # fmt: skip


@bp.route("/returns/<reference>/extra-lines", methods=["POST"])
@role_required("manager", extras.MANAGERS)
def add_extra_line(reference):
    rma, form = load_return(reference), f.ExtraLineForm(prefix="extra")
    return _act(reference, "extra", form,
                lambda: extras.add_extra_line(rma, actor(), form.description.data,
                                              form.signed_cents, form.version.data),
                lambda line: f"Extra line “{line.description}” added.")  # fmt: skip


@bp.route("/returns/<reference>/extra-lines/<int:extra_id>/remove", methods=["POST"])
@role_required("manager", extras.MANAGERS)
def remove_extra_line(reference, extra_id):
    rma, form = load_return(reference), f.ActionForm(prefix="extra_remove")
    return _act(reference, "extra_remove", form,
                lambda: extras.remove_extra_line(rma, actor(), extra_id, form.version.data),
                "Extra line removed.")  # fmt: skip


def _exchange_of(rma, order_id):
    order = ExchangeOrder.get_or_none(
        (ExchangeOrder.id == order_id) & (ExchangeOrder.rma == rma.id)
    )
    if order is None:
        abort(404)
    return order


def ship_form(prefix, locations=None):
    """The posted ship form of an exchange order, its location choices set."""
    form = f.ShipForm(prefix=prefix)
    form.location.choices = location_choices(locations or active_locations(), "sellable")
    return form


def ship_call(order, form):
    return lambda: exchanges.ship(order, actor(), form.carrier.data, form.tracking_number.data,
                                  _id(form.location.data), form.version.data)  # fmt: skip


def pay_call(order, form):
    return lambda: exchanges.record_payment(order, actor(), form.method.data,
                                            form.reference.data, form.version.data)  # fmt: skip


@bp.route("/returns/<reference>/exchanges/<int:order_id>/ship", methods=["POST"])
@staff_required
def ship_exchange(reference, order_id):
    rma = load_return(reference)
    order = _exchange_of(rma, order_id)
    form = ship_form(f"ship{order.id}")
    return _act(reference, f"ship{order.id}", form, ship_call(order, form),
                lambda o: f"Exchange order {o.reference} shipped; the shopper is emailed the "
                          f"tracking number.")  # fmt: skip


@bp.route("/returns/<reference>/exchanges/<int:order_id>/payment", methods=["POST"])
@role_required("manager", exchanges.MANAGERS)
def record_exchange_payment(reference, order_id):
    rma = load_return(reference)
    order = _exchange_of(rma, order_id)
    form = f.ExchangePaymentForm(prefix=f"pay{order.id}")
    return _act(reference, f"pay{order.id}", form, pay_call(order, form),
                lambda o: f"Payment recorded: exchange order {o.reference} is ready to ship.")  # fmt: skip


@bp.route("/returns/<reference>/exchanges/<int:order_id>/delivered", methods=["POST"])
@staff_required
def exchange_delivered(reference, order_id):
    rma = load_return(reference)
    order = _exchange_of(rma, order_id)
    form = f.ActionForm(prefix=f"deliver{order.id}")
    return _act(reference, f"deliver{order.id}", form,
                lambda: exchanges.deliver(order, actor(), form.version.data),
                lambda o: f"Exchange order {o.reference} delivered.")  # fmt: skip


@bp.route("/returns/<reference>/finish", methods=["POST"])
@staff_required
def finish(reference):
    rma, form = load_return(reference), f.ActionForm(prefix="finish")
    return _act(reference, "finish", form,
                lambda: finishing.finish(rma, actor(), form.version.data),
                f"Return {reference} completed and locked.")  # fmt: skip

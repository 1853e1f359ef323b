"""Tracking: the shopper's returns, one return's status, timeline and next step, cancel, and the
return's photos (to its owner and to staff only)."""

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from portal.customer.access import requester, return_or_404, return_query, viewer_required
from portal.customer.forms import ActionForm
from portal.customer.views import bp
from portal.models import (
    OrderLine,
    Refund,
    Return,
    ReturnEvent,
    ReturnLine,
    ReturnPhoto,
    ReturnPolicy,
    ReturnReason,
)
from portal.pagination import page_number, paginate
from portal.returns import requests, states, timeline
from portal.returns.amounts import refund_for_return
from portal.returns.errors import DomainError
from portal.returns.money import format_money
from portal.uploads import photo_path

REFUND_WORDS = {
    "awaiting_approval": "being prepared",
    "pending": "on its way",
    "processing": "on its way",
    "succeeded": "sent",
    "failed": "delayed; we are on it",
}


@bp.route("/returns")
@viewer_required
def returns():
    """The shopper's returns (a guest: the returns of the order their link opened)."""
    query = return_query().order_by(Return.created_at.desc(), Return.id.desc())
    page = paginate(query, page_number(request.args.get("page")),
                    current_app.config["PER_PAGE"], ReturnLine)  # fmt: skip
    return render_template("customer/returns.html", page=page)


def _lines(rma):
    return list(
        ReturnLine.select(ReturnLine, OrderLine, ReturnReason)
        .join(OrderLine)
        .switch(ReturnLine)
        .join(ReturnReason)
        .where(ReturnLine.rma == rma.id)
        .order_by(ReturnLine.id)
    )


BREAKDOWN_PARTS = ("items", "restocking", "return_shipping", "shipping", "additional")


def refund_summary(refunds):
    """(breakdown summed over refund batches, {line_id: units refunded}) from the stored
    breakdowns (each batch is one or more Refund rows sharing a breakdown), or (None, {})."""
    batches = {}
    for refund in refunds:
        stored = refund.breakdown or {}
        batches.setdefault(stored.get("batch") or f"refund-{refund.id}", stored)
    if not batches:
        return None, {}
    summed = {
        part: sum(int(b.get(part) or 0) for b in batches.values()) for part in BREAKDOWN_PARTS
    }
    units = {}
    for stored in batches.values():
        for line_id, count in (stored.get("line_units") or {}).items():
            units[int(line_id)] = units.get(int(line_id), 0) + int(count)
    return summed, units


def what_next(rma, lines, refunds, policy, events=()):
    """What the shopper should expect or do now, in a few plain sentences."""
    requested = sum(ln.quantity for ln in lines)
    received = sum(ln.received_quantity for ln in lines)
    send = f"Send the parcel to {policy.return_address.replace(chr(10), ', ')} and write {rma.reference} on it."
    total = sum(r.amount for r in refunds)
    money = format_money(total, rma.currency)
    status = rma.status
    if status == states.REQUESTED:
        return ["We're reviewing your request and will email you once it's approved. "
                "Please don't send anything yet."]  # fmt: skip
    if status == states.APPROVED:
        steps = [send]
        if rma.target_date:
            steps.append(f"Please send it so that it reaches us by {rma.target_date:%d %b %Y}.")
        return steps
    if status == states.PARTIALLY_RECEIVED:
        return [f"We received {received} of {requested} items.",
                "Send the rest to " + send.removeprefix("Send the parcel to ")]  # fmt: skip
    if status == states.ON_HOLD:
        return ["Your return is on hold while we look into it. We'll email you when it moves on."]
    if status == states.REJECTED:
        reason = rma.rejection_reason or "no reason was given"
        return [f"We couldn't accept this return: {reason}"]
    if status == states.CANCELLED:
        again = "Its items can be returned again while their return window is open."
        last = next((e for e in reversed(events) if e.kind in ("cancelled", "expired")), None)
        payload = (last.payload or {}) if last else {}
        if last is not None and last.kind == "expired":
            return ["This return was cancelled because the parcel did not reach us in time.", again]
        if payload.get("by") == "staff" and payload.get("reason"):
            return [f"We cancelled this return: {payload['reason']}", again]
        return ["This return was cancelled.", again]
    steps = []
    if status == states.RECEIVED:
        steps.append(f"We received all {received} items.")
    if status == states.COMPLETED:
        steps.append("This return is complete.")
    if not refunds:
        if status == states.RECEIVED:
            steps.append("We're checking them and will refund you soon.")
    elif any(r.status == "failed" for r in refunds):
        steps.append(f"Your refund of {money} is delayed; we are on it.")
    elif all(r.status == "succeeded" for r in refunds):
        steps.append(f"We refunded {money}.")
    else:
        steps.append(f"Your refund of {money} is on its way.")
    return steps


def shopper_status(rma, refunds):
    """The status word a shopper reads: "Refunded" once every refund has gone through."""
    if refunds and all(r.status == "succeeded" for r in refunds) and rma.status in (
        states.PARTIALLY_RECEIVED, states.RECEIVED, states.COMPLETED
    ):  # fmt: skip
        return "Refunded"
    return states.LABELS.get(rma.status, rma.status)


@bp.route("/returns/<reference>")
@viewer_required
def return_detail(reference):
    """Status, the timeline in plain words, the lines, the refund, and what happens next."""
    rma = return_or_404(reference)
    policy = ReturnPolicy.current()
    lines = _lines(rma)
    photos = {}
    for photo in ReturnPhoto.select().where(ReturnPhoto.line.in_([ln.id for ln in lines])):
        photos.setdefault(photo.line_id, []).append(photo)
    events = list(
        ReturnEvent.select()
        .where(
            (ReturnEvent.rma == rma.id)
            & (ReturnEvent.internal == False)  # noqa: E712
            & ReturnEvent.kind.in_(list(timeline.SHOPPER_TEXT))
        )
        .order_by(ReturnEvent.created_at, ReturnEvent.id)
    )
    refunds = list(
        Refund.select()
        .where((Refund.rma == rma.id) & (Refund.status != "cancelled"))
        .order_by(Refund.id)
    )
    breakdown, refunded = refund_summary(refunds)
    estimate = None
    if not refunds and rma.status not in (states.REJECTED, states.CANCELLED):
        estimate = refund_for_return(rma, lines, {ln.id: ln.quantity for ln in lines})
    received = sum(ln.received_quantity for ln in lines)
    return render_template(
        "customer/return.html",
        rma=rma,
        order=rma.order,
        lines=lines,
        photos=photos,
        events=[(event, timeline.shopper_text(event)) for event in events],
        refunds=refunds,
        refund_words=REFUND_WORDS,
        breakdown=breakdown,
        estimate=estimate,
        steps=what_next(rma, lines, refunds, policy, events),
        status_label=shopper_status(rma, refunds),
        can_cancel=states.shopper_can_cancel(rma.status, received),
        cancel_form=ActionForm(),
        refunded=refunded,
        resolution=requests.SHOPPER_RESOLUTIONS.get(rma.resolution, rma.resolution),
    )


@bp.route("/returns/<reference>/cancel", methods=["POST"])
@viewer_required
def cancel_return(reference):
    """Cancel while requested or approved and nothing was received."""
    rma = return_or_404(reference)
    try:
        requests.cancel_return(rma, requester())
    except DomainError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Return {rma.reference} is cancelled. Its items can be returned again while "
              "their return window is open.", "success")  # fmt: skip
    return redirect(url_for("customer.return_detail", reference=reference), code=303)


@bp.route("/returns/<reference>/photos/<int:photo_id>")
@viewer_required
def return_photo(reference, photo_id):
    """A return's photo: to the shopper (or guest) who owns the return, and to staff."""
    if current_user.is_authenticated and current_user.is_staff:
        rma = Return.get_or_none(Return.reference == reference)
    else:
        rma = return_or_404(reference)
    photo = None
    if rma is not None:
        photo = (
            ReturnPhoto.select()
            .join(ReturnLine)
            .where((ReturnPhoto.id == photo_id) & (ReturnLine.rma == rma.id))
            .get_or_none()
        )
    path = photo and photo_path(current_app.config["UPLOAD_DIR"], photo.stored_name)
    if not path or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=photo.content_type, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response

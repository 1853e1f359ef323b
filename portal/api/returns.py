"""Returns: list, read, create, and one POST per action. Each action calls the domain function
the staff page calls (portal/returns: review, receiving, inspection, refunding, finishing) with
the key's account as the actor, and answers the whole return with its new `actions`: the next
actions from states.action_list(), the function behind the staff page's panel too."""

import datetime

from flask import url_for

from portal.api import bp
from portal.api.auth import actor
from portal.api.problems import ApiProblem
from portal.api.schemas import (
    CancelIn,
    EmailIn,
    HoldIn,
    InspectIn,
    ReceiveIn,
    RefundIn,
    RejectIn,
    RestockIn,
    ReturnIn,
    ReturnOut,
    ReturnPage,
    ReturnQuery,
    VersionIn,
)
from portal.api.spec import operation
from portal.models import InventoryLocation, Order, Return, ReturnPolicy, ReturnReason
from portal.returns import finishing, inspection, receiving, refunding, requests, review
from portal.returns.detail import return_detail

REFERENCE = {"type": "string", "minLength": 1, "maxLength": 100}
READ = ("returns:read",)
WRITE = ("returns:write",)
# The API call of each next action (states.action_list names); review is approve or reject.
CALLS = {
    "review": ("approve", "reject"),
    "receive": ("receive",),
    "inspect": ("inspect",),
    "restock": ("restock",),
    "refund": ("refund",),
    "finish": ("finish",),
    "hold": ("hold",),
    "resume": ("resume",),
    "cancel": ("cancel",),
}


def load(reference):
    rma = Return.select(Return, Order).join(Order).where(Return.reference == reference).first()
    if rma is None:
        raise ApiProblem(404, f"There is no return {reference}.")
    return rma


def _actions(reference, action_list):
    out = []
    for action in action_list:
        for call in CALLS.get(action.name, (None,)):
            path = url_for(f"api.{call}_return", reference=reference) if call else None
            out.append({"name": call or action.name, "step": action.name,
                        "line_ids": list(action.line_ids), "method": "POST" if call else None,
                        "path": path})  # fmt: skip
    return out


def return_out(rma):
    """The whole return: the same read model as the staff page (returns.detail)."""
    d = return_detail(rma)
    return ReturnOut(
        reference=d.rma.reference,
        status=d.rma.status,
        version=d.rma.version,
        kind=d.rma.kind,
        resolution=d.rma.resolution,
        order=d.order.number,
        email=d.rma.email,
        created_at=d.rma.created_at,
        updated_at=d.rma.updated_at,
        estimated_refund=d.rma.estimated_refund,
        lines=[
            {
                "id": line.id,
                "order_line_id": line.order_line_id,
                "sku": line.order_line.sku,
                "title": line.order_line.title,
                "reason": line.reason.code,
                "requested": line.quantity,
                "received": line.received_quantity,
                "damaged": line.damaged_quantity,
                "restocked": line.restocked_quantity,
                "refunded": d.covered.get(line.id, 0),
                "inspection": line.inspection,
            }
            for line, _ in d.rows
        ],
        refunds=[
            {"id": r.id, "amount": r.amount, "currency": r.currency, "method": r.method,
             "status": r.status, "last_error": r.last_error or "",
             "gateway_status": r.gateway_status, "gateway_reason": r.gateway_reason,
             "created_at": r.created_at}
            for r in d.refunds
        ],
        timeline=[
            {"kind": e.kind, "at": e.created_at, "internal": bool(e.internal),
             "actor": e.actor.display_name if e.actor_id and e.actor else None,
             "payload": e.payload or {}}
            for e in d.events
        ],
        actions=_actions(d.rma.reference, d.action_list),
        finish_blocker=d.finish_blocker,
    )  # fmt: skip


# --- reading ------------------------------------------------------------------------------------


@operation(bp, "GET", "/returns", summary="List returns", tag="returns", scopes=READ,
           query=ReturnQuery, response=ReturnPage,
           description="Oldest first by id; pass next_cursor back as `cursor` for the next "
                       "page.")  # fmt: skip
def list_returns(query):
    rows = Return.select(Return, Order).join(Order).order_by(Return.id)
    if query.status:
        rows = rows.where(Return.status == query.status)
    if query.order:
        rows = rows.where(Order.number == query.order)
    if query.email:
        rows = rows.where(Return.email == query.email.strip().lower())
    if query.updated_since:
        since = query.updated_since
        if since.tzinfo is not None:
            since = since.astimezone(datetime.UTC).replace(tzinfo=None)
        rows = rows.where(Return.updated_at >= since)
    if query.cursor:
        rows = rows.where(Return.id > query.cursor)
    page = list(rows.limit(query.limit + 1))
    more = len(page) > query.limit
    page = page[: query.limit]
    return ReturnPage(
        items=[{"id": r.id, "reference": r.reference, "status": r.status, "version": r.version,
                "order": r.order.number, "email": r.email, "created_at": r.created_at,
                "updated_at": r.updated_at} for r in page],
        next_cursor=page[-1].id if more else None,
    )  # fmt: skip


@operation(bp, "GET", "/returns/<reference>", summary="Read a return with its next actions",
           tag="returns", scopes=READ, response=ReturnOut,
           path_params={"reference": REFERENCE})  # fmt: skip
def get_return(reference):
    return return_out(load(reference))


# --- creating -----------------------------------------------------------------------------------


@operation(bp, "POST", "/returns", summary="Create a return", tag="returns", scopes=WRITE,
           body=ReturnIn, response=ReturnOut, status=201,
           description="on_behalf_of=shopper: the shopper's request as the storefront would "
                       "send it (the shopper's rules, auto-approval, the shopper is emailed); "
                       "staff: staff create it for the shopper.")  # fmt: skip
def create_return(body):
    order = Order.get_or_none(Order.number == body.order)
    if order is None:
        raise ApiProblem(422, f"There is no order {body.order}. Nothing was changed.",
                         [{"field": "order", "message": "no such order"}])  # fmt: skip
    codes = {line.reason for line in body.lines}
    reasons = {r.code: r.id for r in ReturnReason.select().where(ReturnReason.code.in_(codes))}
    missing = sorted(codes - set(reasons))
    if missing:
        raise ApiProblem(422, f"Unknown reason code: {', '.join(missing)}. Nothing was changed.",
                         [{"field": "lines.reason", "message": f"unknown: {c}"} for c in missing])  # fmt: skip
    lines = [(ln.order_line_id, ln.quantity, reasons[ln.reason], ln.note, (), None)
             for ln in body.lines]  # fmt: skip
    staff = actor() if body.on_behalf_of == "staff" else None
    rma = requests.request_return(order, order.customer, order.email, lines,
                                  resolution=body.resolution, shopper_note=body.note,
                                  staff=staff)  # fmt: skip
    return return_out(rma), 201


# --- one POST per action ------------------------------------------------------------------------


def action(name, body, summary, scopes=WRITE):
    """Declare POST /returns/{reference}/{name} answering the whole return."""
    return operation(bp, "POST", f"/returns/<reference>/{name}", summary=summary,
                     tag="return actions", scopes=scopes, body=body, response=ReturnOut,
                     versioned=True, path_params={"reference": REFERENCE})  # fmt: skip


@action("approve", VersionIn, "Approve a requested return")
def approve_return(reference, body, version):
    return return_out(review.approve(load(reference), actor(), version))


@action("reject", RejectIn, "Reject a requested return (the shopper reads the reason)")
def reject_return(reference, body, version):
    return return_out(review.reject(load(reference), actor(), body.reason, version))


@action("hold", HoldIn, "Put a return on hold")
def hold_return(reference, body, version):
    return return_out(review.hold(load(reference), actor(), body.note, version))


@action("resume", VersionIn, "Resume a return on hold")
def resume_return(reference, body, version):
    return return_out(review.resume(load(reference), actor(), version))


@action("cancel", CancelIn, "Cancel a return nothing was received on")
def cancel_return(reference, body, version):
    return return_out(review.cancel(load(reference), actor(), body.reason, version))


@action("receive", ReceiveIn, "Record what arrived (received, damaged, missing, wrong item)")
def receive_return(reference, body, version):
    receipts = {r.line_id: (r.received, r.damaged, r.missing, r.wrong_item, r.note)
                for r in body.lines}  # fmt: skip
    rma = receiving.receive(load(reference), actor(), receipts, version,
                            accept_on_receipt=body.accept_on_receipt)  # fmt: skip
    return return_out(rma)


@action("inspect", InspectIn, "Accept or reject received lines")
def inspect_return(reference, body, version):
    decisions = {d.line_id: (d.decision, d.note) for d in body.lines}
    return return_out(inspection.inspect(load(reference), actor(), decisions, version))


def _location_id(code):
    if not code:
        return None
    location = InventoryLocation.get_or_none(InventoryLocation.code == code.strip().upper())
    if location is None:
        raise ApiProblem(422, f"There is no location {code}. Nothing was changed.",
                         [{"field": "location", "message": "no such location"}])  # fmt: skip
    return location.id


@action("restock", RestockIn, "Restock accepted units (damaged ones only into quarantine)")
def restock_return(reference, body, version):
    rma = load(reference)
    items = {item.line_id: (item.quantity, item.quarantine) for item in body.lines}
    policy = ReturnPolicy.current()
    location = _location_id(body.location) or policy.default_location_id
    quarantine = _location_id(body.quarantine_location) or policy.default_quarantine_location_id
    return return_out(inspection.restock_lines(rma, actor(), items, location, quarantine,
                                               version))  # fmt: skip


@action("refund", RefundIn, "Prepare the refund of accepted units (sent by a worker)",
        scopes=("refunds:write",))  # fmt: skip
def refund_return(reference, body, version):
    overrides = {o.line_id: (o.amount, o.note) for o in body.overrides}
    refunding.prepare_refund(load(reference), actor(), refund_shipping=body.refund_shipping,
                             additional=body.additional, additional_note=body.additional_note,
                             overrides=overrides, store_credit=body.store_credit,
                             version=version)  # fmt: skip
    return return_out(load(reference))


@action("finish", VersionIn, "Finish a return: it is completed and locked")
def finish_return(reference, body, version):
    return return_out(finishing.finish(load(reference), actor(), version))


@action("send-email", EmailIn, "Email the shopper about their return")
def send_email_return(reference, body, version):
    rma = review.send_email(load(reference), actor(), body.subject, body.message, version)
    return return_out(rma)

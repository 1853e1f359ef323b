"""The printable documents of a return, as plain values for portal.documents to draw: the
label's data (the carrier renders it), the packing slip (what the parcel should contain), the
return report (lines, received and damaged, inspection, refunds with their breakdown, timeline)
and the credit note (the return invoice: its number, the amounts and taxes refunded). Reads
only; the views decide who may fetch which."""

from portal.documents import Sheet
from portal.documents.sheets import Section
from portal.models import Order, Refund, ReturnEvent, ReturnPolicy, User
from portal.returns import refund_states, states, timeline
from portal.returns.errors import NotFound
from portal.returns.facts import lines_of, refund_batches, refund_summary, refunded_units
from portal.returns.money import format_money

BREAKDOWN_WORDS = (
    ("items", "Items", 1),
    ("restocking", "Restocking fee", -1),
    ("return_shipping", "Return shipping", -1),
    ("shipping", "Original shipping refunded", 1),
    ("extra", "Extra lines", 1),
    ("additional", "Additional refund", 1),
)


def _when(value):
    return value.strftime("%d %b %Y %H:%M") if value else "—"


def _head(rma, order):
    facts = [("Order", f"#{order.number} · placed {order.placed_at:%d %b %Y}"),
             ("Shopper", rma.email), ("Requested", _when(rma.created_at)),
             ("Status", states.LABELS.get(rma.status, rma.status))]  # fmt: skip
    if rma.shipping_method_name:
        facts.append(("Return shipping", rma.shipping_method_name))
    if rma.tracking_number:
        facts.append(("Tracking", f"{rma.carrier} {rma.tracking_number}".strip()))
    return facts


def packing_slip(rma):
    """What the parcel should contain, for the person packing or unpacking it."""
    order = Order.get_by_id(rma.order_id)
    lines = lines_of(rma.id)
    rows = [(ln.order_line.sku, ln.order_line.title, ln.order_line.variant_text or "",
             ln.reason.label, ln.quantity) for ln in lines]  # fmt: skip
    policy = ReturnPolicy.current()
    return Sheet(
        "Packing slip", rma.reference,
        [*_head(rma, order), ("From", ", ".join(order.ship_address) or "—"),
         ("To", ", ".join(policy.return_address.splitlines()))],
        [Section("In this parcel", ("SKU", "Item", "Variant", "Reason", "Units"), rows,
                 numeric=(4,), total=("", "", "", "Total units", sum(r[4] for r in rows)))],
        footer=f"Scan the barcode above at the receiving desk to open {rma.reference}.",
    )  # fmt: skip


def _refund_sections(rma, refunds, batches, cur):
    summary = refund_summary(batches) or {}
    parts = [(word, ("−" if sign < 0 else "") + format_money(summary.get(key, 0), cur))
             for key, word, sign in BREAKDOWN_WORDS if summary.get(key)]  # fmt: skip
    rows = [(f"#{r.id}", r.method.replace("_", " "), format_money(r.amount, r.currency),
             refund_states.WORDS.get(r.status, r.status), r.gateway_reference or "",
             _when(r.settled_at)) for r in refunds]  # fmt: skip
    return [
        Section("Refund breakdown", ("Part", "Amount"), parts, numeric=(1,)),
        Section("Refunds", ("Refund", "To", "Amount", "Status", "Reference", "Settled"), rows,
                numeric=(2,)),
    ]  # fmt: skip


def return_report(rma):
    """The whole return on paper (InvenTree's report): lines, quantities, inspection, refunds
    with their breakdown, and the timeline (staff notes included: it is a staff document)."""
    order = Order.get_by_id(rma.order_id)
    lines = lines_of(rma.id)
    batches = refund_batches(rma.id)
    covered = refunded_units(batches)
    refunds = list(Refund.select().where(Refund.rma == rma.id).order_by(Refund.id))
    events = list(ReturnEvent.select().where(ReturnEvent.rma == rma.id)
                  .order_by(ReturnEvent.created_at, ReturnEvent.id))  # fmt: skip
    actors = {u.id: u.display_name for u in User.select().where(
        User.id.in_([e.actor_id for e in events if e.actor_id]))}  # fmt: skip
    line_rows = [(ln.order_line.sku, ln.order_line.title, ln.reason.label, ln.quantity,
                  ln.received_quantity, ln.damaged_quantity, ln.restocked_quantity,
                  ln.inspection + (f": {ln.inspection_note}" if ln.inspection_note else ""),
                  covered.get(ln.id, 0)) for ln in lines]  # fmt: skip
    event_rows = [(_when(e.created_at), actors.get(e.actor_id, "system"),
                   timeline.shopper_text(e) + (" (staff only)" if e.internal else ""),
                   _event_detail(e)) for e in events]  # fmt: skip
    return Sheet(
        "Return report", rma.reference, _head(rma, order),
        [Section("Lines", ("SKU", "Item", "Reason", "Req.", "Rec.", "Dmg.", "Restocked",
                           "Inspection", "Refunded"), line_rows, numeric=(3, 4, 5, 6, 8)),
         *_refund_sections(rma, refunds, batches, rma.currency),
         Section("Timeline", ("When", "Who", "What", "Details"), event_rows)],
    )  # fmt: skip


def _event_detail(event):
    payload = event.payload or {}
    for key in ("text", "reason", "note", "tracking_number", "number", "error"):
        if payload.get(key):
            return str(payload[key])[:200]
    if payload.get("units"):
        return f"{payload['units']} unit(s)"
    if payload.get("total") is not None and payload.get("currency"):
        return format_money(payload["total"], payload["currency"])
    return ""


def credit_note(rma):
    """The return invoice: its number (never a sale invoice's), what was refunded per line with
    the tax in it, and the refunds that succeeded. NotFound until one refund succeeded."""
    if not rma.return_invoice_number:
        raise NotFound("There is no credit note yet: it is issued when the refund is sent.")
    order = Order.get_by_id(rma.order_id)
    refunds = list(Refund.select().where((Refund.rma == rma.id)
                                         & (Refund.status == refund_states.SUCCEEDED)))  # fmt: skip
    batch_ids = {(r.breakdown or {}).get("batch") for r in refunds}
    batches = [b for b in refund_batches(rma.id) if b.get("batch") in batch_ids]
    units = refunded_units(batches)
    amounts = {}
    for batch in batches:
        for line_id, cents in (batch.get("line_amounts") or {}).items():
            amounts[int(line_id)] = amounts.get(int(line_id), 0) + int(cents)
    cur = rma.currency
    rows, tax = [], 0
    for ln in lines_of(rma.id):
        if not units.get(ln.id):
            continue
        line_tax = units[ln.id] * ln.order_line.unit_tax
        tax += line_tax
        rows.append((ln.order_line.sku, ln.order_line.title, units[ln.id],
                     format_money(ln.order_line.unit_price, cur),
                     format_money(ln.order_line.unit_tax, cur), format_money(line_tax, cur),
                     format_money(amounts.get(ln.id, 0), cur)))  # fmt: skip
    total = sum(r.amount for r in refunds)
    sale = sorted({ln.order_line.invoice_number for ln in lines_of(rma.id)
                   if ln.order_line.invoice_number})  # fmt: skip
    return Sheet(
        "Credit note", rma.reference,
        [("Return invoice", rma.return_invoice_number),
         ("Against sale invoice", ", ".join(sale) or "—"),
         ("Order", f"#{order.number}"), ("Customer", rma.email),
         ("Issued", _when(max((r.settled_at for r in refunds if r.settled_at), default=None))),
         ("Total refunded", format_money(total, cur)),
         ("Of which tax", format_money(tax, cur))],
        [Section("Lines refunded", ("SKU", "Item", "Units", "Unit price", "Unit tax", "Tax",
                                    "Refunded"), rows, numeric=(2, 3, 4, 5, 6),
                 total=("", "", "", "", "Tax", format_money(tax, cur), "")),
         *_refund_sections(rma, refunds, batches, cur)],
        footer="This credit note is the return invoice for the items above; its number differs "
               "from every sale invoice's.",
    )  # fmt: skip

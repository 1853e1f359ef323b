"""The printable documents of a return, as plain values for portal.documents to draw: the
label's data (the carrier renders it), the packing slip (what the parcel should contain), the
return report (lines, received and damaged, inspection, refunds with their breakdown, timeline)
and the credit note (the return invoice: its number, the amounts and taxes refunded). Reads
only; the views decide who may fetch which."""

from dataclasses import dataclass, field

from portal.documents import Section, Sheet
from portal.models import Order, Refund, ReturnEvent, ReturnPolicy, User
from portal.returns import refund_states, states, timeline
from portal.returns.errors import NotFound
from portal.returns.facts import lines_of, refund_batches, refund_summary, refunded_units
from portal.returns.marks import N_
from portal.returns.money import format_money


def _english_when(value):
    return value.strftime("%d %b %Y %H:%M") if value else "—"


@dataclass(frozen=True)
class Words:
    """How a document speaks: the web passes the page's language (portal/i18n.py)."""

    gettext: object = field(default=lambda text, **values: text % values if values else text)
    money: object = format_money  # (cents, currency) -> text
    when: object = _english_when  # datetime -> text
    day: object = lambda value: f"{value:%d %b %Y}"  # noqa: E731  date -> text
    reason: object = lambda reason: reason.label  # noqa: E731  the reason's label
    status: object = lambda status: states.LABELS.get(status, status)  # noqa: E731


ENGLISH = Words()
BREAKDOWN_WORDS = (
    ("items", N_("Items"), 1),
    ("restocking", N_("Restocking fee"), -1),
    ("return_shipping", N_("Return shipping"), -1),
    ("shipping", N_("Original shipping refunded"), 1),
    ("extra", N_("Extra lines"), 1),
    ("additional", N_("Additional refund"), 1),
)
REFUND_WORDS = {
    "awaiting_approval": N_("awaiting approval"),
    "pending": N_("pending"),
    "processing": N_("processing"),
    "succeeded": N_("succeeded"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
}


def _when(value, words=ENGLISH):
    return words.when(value) if value else "—"


def _sheet(words, title, rma, facts, sections, footer=""):
    _ = words.gettext
    return Sheet(title, rma.reference, facts, sections, footer=footer, none_text=_("None."),
                 page_text=_("page"))  # fmt: skip


def _head(rma, order, words=ENGLISH):
    _ = words.gettext
    facts = [(_("Order"), _("#%(number)s · placed %(day)s", number=order.number,
                            day=words.day(order.placed_at))),
             (_("Shopper"), rma.email), (_("Requested"), _when(rma.created_at, words)),
             (_("Status"), words.status(rma.status))]  # fmt: skip
    if rma.shipping_method_name:
        facts.append((_("Return shipping"), rma.shipping_method_name))
    if rma.tracking_number:
        facts.append((_("Tracking"), f"{rma.carrier} {rma.tracking_number}".strip()))
    return facts


def packing_slip(rma, words=ENGLISH):
    """What the parcel should contain, for the person packing or unpacking it."""
    _ = words.gettext
    order = Order.get_by_id(rma.order_id)
    lines = lines_of(rma.id)
    rows = [(ln.order_line.sku, ln.order_line.title, ln.order_line.variant_text or "",
             words.reason(ln.reason), ln.quantity) for ln in lines]  # fmt: skip
    policy = ReturnPolicy.current()
    return _sheet(
        words, _("Packing slip"), rma,
        [*_head(rma, order, words), (_("From"), ", ".join(order.ship_address) or "—"),
         (_("To"), ", ".join(policy.return_address.splitlines()))],
        [Section(_("In this parcel"), (_("SKU"), _("Item"), _("Variant"), _("Reason"),
                                       _("Units")), rows,
                 numeric=(4,), total=("", "", "", _("Total units"), sum(r[4] for r in rows)))],
        footer=_("Scan the barcode above at the receiving desk to open %(ref)s.",
                 ref=rma.reference),
    )  # fmt: skip


def _refund_sections(rma, refunds, batches, cur, words=ENGLISH):
    _ = words.gettext
    summary = refund_summary(batches) or {}
    parts = [(_(word), ("−" if sign < 0 else "") + words.money(summary.get(key, 0), cur))
             for key, word, sign in BREAKDOWN_WORDS if summary.get(key)]  # fmt: skip
    rows = [(f"#{r.id}", r.method.replace("_", " "), words.money(r.amount, r.currency),
             _(REFUND_WORDS[r.status]) if r.status in REFUND_WORDS else r.status,
             r.gateway_reference or "", _when(r.settled_at, words)) for r in refunds]  # fmt: skip
    return [
        Section(_("Refund breakdown"), (_("Part"), _("Amount")), parts, numeric=(1,)),
        Section(_("Refunds"), (_("Refund"), _("To"), _("Amount"), _("Status"), _("Reference"),
                               _("Settled")), rows, numeric=(2,)),
    ]  # fmt: skip


def return_report(rma, words=ENGLISH):
    """The whole return on paper (InvenTree's report): lines, quantities, inspection, refunds
    with their breakdown, and the timeline (staff notes included: it is a staff document)."""
    _ = words.gettext
    order = Order.get_by_id(rma.order_id)
    lines = lines_of(rma.id)
    batches = refund_batches(rma.id)
    covered = refunded_units(batches)
    refunds = list(Refund.select().where(Refund.rma == rma.id).order_by(Refund.id))
    events = list(ReturnEvent.select().where(ReturnEvent.rma == rma.id)
                  .order_by(ReturnEvent.created_at, ReturnEvent.id))  # fmt: skip
    actors = {u.id: u.display_name for u in User.select().where(
        User.id.in_([e.actor_id for e in events if e.actor_id]))}  # fmt: skip
    line_rows = [(ln.order_line.sku, ln.order_line.title, words.reason(ln.reason), ln.quantity,
                  ln.received_quantity, ln.damaged_quantity, ln.restocked_quantity,
                  ln.inspection + (f": {ln.inspection_note}" if ln.inspection_note else ""),
                  covered.get(ln.id, 0)) for ln in lines]  # fmt: skip
    event_rows = [(_when(e.created_at, words), actors.get(e.actor_id, _("system")),
                   timeline.shopper_text(e) + (_(" (staff only)") if e.internal else ""),
                   _event_detail(e, words)) for e in events]  # fmt: skip
    return _sheet(
        words, _("Return report"), rma, _head(rma, order, words),
        [Section(_("Lines"), (_("SKU"), _("Item"), _("Reason"), _("Req."), _("Rec."),
                              _("Dmg."), _("Restocked"), _("Inspection"), _("Refunded")),
                 line_rows, numeric=(3, 4, 5, 6, 8)),
         *_refund_sections(rma, refunds, batches, rma.currency, words),
         Section(_("Timeline"), (_("When"), _("Who"), _("What"), _("Details")), event_rows)],
    )  # fmt: skip


def _event_detail(event, words=ENGLISH):
    payload = event.payload or {}
    for key in ("text", "reason", "note", "tracking_number", "number", "error"):
        if payload.get(key):
            return str(payload[key])[:200]
    if payload.get("units"):
        return words.gettext("%(units)s unit(s)", units=payload["units"])
    if payload.get("total") is not None and payload.get("currency"):
        return words.money(payload["total"], payload["currency"])
    return ""


def credit_note(rma, words=ENGLISH):
    """The return invoice: its number (never a sale invoice's), what was refunded per line with
    the tax in it, and the refunds that succeeded. NotFound until one refund succeeded."""
    _ = words.gettext
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
                     words.money(ln.order_line.unit_price, cur),
                     words.money(ln.order_line.unit_tax, cur), words.money(line_tax, cur),
                     words.money(amounts.get(ln.id, 0), cur)))  # fmt: skip
    total = sum(r.amount for r in refunds)
    sale = sorted({ln.order_line.invoice_number for ln in lines_of(rma.id)
                   if ln.order_line.invoice_number})  # fmt: skip
    issued = max((r.settled_at for r in refunds if r.settled_at), default=None)
    return _sheet(
        words, _("Credit note"), rma,
        [(_("Return invoice"), rma.return_invoice_number),
         (_("Against sale invoice"), ", ".join(sale) or "—"),
         (_("Order"), f"#{order.number}"), (_("Customer"), rma.email),
         (_("Issued"), _when(issued, words)),
         (_("Total refunded"), words.money(total, cur)),
         (_("Of which tax"), words.money(tax, cur))],
        [Section(_("Lines refunded"), (_("SKU"), _("Item"), _("Units"), _("Unit price"),
                                       _("Unit tax"), _("Tax"), _("Refunded")), rows,
                 numeric=(2, 3, 4, 5, 6),
                 total=("", "", "", "", _("Tax"), words.money(tax, cur), "")),
         *_refund_sections(rma, refunds, batches, cur, words)],
        footer=_("This credit note is the return invoice for the items above; its number "
                 "differs from every sale invoice's."),
    )  # fmt: skip

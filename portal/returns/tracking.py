"""What a shopper's tracking page shows about one return: the status in their words, the
timeline events they may read, the lines with units refunded, the refund (or the estimate
before there is one), and what happens next. One function, tracking_page(); the view renders
what it returns."""

from dataclasses import dataclass

from portal.models import (
    ExchangeOrder,
    OrderLine,
    Refund,
    ReturnEvent,
    ReturnLabel,
    ReturnLine,
    ReturnPhoto,
    ReturnPolicy,
)
from portal.prebuilt import prebuilt_models, prebuilt_together_rows
from portal.returns import (
    exchange_states,
    exchanges,
    extras,
    refund_states,
    requests,
    shipping,
    shopper_words,
    states,
    timeline,
)
from portal.returns.amounts import known_from, known_queries, refund_for_return
from portal.returns.facts import lines_query, refund_batches, refund_summary, refunded_units
from portal.returns.marks import N_, Money, Phrase

REFUND_WORDS = {
    refund_states.AWAITING_APPROVAL: N_("being prepared"),
    refund_states.PENDING: N_("on its way"),
    refund_states.PROCESSING: N_("on its way"),
    refund_states.SUCCEEDED: N_("sent"),
    refund_states.FAILED: N_("delayed; we are on it"),
}


@dataclass
class Tracking:
    rma: object
    order: object
    lines: list  # ReturnLines with order line and reason
    photos: dict  # {line_id: [ReturnPhoto]}
    events: list  # [(ReturnEvent, text for the shopper)]
    refunds: list  # Refund rows, not cancelled
    refunded: dict  # {line_id: units refunded}
    breakdown: dict | None  # the refund's parts summed over its batches, once there is one
    estimate: object  # refund_calc.RefundBreakdown before any refund, else None
    steps: list  # what happens next, in a few sentences
    status_label: str
    can_cancel: bool
    resolution: str
    extra_lines: list  # ReturnExtraLine: fees charged and credits, as staff added them
    bundles: dict  # {order_line_id: the bundle's OrderLine} for lines that are a bundle's part
    shipments: list  # ExchangeOrder (with .items), the replacements' parcels, not cancelled
    label: object = None  # the ReturnLabel (without its PDF) once the carrier made it
    inbound: str = ""  # the carrier's last word on the parcel ("Parcel in transit to us")
    timezone: str = "UTC"  # the store's: times are shown in it, with the zone named

    @property
    def what(self):
        return shopper_words.what(self.rma)

    @property
    def can_add_tracking(self):
        """A shopper shipping it themselves tells us the carrier and tracking number."""
        return self.rma.status in states.RECEIVING and not shipping.needs_label(self.rma)

    @property
    def shows_qr(self):
        return self.rma.shipping_method_kind == "qr_dropoff" and self.rma.status in states.RECEIVING

    @property
    def claim(self):
        return self.rma.kind == "claim"

    @property
    def swaps(self):
        """The lines that get a replacement instead of money."""
        return [ln for ln in self.lines if ln.swap is not None]

    @property
    def amount_due(self):
        """What the shopper still has to pay before a replacement ships."""
        waiting = exchange_states.AWAITING_PAYMENT
        if self.shipments:
            return sum(s.amount_due for s in self.shipments if s.status == waiting)
        return sum(ln.swap.due for ln in self.swaps)

    def shipment_word(self, shipment):
        return exchange_states.LABELS.get(shipment.status, shipment.status)

    @property
    def rejected(self):
        """Lines not accepted at inspection, with the reason the shopper reads."""
        return [ln for ln in self.lines if ln.inspection == "rejected"]

    @property
    def refund_total(self):
        return sum(r.amount for r in self.refunds)

    def refund_word(self, refund):
        return REFUND_WORDS.get(refund.status, refund.status.replace("_", " "))


def _how_to_send(rma, address, label):
    """The sentence that says how the parcel comes back, by the return's shipping method."""
    kind = rma.shipping_method_kind
    if kind == "prepaid_label" and label is not None:
        return N_("Print your return label (below), stick it on the parcel and drop it off with "
                  "%(carrier)s. It goes to %(address)s.", carrier=label.carrier,
                  address=address)  # fmt: skip
    if kind == "qr_dropoff" and label is not None:
        return N_("Show the QR code below at a drop-off point. The parcel goes to %(address)s.",
                  address=address)  # fmt: skip
    if kind in shipping.LABEL_KINDS:
        return N_("Your return label is being prepared: it appears on this page in a moment.")
    return N_("Send the parcel to %(address)s and write %(reference)s on it.", address=address,
              reference=rma.reference)  # fmt: skip


def _exchange_steps(rma, lines, shipments):
    """What the shopper reads about their exchange or replacement, if the return has one."""
    swaps = [ln for ln in lines if getattr(ln, "swap", None) is not None]
    if not swaps or rma.status in (states.REJECTED, states.CANCELLED):
        return []
    claim = rma.kind == "claim"
    waiting = [s for s in shipments if s.status == exchange_states.AWAITING_PAYMENT]
    sent = [s for s in shipments if s.status in exchange_states.SENT]
    if waiting:
        due = Money(sum(s.amount_due for s in waiting), rma.currency)
        if claim:
            return [N_("Your replacement costs %(due)s more than you paid: we'll contact you to "
                       "pay it, and it ships once it is paid.", due=due)]  # fmt: skip
        return [N_("Your exchange costs %(due)s more than you paid: we'll contact you to pay it, "
                   "and it ships once it is paid.", due=due)]  # fmt: skip
    if sent:
        last = sent[-1]
        if claim:
            return [N_("Your replacement is on its way with %(carrier)s, tracking number "
                       "%(number)s.", carrier=last.carrier, number=last.tracking_number)]  # fmt: skip
        return [N_("Your exchange is on its way with %(carrier)s, tracking number %(number)s.",
                   carrier=last.carrier, number=last.tracking_number)]  # fmt: skip
    if shipments:
        if claim:
            return [N_("Your replacement is being packed and ships soon.")]
        return [N_("Your exchange is being packed and ships soon.")]
    due = sum(ln.swap.due for ln in swaps)
    if claim:
        steps = [N_("Your replacement ships once we've received and checked your item.")]
    else:
        steps = [N_("Your exchange ships once we've received and checked your item.")]
    if due:
        steps.append(N_("It costs %(due)s more than you paid; we'll contact you to pay it.",
                        due=Money(due, rma.currency)))  # fmt: skip
    return steps


def what_next(rma, lines, refunds, policy, events=(), label=None, shipments=()):
    """What the shopper should expect or do now, in a few plain sentences (N_ phrases: the
    page says them in the shopper's language)."""
    steps = _what_next(rma, lines, refunds, policy, events, label)
    return steps + _exchange_steps(rma, lines, shipments)


def _what_next(rma, lines, refunds, policy, events=(), label=None):
    requested = sum(ln.quantity for ln in lines if not ln.kept)
    received = sum(ln.received_quantity for ln in lines if not ln.kept)
    kept = [ln for ln in lines if ln.kept]
    address = policy.return_address.replace(chr(10), ", ")
    send = _how_to_send(rma, address, label)
    money = Money(sum(r.amount for r in refunds), rma.currency)
    status = rma.status
    if status == states.REQUESTED:
        if kept and not requested:
            return [N_("We're reviewing your claim and will email you once it's approved. There "
                       "is nothing to send back.")]  # fmt: skip
        return [N_("We're reviewing your request and will email you once it's approved. "
                   "Please don't send anything yet.")]  # fmt: skip
    if status == states.APPROVED:
        steps = [send]
        if rma.target_date:
            steps.append(N_("Please send it so that it reaches us by %(day)s.",
                            day=rma.target_date))  # fmt: skip
        return steps
    if status == states.PARTIALLY_RECEIVED:
        if send.startswith("Send the parcel"):
            rest = N_("Send the rest to %(address)s and write %(reference)s on it.",
                      address=address, reference=rma.reference)  # fmt: skip
        else:
            rest = N_("Send the rest the same way: %(how)s", how=send)
        return [N_("We received %(received)s of %(requested)s items.", received=received,
                   requested=requested), rest]  # fmt: skip
    if status == states.ON_HOLD:
        return [N_("Your return is on hold while we look into it. We'll email you when it "
                   "moves on.")]  # fmt: skip
    if status == states.REJECTED:
        if rma.rejection_reason:
            return [N_("We couldn't accept this return: %(reason)s", reason=rma.rejection_reason)]
        return [N_("We couldn't accept this return: %(reason)s",
                   reason=Phrase(N_("no reason was given"), {}))]  # fmt: skip
    if status == states.CANCELLED:
        return _cancelled(events)
    steps = []
    if status == states.RECEIVED:
        if requested:
            steps.append(N_("We received all %(count)s items.", count=received))
        else:
            steps.append(N_("No need to send anything back: your claim is accepted."))
    if status == states.COMPLETED:
        steps.append(N_("This return is complete."))
    statuses = {r.status for r in refunds}
    swaps_only = all(getattr(ln, "swap", None) is not None for ln in lines)
    if not refunds:
        if status == states.RECEIVED and not swaps_only:
            steps.append(N_("We're checking them and will refund you soon."))
    elif refund_states.FAILED in statuses:
        steps.append(N_("Your refund of %(amount)s is delayed; we are on it.", amount=money))
    elif statuses == {refund_states.SUCCEEDED}:
        steps.append(N_("We refunded %(amount)s.", amount=money))
    else:
        steps.append(N_("Your refund of %(amount)s is on its way.", amount=money))
    return steps


def _cancelled(events):
    again = N_("Its items can be returned again while their return window is open.")
    last = next((e for e in reversed(events) if e.kind in ("cancelled", "expired")), None)
    payload = (last.payload or {}) if last else {}
    if last is not None and last.kind == "expired":
        return [N_("This return was cancelled because the parcel did not reach us in time."),
                again]  # fmt: skip
    if payload.get("by") == "staff" and payload.get("reason"):
        return [N_("We cancelled this return: %(reason)s", reason=payload["reason"]), again]
    return [N_("This return was cancelled."), again]


BATCH_KINDS = ("refund_created", "refund_declined")


def _page_queries(rma_id, order_id):
    """Everything tracking_page() reads beside the lines: one statement, of a fixed shape."""
    line_ids = ReturnLine.select(ReturnLine.id).where(ReturnLine.rma == rma_id)
    bundle_ids = (
        ReturnLine.select(OrderLine.bundle)
        .join(OrderLine)
        .where((ReturnLine.rma == rma_id) & OrderLine.bundle.is_null(False))
    )
    known, captured = known_queries(rma_id, order_id)
    return [
        ReturnPolicy.select().where(ReturnPolicy.id == 1),
        ReturnPhoto.select().where(ReturnPhoto.line.in_(line_ids)).order_by(ReturnPhoto.id),
        ReturnEvent.select()
        .where(
            (ReturnEvent.rma == rma_id)
            & (((ReturnEvent.internal == False)  # noqa: E712
                & ReturnEvent.kind.in_(list(shopper_words.TIMELINE)))
               | ReturnEvent.kind.in_(BATCH_KINDS))
        )
        .order_by(ReturnEvent.created_at, ReturnEvent.id),
        Refund.select()
        .where((Refund.rma == rma_id) & (Refund.status != refund_states.CANCELLED))
        .order_by(Refund.id),
        ReturnLabel.select(ReturnLabel.id, ReturnLabel.carrier, ReturnLabel.tracking_number,
                           ReturnLabel.created_at)
        .where(ReturnLabel.rma == rma_id)
        .order_by(ReturnLabel.id)
        .limit(1),
        extras.extra_lines_query(rma_id),
        ExchangeOrder.select().where(ExchangeOrder.rma == rma_id).order_by(ExchangeOrder.id),
        OrderLine.select().where(OrderLine.id.in_(bundle_ids)),
        *known,
    ], captured  # fmt: skip


def _page_queries_without_policy(rma_id, order_id):
    queries, captured = _page_queries(rma_id, order_id)
    return queries[1:], captured


def tracking_page(rma, policy=None):
    """Everything the shopper's page of `rma` shows (the caller checked they may see it): its
    lines, then everything else in one statement (portal.prebuilt.rows_together). `policy`: the
    store's policy already at hand (portal.returns.pickers.return_policy), else it is read in
    that statement."""
    lines = prebuilt_models("tracking:lines", lines_query, rma_id=rma.id)
    if policy is None:
        policies, *rows = prebuilt_together_rows(
            "tracking-page-rows", _page_queries, rma_id=rma.id, order_id=rma.order_id
        )
        policy = policies[0] if policies else ReturnPolicy.current()
    else:
        rows = prebuilt_together_rows("tracking-page-rows:policy-given", _page_queries_without_policy,
                                 rma_id=rma.id, order_id=rma.order_id)  # fmt: skip
    (photo_rows, all_events, refunds, labels, extra_lines, exchange_orders, bundle_rows,
     *known_rows) = rows  # fmt: skip
    photos = {}
    for photo in photo_rows:
        photos.setdefault(photo.line_id, []).append(photo)
    events = [e for e in all_events
              if not e.internal and e.kind in shopper_words.TIMELINE]  # fmt: skip
    batches = refund_batches(
        rma.id, events=sorted((e for e in all_events if e.kind in BATCH_KINDS), key=lambda e: e.id)
    )
    estimate = None
    if not batches and rma.status not in (states.REJECTED, states.CANCELLED):
        pending = sum(x.amount for x in extra_lines if not x.refund_batch)
        estimate = refund_for_return(rma, lines, {ln.id: ln.quantity for ln in lines},
                                     extra=pending, known=known_from(rma, *known_rows))  # fmt: skip
        if estimate.total == 0 and all(ln.swap is not None for ln in lines):
            estimate = None  # replacements only, nothing coming back as money
    received = sum(ln.received_quantity for ln in lines if not ln.kept)
    label = labels[0] if labels else None
    inbound = next((timeline.shopper_text(e) for e in reversed(events)
                    if e.kind in shipping.INBOUND.values()), "")  # fmt: skip
    shipments = []
    if any(ln.swap is not None for ln in lines):
        shipments = [s for s in exchanges.with_items(exchange_orders)
                     if s.status != exchange_states.CANCELLED]  # fmt: skip
    bundle_lines = {b.id: b for b in bundle_rows}
    return Tracking(
        rma=rma,
        order=rma.order,
        lines=lines,
        photos=photos,
        events=[(event, timeline.shopper_text(event)) for event in events],
        refunds=refunds,
        refunded=dict(refunded_units(batches)),
        breakdown=refund_summary(batches),
        estimate=estimate,
        steps=what_next(rma, lines, refunds, policy, events, label, shipments),
        status_label=shopper_words.status_word(
            rma, [r.status for r in refunds], [s.status for s in shipments]
        ),  # fmt: skip
        timezone=policy.timezone or "UTC",
        can_cancel=states.shopper_can_cancel(rma.status, received),
        resolution=requests.SHOPPER_RESOLUTIONS.get(rma.resolution, rma.resolution),
        extra_lines=extra_lines,
        bundles={
            ln.order_line.id: bundle_lines[ln.order_line.bundle_id]
            for ln in lines
            if ln.order_line.bundle_id in bundle_lines
        },  # fmt: skip
        label=label,
        inbound=inbound,
        shipments=shipments,
    )

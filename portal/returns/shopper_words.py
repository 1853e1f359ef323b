"""The words a shopper reads about a return: one name per status, the same on the tracking
page, My returns, the order page and in the emails; which timeline events they see (what they
care about: requested, approved, label ready, in transit, received, refunded, completed, and
what stops it), and moments in the store's time zone with the zone named."""

import datetime

from portal.models import ExchangeOrder, Refund
from portal.returns import exchange_states, refund_states, states
from portal.returns.eligibility import zone
from portal.returns.marks import N_

STATUS = {
    states.REQUESTED: N_("Requested"),
    states.APPROVED: N_("Approved"),
    states.PARTIALLY_RECEIVED: N_("Partly received"),
    states.RECEIVED: N_("Received"),
    states.COMPLETED: N_("Completed"),
    states.REJECTED: N_("Rejected"),
    states.CANCELLED: N_("Cancelled"),
    states.ON_HOLD: N_("On hold"),
}
REFUNDED = N_("Refunded")
SENT = {  # (a claim's replacement, delivered) -> the word
    (False, False): N_("Exchange shipped"),
    (False, True): N_("Exchange delivered"),
    (True, False): N_("Replacement shipped"),
    (True, True): N_("Replacement delivered"),
}
AFTER_ARRIVAL = (states.PARTIALLY_RECEIVED, states.RECEIVED, states.COMPLETED)

# The timeline events a shopper reads (portal.returns.timeline has their words); staff's
# working steps (inspected, restocked, a refund prepared, extra lines, units released, a credit
# note) stay on the staff page.
TIMELINE = (
    "requested", "approved", "rejected", "cancelled", "expired", "on_hold", "resumed",
    "label_created", "tracking_added", "carrier_in_transit", "carrier_delivered", "received",
    "refund_succeeded", "refund_failed", "refund_reversed", "completed",
    "exchange_created", "exchange_paid", "exchange_shipped", "exchange_delivered",
)  # fmt: skip


def what(rma):
    """What the shopper calls this return."""
    return {"claim": N_("Claim"), "withdrawal": N_("Withdrawal")}.get(rma.kind, N_("Return"))


def status_word(rma, refund_statuses=(), shipment_statuses=()):
    """The one status word for `rma`: "Refunded" once every refund has gone through after
    items arrived, "Exchange shipped" / "delivered" (a claim's: "Replacement ...") once the
    replacements are on their way and nothing else is waiting, else the status's name."""
    refund_statuses = [s for s in refund_statuses if s != refund_states.CANCELLED]
    shipment_statuses = [s for s in shipment_statuses if s != exchange_states.CANCELLED]
    settled = bool(refund_statuses) and all(s == refund_states.SUCCEEDED for s in refund_statuses)
    sent = bool(shipment_statuses) and all(s in exchange_states.SENT for s in shipment_statuses)
    if (
        sent
        and rma.status in (*AFTER_ARRIVAL, states.APPROVED)
        and (settled or not refund_statuses)
    ):
        delivered = all(s == exchange_states.DELIVERED for s in shipment_statuses)
        return SENT[(rma.kind == "claim", delivered)]
    if settled and rma.status in AFTER_ARRIVAL:
        return REFUNDED
    return STATUS.get(rma.status, rma.status.replace("_", " ").capitalize())


def status_words(rmas):
    """{return id: status word} for a page of returns, in two queries whatever their number."""
    ids = [rma.id for rma in rmas]
    refunds, shipments = {}, {}
    if ids:
        for row in Refund.select(Refund.rma, Refund.status).where(Refund.rma.in_(ids)):
            refunds.setdefault(row.rma_id, []).append(row.status)
        query = ExchangeOrder.select(ExchangeOrder.rma, ExchangeOrder.status)
        for row in query.where(ExchangeOrder.rma.in_(ids)):
            shipments.setdefault(row.rma_id, []).append(row.status)
    return {rma.id: status_word(rma, refunds.get(rma.id, ()), shipments.get(rma.id, ()))
            for rma in rmas}  # fmt: skip


def moment(at, timezone="UTC"):
    """'1 December 2026, 12:40 CET (UTC+01:00)': `at` (naive UTC) in the store's time zone."""
    if at is None:
        return ""
    local = at.replace(tzinfo=datetime.UTC).astimezone(zone(timezone or "UTC"))
    offset = local.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}"
    name = local.tzname() or offset
    text = f"{local.day} {local:%B %Y}, {local:%H:%M} {name}"
    return text if name in (offset, "UTC") else f"{text} ({offset})"

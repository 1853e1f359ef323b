"""The life of an exchange order (the outbound shipment of a return's replacements): its
statuses, the transitions between them, and move(), the one place that writes its status (a
compare-and-set, and the event on the return's timeline, in the caller's transaction).

awaiting_payment -pay-> ready -ship-> shipped -deliver-> delivered
awaiting_payment / ready -cancel-> cancelled   (the return ended without it, or its line was
                                                rejected at inspection before it shipped)
"""

from portal.models import ExchangeOrder
from portal.returns import timeline, webhook_events
from portal.returns.errors import Conflict, InvalidTransition
from portal.returns.marks import N_

AWAITING_PAYMENT = "awaiting_payment"
READY = "ready"
SHIPPED = "shipped"
DELIVERED = "delivered"
CANCELLED = "cancelled"
STATUSES = (AWAITING_PAYMENT, READY, SHIPPED, DELIVERED, CANCELLED)
OPEN = (AWAITING_PAYMENT, READY)  # not shipped yet: its units are still held in stock
SENT = (SHIPPED, DELIVERED)

LABELS = {
    AWAITING_PAYMENT: N_("Awaiting payment"),
    READY: N_("Ready to ship"),
    SHIPPED: N_("Shipped"),
    DELIVERED: N_("Delivered"),
    CANCELLED: N_("Cancelled"),
}

TRANSITIONS = {
    (AWAITING_PAYMENT, "pay"): READY,
    (READY, "ship"): SHIPPED,
    (SHIPPED, "deliver"): DELIVERED,
    (AWAITING_PAYMENT, "cancel"): CANCELLED,
    (READY, "cancel"): CANCELLED,
}

# The event each move writes on the return's timeline, and whether only staff see it.
EVENT_KINDS = {
    "pay": ("exchange_paid", False),
    "ship": ("exchange_shipped", False),
    "deliver": ("exchange_delivered", False),
    "cancel": ("exchange_cancelled", True),
}

VERBS = {"pay": "paid", "ship": "shipped", "deliver": "marked delivered", "cancel": "cancelled"}


def next_status(status, event):
    target = TRANSITIONS.get((status, event))
    if target is None:
        raise InvalidTransition(
            f"An exchange order that is {LABELS.get(status, status).lower()} can't be "
            f"{VERBS.get(event, event)}."
        )
    return target


def move(order, event, rma, actor=None, payload=None, **changes):
    """Move `order` by `event` (compare-and-set on the status it was read with) and write the
    event on `rma`'s timeline. Raises Conflict when it had moved on meanwhile."""
    target = next_status(order.status, event)
    rows = (
        ExchangeOrder.update(status=target, **changes)
        .where((ExchangeOrder.id == order.id) & (ExchangeOrder.status == order.status))
        .execute()
    )
    if rows != 1:
        raise Conflict("Someone else changed this exchange order a moment ago: check it again.")
    order.status = target
    for name, value in changes.items():
        setattr(order, name, value)
    kind, internal = EVENT_KINDS[event]
    recorded = timeline.record(rma, kind, actor, internal=internal, exchange_order=order.reference,
                               exchange_order_id=order.id, what=what(rma),
                               **(payload or {}))  # fmt: skip
    if event == "ship":
        webhook_events.emit("exchange.shipped", rma, recorded, exchange_order={
            "reference": order.reference, "status": order.status, "carrier": order.carrier,
            "tracking_number": order.tracking_number,
        })  # fmt: skip
    return recorded


def what(rma):
    """What a return's replacements are called: a claim's are replacements."""
    return "replacement" if rma.kind == "claim" else "exchange"

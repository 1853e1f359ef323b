"""Webhooks out (issue 12): the events the portal tells shops about, written as one outbox
message per subscribed, active endpoint IN THE SAME TRANSACTION as the change behind them.

Each change is hooked at the one place that writes it: a return's status in
transitions.transition() (and its creation in requests), a refund's in refund_states.move(), an
exchange order's in exchange_states.move(). The event's id is stable (made from the timeline
event the change wrote), so a redelivery carries the same `webhook-id` and a receiver can drop
a copy it has already seen. The payload is {type, timestamp, data: {return: {...}, ...}}.

The message's dedupe key starts with the endpoint and the return ("webhook:<endpoint>:<return>:"),
so delivery can hold a return's newer events back until its older ones are done (order per
return)."""

from portal.models import Order, Return, WebhookEndpoint
from portal.outbox.messages import enqueue
from portal.prebuilt import prebuilt_rows

# Every event an endpoint can subscribe to, with the words the admin page shows.
TYPES = {
    "return.requested": "A return was requested",
    "return.approved": "A return was approved",
    "return.rejected": "A return was rejected",
    "return.received": "Items of a return were received",
    "return.refunded": "A return's refunds all went through",
    "return.completed": "A return was completed",
    "return.cancelled": "A return was cancelled",
    "return.expired": "A return expired (never sent back)",
    "refund.succeeded": "A refund succeeded",
    "refund.failed": "A refund failed (also when the gateway fails it later)",
    "exchange.shipped": "An exchange's replacement was shipped",
}

# A return's timeline event kind -> the webhook event it is.
RETURN_EVENTS = {
    "requested": "return.requested",
    "approved": "return.approved",
    "rejected": "return.rejected",
    "received": "return.received",
    "completed": "return.completed",
    "cancelled": "return.cancelled",
    "expired": "return.expired",
}


def _active():
    return WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
        WebhookEndpoint.active == True  # noqa: E712
    )


def active_endpoints():
    """The active endpoints with the events they asked for (one query, built once per
    process: every change of a return or refund asks; the list is short)."""
    return prebuilt_rows("webhook-endpoints-active", _active)


def subscribed(event_type, endpoints=None):
    """The active endpoints that asked for `event_type` (of `endpoints`, active_endpoints()
    read once for several events of one change; else one query)."""
    if endpoints is None:
        endpoints = active_endpoints()
    return [e for e in endpoints if event_type in (e.event_types or [])]


def return_summary(rma):
    """What every event says about its return."""
    order = Order.select(Order.number).where(Order.id == rma.order_id).first()
    return {
        "reference": rma.reference,
        "status": rma.status,
        "kind": rma.kind,
        "resolution": rma.resolution,
        "order_number": order.number if order else None,
        "email": rma.email,
        "currency": rma.currency,
        "estimated_refund": rma.estimated_refund,
        "version": rma.version,
        "created_at": _iso(rma.created_at),
        "updated_at": _iso(rma.updated_at),
    }


def refund_summary(refund):
    return {
        "id": refund.id,
        "status": refund.status,
        "amount": refund.amount,
        "currency": refund.currency,
        "method": refund.method,
        "gateway_reference": refund.gateway_reference,
        "gateway_status": refund.gateway_status or None,
        "reason": refund.gateway_reason or refund.last_error or None,
    }


def emit(event_type, rma, source_event, suffix="", endpoints=None, **data):
    """Write `event_type` for every subscribed endpoint (in the caller's transaction).
    `source_event` is the ReturnEvent the change wrote: it names the event. Returns the
    messages written (none when no endpoint wants it: one query, none when `endpoints`, the
    active ones, were read already)."""
    endpoints = subscribed(event_type, endpoints)
    if not endpoints:
        return []
    if not isinstance(rma, Return):
        rma = Return.get_by_id(rma)
    event_id = f"evt_{source_event.id}{suffix}"
    payload = {
        "type": event_type,
        "timestamp": _iso(source_event.created_at),
        "data": {"return": return_summary(rma), **data},
    }
    return [
        enqueue(
            "webhook",
            {"endpoint_id": e.id, "event_id": event_id, "type": event_type, "payload": payload},
            f"{dedupe_prefix(e.id, rma.id)}{event_id}",
            rma=rma,
        )
        for e in endpoints
    ]


def dedupe_prefix(endpoint_id, rma_id):
    return f"webhook:{endpoint_id}:{rma_id}:"


def return_changed(rma, event):
    """A return's timeline event, as a webhook when it is one of TYPES."""
    event_type = RETURN_EVENTS.get(event.kind)
    if event_type is not None:
        emit(event_type, rma, event)


def _iso(value):
    """Stored datetimes are naive UTC: say so (RFC 3339 with Z)."""
    if value is None:
        return None
    if hasattr(value, "hour"):
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat()

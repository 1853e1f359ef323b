"""Timeline events: every state change writes one, in the same transaction as the change."""

from portal.models import ReturnEvent

# What a shopper reads on the tracking page, per event kind. Internal events are never shown.
SHOPPER_TEXT = {
    "requested": "Return requested",
    "approved": "Return approved",
    "rejected": "Return rejected",
    "cancelled": "Return cancelled",
    "expired": "Return cancelled: the parcel did not arrive in time",
    "received": "Items received",
    "inspected": "Items inspected",
    "restocked": "Items restocked",
    "refund_created": "Refund prepared",
    "refund_succeeded": "Refund sent",
    "refund_failed": "Refund delayed",
    "refund_reversed": "Refund did not reach you: our team is on it",
    "completed": "Return completed",
    "released": "Units not received were released",
    "on_hold": "Return on hold",
    "resumed": "Return resumed",
    "extra_line_added": "Extra line added",
    "extra_line_removed": "Extra line removed",
    "label_created": "Return label ready",
    "tracking_added": "Tracking number added",
    "carrier_in_transit": "Parcel in transit to us",
    "carrier_delivered": "Parcel delivered to our warehouse",
    "return_invoice_issued": "Credit note issued",
    "exchange_created": "Exchange being prepared",
    "exchange_paid": "Payment of the difference received",
    "exchange_shipped": "Exchange shipped",
    "exchange_delivered": "Exchange delivered",
    "email_sent": "We emailed you about this return",
}


def record(rma, kind, actor=None, internal=False, **payload):
    return ReturnEvent.create(rma=rma, kind=kind, actor=actor, internal=internal, payload=payload)


def shopper_text(event):
    payload = event.payload or {}
    if event.kind == "received" and payload.get("kept"):
        return "Claim accepted: no need to send the item back"
    if event.kind == "requested" and payload.get("claim"):
        return "Claim opened"
    if event.kind == "requested" and payload.get("withdrawal"):
        return "Withdrawal received"
    text = SHOPPER_TEXT.get(event.kind, event.kind.replace("_", " ").capitalize())
    if event.kind.startswith("exchange_"):
        if payload.get("what") == "replacement":
            text = text.replace("Exchange", "Replacement")
        if payload.get("early") and event.kind == "exchange_created":
            text += ": it ships before your item is back"
        if event.kind == "exchange_shipped" and payload.get("tracking_number"):
            text += f" with {payload.get('carrier')}, tracking number {payload['tracking_number']}"
    return text

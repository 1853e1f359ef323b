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
}


def record(rma, kind, actor=None, internal=False, **payload):
    return ReturnEvent.create(rma=rma, kind=kind, actor=actor, internal=internal, payload=payload)


def shopper_text(event):
    return SHOPPER_TEXT.get(event.kind, event.kind.replace("_", " ").capitalize())

"""Timeline events: every state change writes one, in the same transaction as the change."""

from portal.models import ReturnEvent
from portal.prebuilt import prebuilt_create
from portal.returns.marks import N_, Phrase

# What a shopper reads on the tracking page, per event kind. Internal events are never shown.
SHOPPER_TEXT = {
    "requested": N_("Return requested"),
    "approved": N_("Return approved"),
    "rejected": N_("Return rejected"),
    "cancelled": N_("Return cancelled"),
    "expired": N_("Return cancelled: the parcel did not arrive in time"),
    "received": N_("Items received"),
    "inspected": N_("Items inspected"),
    "restocked": N_("Items restocked"),
    "refund_created": N_("Refund prepared"),
    "refund_succeeded": N_("Refund sent"),
    "refund_failed": N_("Refund delayed"),
    "refund_reversed": N_("Refund did not reach you: our team is on it"),
    "completed": N_("Return completed"),
    "released": N_("Units not received were released"),
    "on_hold": N_("Return on hold"),
    "resumed": N_("Return resumed"),
    "extra_line_added": N_("Extra line added"),
    "extra_line_removed": N_("Extra line removed"),
    "label_created": N_("Return label ready"),
    "tracking_added": N_("Tracking number added"),
    "carrier_in_transit": N_("Parcel in transit to us"),
    "carrier_delivered": N_("Parcel delivered to our warehouse"),
    "return_invoice_issued": N_("Credit note issued"),
    "exchange_created": N_("Exchange being prepared"),
    "exchange_paid": N_("Payment of the difference received"),
    "exchange_shipped": N_("Exchange shipped"),
    "exchange_delivered": N_("Exchange delivered"),
    "email_sent": N_("We emailed you about this return"),
}


def record(rma, kind, actor=None, internal=False, **payload):
    """The event, written in the caller's transaction (ReturnEvent.create's row and instance,
    its INSERT built once per process: every change writes one)."""
    return prebuilt_create(ReturnEvent, rma=rma, kind=kind, actor=actor, internal=internal,
                           payload=payload)  # fmt: skip


REPLACEMENT_TEXT = {
    "exchange_created": N_("Replacement being prepared"),
    "exchange_shipped": N_("Replacement shipped"),
    "exchange_delivered": N_("Replacement delivered"),
}


def shopper_text(event):
    """The event in the shopper's words (N_ marked: the page translates it)."""
    payload = event.payload or {}
    if event.kind == "received" and payload.get("kept"):
        return N_("Claim accepted: no need to send the item back")
    if event.kind == "requested" and payload.get("claim"):
        return N_("Claim opened")
    if event.kind == "requested" and payload.get("withdrawal"):
        return N_("Withdrawal received")
    text = SHOPPER_TEXT.get(event.kind, event.kind.replace("_", " ").capitalize())
    if event.kind.startswith("exchange_"):
        if payload.get("what") == "replacement":
            text = REPLACEMENT_TEXT.get(event.kind, text)
        if payload.get("early") and event.kind == "exchange_created":
            return N_("%(what)s: it ships before your item is back", what=Phrase(text, {}))
        if event.kind == "exchange_shipped" and payload.get("tracking_number"):
            return N_("%(what)s with %(carrier)s, tracking number %(number)s",
                      what=Phrase(text, {}), carrier=payload.get("carrier"),
                      number=payload["tracking_number"])  # fmt: skip
    return text

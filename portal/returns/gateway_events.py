"""The payment gateway's events (Stripe's signed webhooks), each applied once.

apply_stripe_event() stores the event id first (GatewayEvent, unique): the same event
delivered again, or three times at once, finds it there and changes nothing. Then each refund
the event is about is matched to ours (by Stripe's refund id, else by the portal's refund id in
its metadata) and brought to what Stripe says:

- succeeded: a refund pending at the gateway (or still on its way) succeeds, as the worker's
  own success would (the shopper's email, the credit note number);
- failed / canceled: a succeeded refund is reversed (`succeeded -reverse-> failed`, the
  explicit rule for a gateway reversal), one still on its way fails; with the gateway's
  reason, and every manager and admin is emailed; a manager then retries it (a new
  idempotency key) or turns it into store credit;
- pending / requires_action: shown as such (gateway_status, gateway_reason), never success.

An event about a refund we don't know is logged and recorded; the caller answers 200."""

import logging

from peewee import IntegrityError

from portal.db import db, locked
from portal.models import GatewayEvent, Refund, Return
from portal.outbox.messages import enqueue_email
from portal.returns import refund_execution, refund_states, return_invoices
from portal.returns.refund_states import FAILED, SUCCEEDED, UNSETTLED, move

log = logging.getLogger(__name__)

HANDLED = ("refund.updated", "refund.failed", "charge.refunded")
FAILED_AT_GATEWAY = refund_execution.GATEWAY_FAILED
PENDING_AT_GATEWAY = ("pending", "requires_action")


def apply_stripe_event(event_id, event_type, data):
    """Apply one Stripe event (`data` is event.data.object as a dict). Returns what happened,
    as words, for the log and the answer."""
    if event_type not in HANDLED:
        return f"{event_type}: not an event the portal acts on"
    succeeded = []
    with db.atomic():
        try:
            with db.atomic():
                event = GatewayEvent.create(gateway="stripe", event_id=event_id, kind=event_type)
        except IntegrityError:
            return "already applied"
        refunds = [data] if event_type.startswith("refund.") else _refunds_of_charge(data)
        outcomes = []
        for refund_data in refunds:
            outcome, refund = _apply(event_id, refund_data)
            outcomes.append(outcome)
            if refund is not None:
                event.refund = refund.id
                if outcome == "succeeded":
                    succeeded.append(refund.rma_id)
        event.outcome = "; ".join(outcomes) or "no refunds in the event"
        event.save()
    for rma_id in succeeded:
        return_invoices.issue(rma_id)  # the credit note's number, as after the worker's success
    log.info("stripe event %s (%s): %s", event_id, event_type, event.outcome)
    return event.outcome


def _refunds_of_charge(charge):
    refunds = charge.get("refunds") or {}
    return list(refunds.get("data") or []) if isinstance(refunds, dict) else []


def _find(refund_data):
    reference = refund_data.get("id")
    refund = None
    if reference:
        refund = locked(Refund.select().where(Refund.gateway_reference == reference)).first()
    portal_id = (refund_data.get("metadata") or {}).get("refund_id")
    if refund is None and portal_id and str(portal_id).isdigit():
        refund = locked(Refund.select().where(Refund.id == int(portal_id))).first()
        if refund is not None and refund.gateway_reference not in (None, reference):
            refund = None  # metadata of another attempt's refund: not this one
    return refund


def _apply(event_id, refund_data):
    refund = _find(refund_data)
    reference = refund_data.get("id") or "?"
    if refund is None:
        log.warning("stripe event %s: unknown refund %s, nothing changed", event_id, reference)
        return f"unknown refund {reference}", None
    status = refund_data.get("status") or ""
    if status == "succeeded":
        if refund.status == SUCCEEDED:
            return "already succeeded", refund
        if refund_execution.failed_at_gateway(refund):
            # Stripe never un-fails a refund: an older event arriving late changes nothing.
            return "failed at the gateway already: an older event, ignored", refund
        if refund_execution.succeed(refund.id, reference):
            return "succeeded", refund
        return f"refund {refund.id} is {refund.status}: left as it is", refund
    if status in FAILED_AT_GATEWAY:
        return _failed(refund, reference, status, refund_data.get("failure_reason") or status)
    if status in PENDING_AT_GATEWAY:
        if refund.status not in UNSETTLED:
            return f"refund {refund.id} is {refund.status}: an older event, ignored", refund
        reason = refund_data.get("pending_reason") or (refund_data.get("next_action") or {}).get(
            "type"
        ) or ""  # fmt: skip
        Refund.update(gateway_status=status, gateway_reason=str(reason)[:250]).where(
            Refund.id == refund.id
        ).execute()
        return f"{status} at the gateway", refund
    return f"status {status!r}: nothing to do", refund


def _failed(refund, reference, status, reason):
    changes = {"gateway_status": status, "gateway_reason": str(reason)[:250],
               "last_error": f"Stripe {status} the refund: {reason}"}  # fmt: skip
    if refund.status == FAILED:
        Refund.update(**changes).where(Refund.id == refund.id).execute()
        return "already failed", refund
    if refund.status == SUCCEEDED:
        event = "reverse"
    elif refund.status in UNSETTLED and refund_states.can(refund.status, "fail"):
        event = "fail"
    else:
        return f"refund {refund.id} is {refund.status}: left as it is", refund
    rma = Return.get_by_id(refund.rma_id)
    if not move([refund], event, rma, payload={"reference": reference, "reason": str(reason),
                                               "gateway_status": status}, **changes):  # fmt: skip
        return f"refund {refund.id} moved meanwhile: left as it is", refund
    for to in refund_execution.staff_to_tell():
        enqueue_email("staff_refund_failed", to,
                      f"refund:{refund.id}:email:gateway_failed:{reference}:{to}", rma=rma,
                      context={"refund_id": refund.id, "amount": refund.amount,
                               "currency": refund.currency, "method": refund.method,
                               "error": changes["last_error"], "attempts": refund.attempts,
                               "reversed": event == "reverse"})  # fmt: skip
    return "reversed" if event == "reverse" else "failed", refund

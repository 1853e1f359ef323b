"""Getting the parcel back (issue 14): the store's return shipping methods (managers, audited),
the method a return is requested with (its price snapshot replaces the policy's single return
shipping fee), the label a carrier makes once the return is approved (an outbox message, so a
worker calls the carrier and retries it), the tracking number a shopper types in when they ship
it themselves, and the carriers' status updates (in transit, delivered to the warehouse), which
are timeline events, not return statuses."""

import re

from peewee import IntegrityError

from portal.carriers import Shipment
from portal.db import db
from portal.models import (
    METHOD_KINDS,
    CarrierEvent,
    Order,
    OutboxMessage,
    Return,
    ReturnLabel,
    ReturnPolicy,
    ReturnShippingMethod,
)
from portal.outbox.messages import enqueue, enqueue_email
from portal.returns import audit, states, timeline
from portal.returns.errors import Conflict, DomainError, InvalidTransition, NotAllowed, NotFound
from portal.returns.facts import lines_of
from portal.returns.marks import N_
from portal.returns.transitions import change, load, require_staff

KINDS = {
    "prepaid_label": "Prepaid label (printed by the shopper)",
    "qr_dropoff": "QR code at a drop-off point (no printer needed)",
    "ship_yourself": "Ship it yourself to the return address",
}
LABEL_KINDS = ("prepaid_label", "qr_dropoff")
MANAGERS = "Only managers can change the return shipping methods."
FIELDS = ("name", "price", "free_for_merchant_fault", "countries", "kind", "active", "position")
COUNTRY = re.compile(r"[A-Z]{2}")
TRACKING = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{3,39}")
# What a carrier's status update means on the timeline (the return's status stays as it is).
INBOUND = {"in_transit": "carrier_in_transit", "delivered": "carrier_delivered"}
assert set(KINDS) == set(METHOD_KINDS)


# --- the methods (managers) ---------------------------------------------------------------------


def methods_query():
    return ReturnShippingMethod.select().order_by(
        ReturnShippingMethod.active.desc(), ReturnShippingMethod.position, ReturnShippingMethod.id
    )


def all_methods():
    return list(methods_query())


def _get(method_id):
    method = ReturnShippingMethod.get_or_none(ReturnShippingMethod.id == int(method_id))
    if method is None:
        raise NotFound("That return shipping method doesn't exist.")
    return method


def countries_of(text):
    """'us, ca' -> 'CA US': ISO 3166 alpha-2 codes, upper-case, sorted, once each."""
    codes = sorted({code.upper() for code in re.split(r"[\s,;]+", text or "") if code})
    bad = [code for code in codes if not COUNTRY.fullmatch(code)]
    if bad:
        raise DomainError(
            f"{', '.join(bad)}: give countries as two-letter ISO codes like US, DE or FR."
        )
    return " ".join(codes)


def _clean(name, price, kind, countries, position):
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise DomainError("A shipping method needs a name of at most 80 characters.")
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= 100_000:
        raise DomainError("The price must be an amount from 0.00 to 1000.00.")
    if kind not in KINDS:
        raise DomainError("Choose a prepaid label, a QR drop-off or ship-it-yourself.")
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 9999:
        raise DomainError("The position must be a whole number from 0 to 9999.")
    return name, price, kind, countries_of(countries), position


def save_method(actor, method_id=None, *, name, price, kind, countries="",
                free_for_merchant_fault=True, position=0):  # fmt: skip
    """Add a method (method_id None) or change one. Open returns keep the price they snapshot."""
    require_staff(actor, "manager", MANAGERS)
    name, price, kind, countries, position = _clean(name, price, kind, countries, position)
    with db.atomic():
        method = _get(method_id) if method_id is not None else None
        before = audit.snapshot(method, FIELDS) if method else None
        method = method or ReturnShippingMethod()
        method.name, method.price, method.kind = name, price, kind
        method.countries, method.position = countries, position
        method.free_for_merchant_fault = bool(free_for_merchant_fault)
        method.save()
        after = audit.snapshot(method, FIELDS)
        if before is None:
            audit.record(actor, "shipping_method.added", f"shipping_method:{method.id}",
                         after=after)  # fmt: skip
        elif before != after:
            audit.record(actor, "shipping_method.changed", f"shipping_method:{method.id}",
                         before, after)  # fmt: skip
        return method


def set_method_active(actor, method_id, active):
    """Deactivate (shoppers can no longer choose it; returns that did keep it) or reactivate."""
    require_staff(actor, "manager", MANAGERS)
    with db.atomic():
        method = _get(method_id)
        if method.active != bool(active):
            method.active = bool(active)
            method.save()
            audit.record(actor, "shipping_method.activated" if active
                         else "shipping_method.deactivated", f"shipping_method:{method.id}",
                         {"active": not active, "name": method.name},
                         {"active": bool(active), "name": method.name})  # fmt: skip
        return method


def delete_method(actor, method_id):
    """Delete a method. Returns requested with it keep its name, kind and price (snapshots)."""
    require_staff(actor, "manager", MANAGERS)
    with db.atomic():
        method = _get(method_id)
        before = audit.snapshot(method, FIELDS)
        method.delete_instance()
        audit.record(actor, "shipping_method.deleted", f"shipping_method:{method.id}",
                     before=before)  # fmt: skip
        return method


# --- choosing a method on a request ---------------------------------------------------------------


def methods_for(order, methods=None):
    """The active methods a parcel from `order`'s country can use, in the store's order
    (`methods`: all_methods(), when read already)."""
    methods = all_methods() if methods is None else methods
    return [m for m in methods if m.active and m.serves(order.ship_country)]


def any_active():
    return ReturnShippingMethod.select().where(ReturnShippingMethod.active == True).exists()  # noqa: E712


def choose_method(order, method_id, offered=None):
    """The method for a request on `order`, checked again whatever the form said: None when the
    store offers none for its country (the policy's single fee applies), else the chosen
    active method serving the country. Raises a DomainError saying what to do."""
    offered = methods_for(order) if offered is None else offered
    if method_id in (None, ""):
        if offered:
            raise DomainError("Choose how you'll send the parcel back.")
        return None
    try:
        wanted = int(method_id)
    except (TypeError, ValueError):
        raise DomainError("Choose a way of sending the parcel back from the list.") from None
    chosen = next((m for m in offered if m.id == wanted), None)
    if chosen is not None:
        return chosen
    method = ReturnShippingMethod.get_or_none(ReturnShippingMethod.id == wanted)
    if method is None or not method.active:
        raise NotFound("That way of sending the parcel back is no longer offered; choose another.")
    where = order.ship_country or "an address without a country"
    raise DomainError(f"“{method.name}” isn't available for parcels from {where}; choose another.")


def snapshot_fields(policy, method):
    """What a new return snapshots of how its parcel comes back: the price the refund
    calculation uses (the method's, or the policy's single fee without one) and whether it is
    free when a line is the store's fault."""
    if method is None:
        return {"policy_return_shipping_fee": policy.return_shipping_fee,
                "policy_return_shipping_free_merchant_fault": True}  # fmt: skip
    return {
        "policy_return_shipping_fee": method.price,
        "policy_return_shipping_free_merchant_fault": method.free_for_merchant_fault,
        "shipping_method": method.id,
        "shipping_method_name": method.name,
        "shipping_method_kind": method.kind,
    }


def default_method(order):
    """The store's default for a return staff create: the first method serving the order."""
    offered = methods_for(order)
    return offered[0] if offered else None


# --- labels ---------------------------------------------------------------------------------------


def needs_label(rma):
    return rma.shipping_method_kind in LABEL_KINDS


def enqueue_label(rma):
    """On approval (same transaction): a worker makes the label. False when the return's method
    needs none (the approval email then goes at once)."""
    if not needs_label(rma):
        return False
    enqueue("label", {"rma_id": rma.id}, f"return:{rma.id}:label", rma=rma)
    return True


def label_of(rma):
    return ReturnLabel.get_or_none(ReturnLabel.rma == getattr(rma, "id", rma))


def _shipment(rma, order, policy, size):
    lines = [(ln.order_line.sku, ln.order_line.title, ln.quantity) for ln in lines_of(rma.id)]
    sender = order.ship_address or [order.email]
    return Shipment(reference=rma.reference, idempotency_key=f"return-label:{rma.reference}",
                    sender=sender, sender_country=order.ship_country,
                    recipient=policy.return_address.splitlines(), lines=lines,
                    method=rma.shipping_method_name, size=size)  # fmt: skip


def _approval_email(current, policy, label):
    """The approval email, with the label attached when there is one. If it went already
    (the label came late, after a failure), the label follows in an email of its own."""
    context = {"return_address": policy.return_address, "label": bool(label)}
    key = f"return:{current.id}:email:return_approved"
    if label and OutboxMessage.select().where(OutboxMessage.dedupe_key == key).exists():
        enqueue_email("return_label", current.email, f"return:{current.id}:email:return_label",
                      rma=current, context=context)  # fmt: skip
        return
    enqueue_email("return_approved", current.email, key, rma=current, context=context)


def create_label(rma_id, carrier, size="a4"):
    """Step of the `label` outbox message: ask the carrier for the return's label (outside any
    transaction: a network call), then store it with the carrier and tracking number, the
    timeline event and the approval email (label attached), in one transaction. Asking again
    gives the same label (the carrier is idempotent on the return's key; a stored label is
    kept). Returns the label, or None when the return no longer needs one (cancelled).
    Carrier errors propagate for the outbox to retry or give up."""
    rma = Return.get_or_none(Return.id == rma_id)
    if rma is None:
        raise NotFound("That return doesn't exist.")
    existing = label_of(rma)
    if existing is not None or rma.status not in (*states.RECEIVING, states.ON_HOLD):
        return existing
    policy = ReturnPolicy.current()
    made = carrier.create_return_shipment(_shipment(rma, Order.get_by_id(rma.order_id), policy,
                                                    size))  # fmt: skip
    with db.atomic():
        current = load(rma)
        existing = label_of(current)
        if existing is not None:
            return existing
        label = ReturnLabel.create(rma=current, carrier=made.carrier, pdf=made.pdf, size=size,
                                   tracking_number=made.tracking_number)  # fmt: skip
        change(current, "label_created", None,
               changes={"carrier": made.carrier, "tracking_number": made.tracking_number},
               carrier=made.carrier, tracking_number=made.tracking_number)  # fmt: skip
        _approval_email(current, policy, label)
        return label


def label_failed(rma_id, error):
    """The label message failed for good: the shopper still gets the approval email (the label
    follows if staff retry it from the operations page), staff see why on the timeline."""
    current = Return.get_or_none(Return.id == rma_id)
    if current is None:
        return
    timeline.record(current, "label_failed", None, internal=True, error=str(error)[:500])
    _approval_email(current, ReturnPolicy.current(), None)


# --- tracking typed in by the shopper, and the carriers' updates ------------------------------------


def set_tracking(rma, actor, carrier, tracking_number):
    """A shopper who ships the parcel themselves tells us the carrier and tracking number."""
    carrier = " ".join((carrier or "").split())[:60]
    number = " ".join((tracking_number or "").split())
    if not carrier:
        raise DomainError(N_("Enter the carrier you sent the parcel with, like UPS or La Poste."))
    if not TRACKING.fullmatch(number):
        raise DomainError(
            N_("Enter the tracking number: 4 to 40 letters, digits, spaces or dashes.")
        )
    with db.atomic():
        current = load(rma)
        if current.status not in states.RECEIVING:
            raise InvalidTransition(N_("Tracking can be added once the return is approved, "
                                       "until everything arrived."))  # fmt: skip
        if needs_label(current):
            raise NotAllowed(N_("This return has our prepaid label: its tracking number is on it."))
        change(current, "tracking_added", actor if getattr(actor, "id", None) else None,
               changes={"carrier": carrier, "tracking_number": number},
               carrier=carrier, tracking_number=number)  # fmt: skip
        return current


class Duplicate(Conflict):
    """A carrier's update applied already (the same event id): nothing changes."""


def record_carrier_update(event_id, tracking_number, status, details=None):
    """A carrier's signed status update (the view checked the signature): once per event id, a
    timeline event on the return with that tracking number. Returns the return."""
    if status not in INBOUND:
        raise DomainError(f"Unknown status {status!r}: send in_transit or delivered.")
    number = " ".join(str(tracking_number or "").split())
    if not number:
        raise DomainError("The update has no tracking number.")
    details = {key: str(details[key])[:200] for key in ("carrier", "location", "occurred_at")
               if (details or {}).get(key) not in (None, "")}  # fmt: skip
    try:
        with db.atomic():
            if CarrierEvent.select().where(CarrierEvent.event_id == event_id).exists():
                raise Duplicate(f"Update {event_id} was applied already; nothing changed.")
            rma = Return.select().where(Return.tracking_number == number).first()
            if rma is None:
                raise NotFound(f"No return has tracking number {number}.")
            CarrierEvent.create(event_id=event_id, tracking_number=number, status=status, rma=rma,
                                payload=details)  # fmt: skip
            timeline.record(rma, INBOUND[status], None, tracking_number=number, **details)
            return rma
    except IntegrityError:  # the same event id arriving twice at the same moment
        raise Duplicate(f"Update {event_id} was applied already; nothing changed.") from None

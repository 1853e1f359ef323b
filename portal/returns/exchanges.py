"""Exchanges and claims' replacements, from the choice to the parcel.

- check_choice(): whether a line may get a replacement variant instead of money (the same
  product's other sizes and colours in stock above the store's buffer, or any active product
  when the store lets shoppers shop the catalogue; a claim's replacement is the same item), in
  words when not;
- reserve(): the Replacement row with its price, its part of the money (exchange_money.py) and
  the units it holds in stock, written in the request's transaction after the variants are
  locked (catalogue.lock_variants), so two shoppers can't both get the last unit;
- release(): the held units go back to stock when the return is rejected, cancelled, expires or
  is finished, or its line is rejected at inspection; open exchange orders are cancelled;
- sync(): exchange orders (the outbound shipments) for the units now due: when a returned unit
  is received and accepted, at approval when the return ships early (the store's setting), or
  at approval for a claim whose item stays with the shopper;
- record_payment(), ship(), deliver(): the exchange order's life (exchange_states.py). Shipping
  takes the units out of stock (StockMovement + StockLevel), adds the replacement to the order
  as a line of its own (returnable from its delivery), bumps the order's version and emails
  the shopper the tracking number.
"""

from dataclasses import dataclass

from peewee import fn

from portal.db import db, locked
from portal.models import (
    ExchangeOrder,
    ExchangeOrderLine,
    InventoryLocation,
    Order,
    OrderLine,
    Payment,
    Product,
    Replacement,
    ReturnLine,
    StockLevel,
    StockMovement,
    Variant,
    now,
)
from portal.outbox.messages import enqueue_email
from portal.returns import catalogue, exchange_states, timeline
from portal.returns.errors import Conflict, DomainError, InvalidTransition, NotFound
from portal.returns.exchange_money import ExchangeLine, Price, replacement_price, split_exchange
from portal.returns.marks import N_
from portal.returns.money import format_money
from portal.returns.transitions import check_version, load, require_staff, touch

EXCHANGE = "exchange"
CLAIM = "claim"
PAYMENT_METHODS = {"card": "Card", "bank_transfer": "Bank transfer", "paypal": "PayPal",
                   "cash": "Cash"}  # fmt: skip
MANAGERS = "Only managers can record payments."


# --- the choice ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A replacement a selection may have: the variant and what one unit costs this shopper."""

    variant: Variant
    price: Price
    kind: str  # exchange | claim


@dataclass
class Known:
    """What check_choice() needs, read once for a whole request: the variants asked for and
    the order lines' own (with their products), and their stock."""

    variants: dict  # {variant_id: Variant (with .product)}
    stock: dict  # {variant_id: (on hand, held)}
    policy: object


def known_for(lines, variant_ids, policy):
    ids = {int(v) for v in variant_ids if isinstance(v, int)}
    ids |= {line.product_variant_id for line in lines if line.product_variant_id}
    variants = {}
    if ids:
        query = Variant.select(Variant, Product).join(Product).where(Variant.id.in_(list(ids)))
        variants = {v.id: v for v in query}
    return Known(variants, catalogue.stock(list(variants)), policy)


def _free(known, variant_id, kind):
    on_hand, held = known.stock.get(variant_id, (0, 0))
    buffer = 0 if kind == CLAIM else known.policy.exchange_stock_buffer
    return max(on_hand - held - buffer, 0)


def check_choice(known, line, quantity, variant_id, kind=EXCHANGE):  # noqa: C901
    """(Choice, None) when `line` may get `quantity` units of `variant_id` instead of money,
    else (None, why in words). `kind`: "claim", else an exchange."""
    kind = CLAIM if kind == CLAIM else EXCHANGE
    policy, title = known.policy, f"“{line.title}”"
    if kind == EXCHANGE and not policy.exchanges_enabled:
        return None, N_("Exchanges are switched off at the moment: choose a refund for %(title)s.",
                        title=title)  # fmt: skip
    if not policy.inventory_tracking:
        return None, N_("We can't offer replacements at the moment (this shop keeps no stock "
                        "here): choose a refund for %(title)s.", title=title)  # fmt: skip
    if isinstance(variant_id, bool) or not isinstance(variant_id, int):
        return None, N_("Choose what you'd like instead of %(title)s from the list.", title=title)
    variant = known.variants.get(variant_id)
    if variant is None:
        return (
            None,
            N_(
                "That replacement for %(title)s isn't in our catalogue: choose one from the list.",
                title=title,
            ),  # fmt: skip
        )
    mine = known.variants.get(line.product_variant_id) if line.product_variant_id else None
    same = mine is not None and variant.product_id == mine.product_id
    name = f"“{catalogue.variant_name(variant, variant.product, same)}”"
    paid = catalogue.paid_price(line)
    if kind == CLAIM:
        if mine is None:
            return None, N_("We can't send a replacement of %(title)s (it isn't in our "
                            "catalogue): choose a refund.", title=title)  # fmt: skip
        if variant.id != mine.id:
            return None, N_("A claim's replacement is the same item as %(title)s, or a refund.",
                            title=title)  # fmt: skip
        price = paid
    else:
        if mine is not None and variant.id == mine.id:
            return None, N_("Choose a different size or colour of %(title)s, or a refund.",
                            title=title)  # fmt: skip
        if not same and not policy.exchange_any_product:
            if mine is None:
                return None, N_("%(title)s can't be exchanged: choose a refund.", title=title)
            return None, N_("%(title)s can only be exchanged for another size or colour of it.",
                            title=title)  # fmt: skip
        price = replacement_price(paid, catalogue.catalogue_price(mine),
                                  catalogue.catalogue_price(variant), same)  # fmt: skip
    if not (variant.active and variant.product.active):
        return None, N_("%(name)s is no longer sold: choose another option for %(title)s.",
                        name=name, title=title)  # fmt: skip
    free = _free(known, variant.id, kind)
    if free < quantity:
        if free == 0:
            return None, N_("%(name)s is out of stock: choose another option for %(title)s, or "
                            "a refund.", name=name, title=title)  # fmt: skip
        return None, N_("Only %(free)s of %(name)s can be sent now: choose fewer of %(title)s, or "
                        "another option.", free=free, name=name, title=title)  # fmt: skip
    return Choice(variant, price, kind), None


def split_for(chosen, policy, kind=EXCHANGE):
    """The exchange money (exchange_money.ExchangeSplit) of the chosen lines that get a
    replacement, in their order: the store's bonus and "we absorb up to" apply to exchanges."""
    swaps = [c for c in chosen if c.replacement is not None]
    if not swaps:
        return None
    lines = [ExchangeLine(c.quantity, c.line.unit_total, c.replacement.price.total) for c in swaps]
    if kind == CLAIM:
        return split_exchange(lines)
    return split_exchange(lines, policy.exchange_bonus, policy.exchange_absorb_up_to)


def reserve(return_lines, chosen, split):
    """Write the Replacement of each chosen line that has one, holding its units in stock (in
    the request's transaction, the variants locked)."""
    parts = iter(split.lines if split else ())
    made = []
    for line, c in zip(return_lines, chosen, strict=True):
        if c.replacement is None:
            continue
        part = next(parts)
        made.append(Replacement.create(
            line=line, variant=c.replacement.variant, kind=c.replacement.kind,
            quantity=c.quantity, unit_price=c.replacement.price.price,
            unit_tax=c.replacement.price.tax, credited=part.credited, absorbed=part.absorbed,
            due=part.due, held=c.quantity,
        ))  # fmt: skip
    return made


# --- reading --------------------------------------------------------------------------------------


def replacements_of(rma_id):
    """The return's Replacements with their lines and variants, in line order."""
    return list(
        Replacement.select(Replacement, ReturnLine, Variant, Product)
        .join(ReturnLine)
        .switch(Replacement)
        .join(Variant)
        .join(Product)
        .where(ReturnLine.rma == rma_id)
        .order_by(ReturnLine.id)
    )


def exchange_orders_of(rma_id):
    """The return's exchange orders, oldest first, each with `.items`: its lines (with their
    replacement and variant). Two queries."""
    orders = list(
        ExchangeOrder.select().where(ExchangeOrder.rma == rma_id).order_by(ExchangeOrder.id)
    )
    return with_items(orders)


def with_items(orders):
    """`orders` (ExchangeOrders), each given `.items`: its lines with their replacement, variant
    and product, in one query."""
    by_id = {o.id: o for o in orders}
    for order in orders:
        order.items = []
    if orders:
        query = (
            ExchangeOrderLine.select(ExchangeOrderLine, Replacement, Variant, Product)
            .join(Replacement)
            .join(Variant)
            .join(Product)
            .where(ExchangeOrderLine.exchange_order.in_(list(by_id)))
            .order_by(ExchangeOrderLine.id)
        )
        for item in query:
            by_id[item.exchange_order_id].items.append(item)
    return orders


def allotted(rma_id):
    """{replacement_id: units on exchange orders that are not cancelled}."""
    query = (
        ExchangeOrderLine.select(
            ExchangeOrderLine.replacement, fn.SUM(ExchangeOrderLine.quantity)
        )  # fmt: skip
        .join(ExchangeOrder)
        .where(
            (ExchangeOrder.rma == rma_id) & (ExchangeOrder.status != exchange_states.CANCELLED)
        )  # fmt: skip
        .group_by(ExchangeOrderLine.replacement)
    )
    return {rid: int(units) for rid, units in query.tuples()}


# --- exchange orders: made when units are due to ship -------------------------------------------


def _next_reference(rma):
    count = ExchangeOrder.select().where(ExchangeOrder.rma == rma.id).count()
    return f"{rma.reference}-X{count + 1}"


def _units_due(rep, line, early):
    """How many units of `rep` should be on their way to the shopper by now."""
    if line.inspection == "rejected":
        return 0
    if early or line.kept:
        return rep.quantity
    return line.received_quantity if line.inspection == "accepted" else 0


def sync(rma, actor=None, at=None, early=False):
    """Create the exchange order for the replacement units now due to ship (none: None). A
    dearer replacement's amount due goes with its first shipment, which waits for the payment.
    Call inside the caller's transaction, with the return locked."""
    reps = replacements_of(rma.id)
    if not reps:
        return None
    on_orders = allotted(rma.id)
    items = []
    for rep in reps:
        want = min(_units_due(rep, rep.line, early), rep.held + rep.shipped)
        more = want - on_orders.get(rep.id, 0)
        if more > 0:
            items.append((rep, more, on_orders.get(rep.id, 0) == 0))
    if not items:
        return None
    due = sum(rep.due for rep, _, first in items if first)
    order = ExchangeOrder.create(
        rma=rma, reference=_next_reference(rma), amount_due=due, early=early,
        status=exchange_states.AWAITING_PAYMENT if due else exchange_states.READY,
        created_at=at or now(),
    )  # fmt: skip
    for rep, units, _ in items:
        ExchangeOrderLine.create(exchange_order=order, replacement=rep, quantity=units)
    timeline.record(
        rma, "exchange_created", actor, exchange_order=order.reference,
        exchange_order_id=order.id, status=order.status, amount_due=due, early=early,
        what=exchange_states.what(rma),
        lines=[{"line_id": rep.line_id, "sku": rep.variant.sku, "title": rep.variant.title,
                "quantity": units} for rep, units, _ in items],
    )  # fmt: skip
    return order


def after_approval(rma, policy, actor=None, at=None):
    """At approval: a claim's lines whose item stays with the shopper are settled without a
    parcel (claims.settle_kept), and the replacements due now get their exchange order (all of
    them when the return ships early)."""
    from portal.returns import claims  # claims settles lines through the return's transitions

    claims.settle_kept(rma, actor, at)
    return sync(rma, actor, at, early=rma.ship_early)


def release(rma, actor=None, why="", line_ids=None):
    """Give back the units held for the return's replacements (or those of `line_ids`): open
    exchange orders carrying them are cancelled first. Shipped units stay shipped. Returns the
    released lines (and writes an internal event when there were some)."""
    cancelled = []
    for order in exchange_orders_of(rma.id):
        if order.status not in exchange_states.OPEN:
            continue
        if line_ids is not None and not any(i.replacement.line_id in line_ids
                                            for i in order.items):  # fmt: skip
            continue
        exchange_states.move(order, "cancel", rma, actor, payload={"why": why})
        cancelled.append(order)
    released = []
    for rep in replacements_of(rma.id):
        if rep.held and (line_ids is None or rep.line_id in line_ids):
            Replacement.update(held=0).where(Replacement.id == rep.id).execute()
            released.append({"line_id": rep.line_id, "sku": rep.variant.sku, "units": rep.held})
    if released:
        timeline.record(rma, "replacement_released", actor, internal=True, why=why,
                        lines=released)  # fmt: skip
    if cancelled and line_ids is not None:
        sync(rma, actor, early=rma.ship_early)  # the other lines of those orders ship anyway
    return released


# --- the exchange order's life --------------------------------------------------------------------


def _exchange_order(order_id):
    found = ExchangeOrder.get_or_none(ExchangeOrder.id == getattr(order_id, "id", order_id))
    if found is None:
        raise NotFound("That exchange order doesn't exist.")
    current = load(found.rma_id)  # the return first, then the exchange order: one lock order
    return current, locked(ExchangeOrder.select().where(ExchangeOrder.id == found.id)).get()


def _text(value, what, longest):
    value = " ".join((value or "").split())
    if not value:
        raise DomainError(f"Enter the {what}.")
    if len(value) > longest:
        raise DomainError(f"Keep the {what} under {longest} characters.")
    return value


def record_payment(order_id, actor, method, reference, version=None):
    """Staff record that the shopper paid an exchange's difference: a Payment on the order for
    the amount due (refundable like any other), and the exchange order is ready to ship."""
    require_staff(actor, "manager", MANAGERS)
    if method not in PAYMENT_METHODS:
        raise DomainError("Choose how the shopper paid.")
    reference = _text(reference, "payment reference (the card or bank transaction id)", 100)
    with db.atomic():
        rma, order = _exchange_order(order_id)
        check_version(rma, version)
        if order.status != exchange_states.AWAITING_PAYMENT:
            raise InvalidTransition(
                f"Exchange order {order.reference} is {exchange_states.LABELS[order.status].lower()}: "
                "no payment is due on it."
            )
        position = (
            Payment.select(fn.COALESCE(fn.MAX(Payment.position), 0))
            .where(Payment.order == rma.order_id)
            .scalar()
        )
        payment = Payment.create(order=rma.order_id, method=method, gateway="ledger",
                                 reference=reference, amount=order.amount_due,
                                 position=int(position) + 1)  # fmt: skip
        exchange_states.move(order, "pay", rma, actor, payment=payment.id, paid_at=now(),
                             payload={"amount": order.amount_due, "method": method,
                                      "reference": reference})  # fmt: skip
        touch(rma)
        return order


def _location(location_id):
    location = None
    if location_id not in (None, ""):
        location = InventoryLocation.get_or_none(InventoryLocation.id == int(location_id))
    if location is None or not location.active or location.kind != "sellable":
        raise DomainError("Choose the active sellable location the replacement ships from.")
    return location


def _unit_value(rep):
    """What one shipped unit cost the shopper (its price, less its share of the bonus and of
    what the store absorbed, rounded in the store's favour): a later return of it refunds at
    most that, so a bonus never turns into money."""
    covered = -(-(rep.credited + rep.absorbed) // rep.quantity)
    value = max(rep.unit_total - covered, 0)
    tax = min(rep.unit_tax, value)
    return value - tax, tax


def ship(order_id, actor, carrier, tracking_number, location_id, version=None):
    """Ship an exchange order that is ready: stock leaves `location` (a StockMovement per SKU
    and its StockLevel, in this transaction), the replacement becomes a line of the order, the
    order's version goes up, and the shopper is emailed the tracking number."""
    require_staff(actor, message="Only staff can ship exchange orders.")
    carrier = _text(carrier, "carrier", 60)
    tracking_number = _text(tracking_number, "tracking number", 100)
    with db.atomic():
        rma, order = _exchange_order(order_id)
        check_version(rma, version)
        if order.status == exchange_states.AWAITING_PAYMENT:
            raise InvalidTransition(
                f"Exchange order {order.reference} waits for the shopper's payment of "
                f"{format_money(order.amount_due, rma.currency)}: record it before shipping."
            )
        exchange_states.next_status(order.status, "ship")  # refuses in words
        location = _location(location_id)
        items = exchange_orders_of(rma.id)
        items = next(o for o in items if o.id == order.id).items
        catalogue.lock_variants([i.replacement.variant_id for i in items])
        originals = {
            line.id: line
            for line in ReturnLine.select(ReturnLine, OrderLine)
            .join(OrderLine)
            .where(ReturnLine.id.in_([i.replacement.line_id for i in items]))
        }
        lines = []
        for item in items:
            rep, variant = item.replacement, item.replacement.variant
            rep = Replacement.get_by_id(rep.id)  # re-read: held and shipped as they are now
            if rep.held < item.quantity:
                raise Conflict(f"The units held for {variant.sku} were released meanwhile.")
            level = StockLevel.get_or_none((StockLevel.location == location.id)
                                           & (StockLevel.sku == variant.sku))  # fmt: skip
            have = level.quantity if level else 0
            if have < item.quantity:
                raise DomainError(
                    f"{location.name} has {have} of {variant.sku} ({variant.product.title} — "
                    f"{variant.title}); {item.quantity} must ship: choose another location."
                )
            original = originals[rep.line_id].order_line
            StockMovement.create(location=location, sku=variant.sku, quantity=-item.quantity,
                                 reason="exchange", return_line_id=rep.line_id, actor=actor)  # fmt: skip
            StockLevel.update(quantity=StockLevel.quantity - item.quantity).where(
                StockLevel.id == level.id
            ).execute()
            Replacement.update(held=Replacement.held - item.quantity,
                               shipped=Replacement.shipped + item.quantity).where(
                Replacement.id == rep.id
            ).execute()  # fmt: skip
            price, tax = _unit_value(rep)
            new_line = OrderLine.create(
                order=rma.order_id, sku=variant.sku, title=variant.product.title,
                variant=dict(variant.options or {}), quantity=item.quantity, unit_price=price,
                unit_tax=tax, category=original.category, final_sale=original.final_sale,
                invoice_number=original.invoice_number, product_variant=variant.id,
                replaces=original.id,
            )  # fmt: skip
            ExchangeOrderLine.update(order_line=new_line.id).where(
                ExchangeOrderLine.id == item.id
            ).execute()
            lines.append({"title": variant.product.title, "variant": variant.title,
                          "sku": variant.sku, "quantity": item.quantity})  # fmt: skip
        Order.update(version=Order.version + 1).where(Order.id == rma.order_id).execute()
        exchange_states.move(
            order, "ship", rma, actor, carrier=carrier, tracking_number=tracking_number,
            location=location.id, shipped_at=now(), shipped_by=actor.id,
            payload={"carrier": carrier, "tracking_number": tracking_number,
                     "location": location.code, "lines": lines},
        )  # fmt: skip
        touch(rma)
        enqueue_email("exchange_shipped", rma.email, f"exchange:{order.id}:email:shipped",
                      rma=rma, context={"reference": order.reference, "carrier": carrier,
                                        "tracking_number": tracking_number, "lines": lines,
                                        "claim": rma.kind == "claim"})  # fmt: skip
        return order


def deliver(order_id, actor, version=None):
    """The replacement arrived: its order lines are delivered today, so a later return of
    them counts its window from now."""
    require_staff(actor, message="Only staff can change exchange orders.")
    with db.atomic():
        rma, order = _exchange_order(order_id)
        check_version(rma, version)
        at = now()
        exchange_states.move(order, "deliver", rma, actor, delivered_at=at)
        line_ids = [
            i.order_line_id
            for i in ExchangeOrderLine.select(ExchangeOrderLine.order_line).where(
                ExchangeOrderLine.exchange_order == order.id
            )
            if i.order_line_id
        ]
        if line_ids:
            OrderLine.update(delivered_at=at).where(OrderLine.id.in_(line_ids)).execute()
        touch(rma)
        return order

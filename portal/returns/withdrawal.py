"""The EU withdrawal function (Directive 2023/2673, Article 11a of Directive 2011/83/EU).

A shopper (or a guest, through the emailed link) withdraws from the contract in two steps: the
order and its lines, then "Confirm withdrawal". No reason is asked. The withdrawal becomes a
return of kind "withdrawal" that staff process as usual, and the shopper is sent an
acknowledgment at once with the statement, its date and time (with the time zone).

- The period: `withdrawal_days` (14 by default, never fewer) from delivery, counted in the
  store's time zone like the return window, and independent of it (returns may be switched
  off, the window closed, an item final sale: the law's right stays). Before delivery the
  period has not started and withdrawing is allowed.
- What is refunded is the law's (refund_calc.withdrawal_terms): the full price of the goods,
  the original delivery cost up to the standard delivery (its share for part of the order), no
  restocking fee, and the cost of sending the goods back only when the store's terms say the
  shopper bears it.
- The exceptions (sealed hygiene goods once unsealed, goods made to the shopper's
  specification, ...) are the store's settings: SKUs and categories excluded, one a line.
"""

import datetime
from dataclasses import dataclass

from portal.db import db, locked
from portal.models import Order, OrderLine, Return, ReturnLine, ReturnPolicy, ReturnReason, now
from portal.outbox.messages import enqueue_email
from portal.returns import eligibility, refund_calc, states, timeline
from portal.returns.amounts import refund_for_return
from portal.returns.errors import Conflict, DomainError, Ineligible, NotFound, QuantityExceeded
from portal.returns.marks import N_, LongDate
from portal.returns.quantities import taken_by_line
from portal.returns.requests import next_reference
from portal.returns.shopper_words import moment

KIND = "withdrawal"
REASON_CODE = "withdrawal"
REASON_LABEL = "Withdrawal from the contract (no reason needed)"
# The model withdrawal form's words (Directive 2011/83/EU, Annex I(B)).
STATEMENT = N_(
    "I hereby give notice that I withdraw from my contract of sale of the following goods:"
)


def excluded_values(text):
    """The lines of a settings text box, trimmed, without blanks, lower-cased."""
    return {value.strip().lower() for value in (text or "").splitlines() if value.strip()}


def _day(day):
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class Period:
    """Whether the shopper may withdraw now, and the words that say so."""

    open: bool
    delivered: bool
    days: int
    last_day: datetime.date | None
    message: str


def period(order, policy, at=None):
    at = at or now()
    days = policy.withdrawal_days
    if order.status == "cancelled":
        return Period(False, False, days, None,
                      N_("Order #%(number)s was cancelled: there is no contract left to "
                         "withdraw from.", number=order.number))  # fmt: skip
    if order.delivered_at is None:
        return Period(True, False, days, None,
                      N_("Order #%(number)s has not been delivered yet. You can withdraw "
                         "now: the %(days)s-day withdrawal period has not started (it starts on "
                         "delivery). Your withdrawal is recorded as a return at once; we "
                         "process it, and refund you, once the goods have been delivered and "
                         "have come back to us (or if they never reach you).",
                         number=order.number, days=days))  # fmt: skip
    tz = policy.timezone or "UTC"
    last = eligibility.last_day(order.delivered_at, days, tz)
    delivered_on = LongDate(eligibility.store_date(order.delivered_at, tz))
    if eligibility.store_date(at, tz) > last:
        return Period(False, True, days, last,
                      N_("The withdrawal period for order #%(number)s ended on %(last)s "
                         "(%(days)s days from delivery on %(delivered)s), so you can no longer "
                         "withdraw from this contract. The store's own returns may still be "
                         "open: see the order page.", number=order.number, last=LongDate(last),
                         days=days, delivered=delivered_on))  # fmt: skip
    return Period(True, True, days, last,
                  N_("You can withdraw until %(last)s (%(days)s days from delivery on "
                     "%(delivered)s; %(zone)s time).", last=LongDate(last), days=days,
                     delivered=delivered_on, zone=tz))  # fmt: skip


@dataclass(frozen=True)
class Line:
    """One order line on the withdrawal page: how many units can still be withdrawn, or why
    none can."""

    line: OrderLine
    ordered: int
    taken: int
    withdrawable: int
    why_not: str = ""


def _why_not(line, bundles, skus, categories):
    if line.id in bundles:
        return N_("A bundle: its parts are listed below.")
    if line.sku.lower() in skus or (line.category and line.category.lower() in categories):
        return N_("Excluded from withdrawal by law (for example sealed goods once unsealed, or "
                  "goods made to your specification): the store's terms list these.")  # fmt: skip
    return ""


def lines_for(order, policy, lines=None):
    """The order's lines (bundles followed by their parts) with what can still be withdrawn."""
    if lines is None:
        lines = eligibility.order_lines(order)
    taken = taken_by_line([line.id for line in lines])
    bundles = {line.bundle_id for line in lines if line.bundle_id}
    skus = excluded_values(policy.withdrawal_excluded_skus)
    categories = excluded_values(policy.withdrawal_excluded_categories)
    result = []
    for line in lines:
        why = _why_not(line, bundles, skus, categories)
        used = taken.get(line.id, 0)
        left = 0 if why else max(line.quantity - used, 0)
        if not why and left == 0:
            why = N_("Already returned, withdrawn or in a return request.")
        result.append(Line(line, line.quantity, used, left, why))
    return result


def _goods(line, quantity):
    return quantity * line.unit_total


def check_quantities(order, rows, quantities):
    """[(Line, quantity)] for the units asked for; DomainError (the first problem) otherwise.
    `quantities`: {order_line_id: units}; lines left out or at 0 are not withdrawn."""
    by_id = {row.line.id: row for row in rows}
    chosen = []
    for line_id, quantity in quantities.items():
        row = by_id.get(line_id)
        if row is None:
            raise NotFound(N_("That item is not part of order #%(number)s.", number=order.number))
        title = f"“{row.line.title}”"
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise DomainError(
                N_("Enter how many of %(title)s to withdraw as a whole number.", title=title)
            )
        if quantity == 0:
            continue
        if row.why_not:
            raise Ineligible(N_("%(title)s: %(why)s", title=title, why=row.why_not))
        if quantity > row.withdrawable:
            raise QuantityExceeded(
                N_("Only %(left)s of %(title)s can still be withdrawn (you asked for %(asked)s).",
                   left=row.withdrawable, title=title, asked=quantity)
            )  # fmt: skip
        chosen.append((row, quantity))
    if not chosen:
        raise DomainError(N_("Choose at least one item to withdraw from."))
    return chosen


def withdrawal_reason():
    """The reason a withdrawal's lines carry: none is asked, so it is the law's, never offered
    to shoppers (inactive) and never the store's fault."""
    reason = ReturnReason.get_or_none(ReturnReason.code == REASON_CODE)
    if reason is None:
        ReturnReason.insert(code=REASON_CODE, label=REASON_LABEL, active=False,
                            position=10_000).on_conflict_ignore().execute()  # fmt: skip
        reason = ReturnReason.get(ReturnReason.code == REASON_CODE)
    return reason


def withdraw(order, requester, email, quantities, version=None, at=None, staff_email=None,
             locale=None):  # fmt: skip
    """Record the shopper's withdrawal from `order` for {order_line_id: units}: one return of
    kind "withdrawal" with its lines, the "requested" event, the order's version bumped, the
    acknowledgment email (and the staff's) in the outbox. `version`: the order's version the
    confirmation page showed; if it changed (a second click, another request in between),
    nothing is written and the shopper is asked to look again. `locale`: the language of the
    request, kept on the return for the shopper's emails (a guest has no account). Raises a DomainError (nothing
    written) when a rule says no."""
    at = at or now()
    with db.atomic():
        current = Order.get_or_none(Order.id == order.id)
        if current is None:
            raise NotFound("That order doesn't exist.")
        policy = ReturnPolicy.current()
        if version is not None and current.version != version:
            raise Conflict(N_("Order #%(number)s changed since you opened this page (a "
                              "return or withdrawal was recorded). Check what is left and "
                              "confirm again.", number=current.number))  # fmt: skip
        when = period(current, policy, at)
        if not when.open:
            raise Ineligible(when.message)
        order_lines = list(locked(OrderLine.select().where(OrderLine.order == current.id)
                                  .order_by(OrderLine.id)))  # fmt: skip
        rows = lines_for(current, policy, order_lines)
        chosen = check_quantities(current, rows, quantities)
        bundles = {line.bundle_id for line in order_lines if line.bundle_id}
        goods_total = sum(
            _goods(line, line.quantity) for line in order_lines if line.id not in bundles
        )  # a bundle's parts carry its price
        goods = sum(_goods(row.line, quantity) for row, quantity in chosen)
        delivery = refund_calc.withdrawal_delivery(current.shipping_total,
                                                   policy.withdrawal_standard_delivery,
                                                   goods, goods_total)  # fmt: skip
        return_cost = policy.withdrawal_return_cost if policy.withdrawal_shopper_pays_return else 0
        rma = Return.create(
            reference=next_reference(policy.reference_pattern, at),
            order=current,
            requested_by=requester,
            email=(email or current.email).strip().lower(),
            status=states.REQUESTED,
            resolution="refund",
            created_at=at,
            updated_at=at,
            kind=KIND,
            currency=current.currency,
            policy_window_days=policy.withdrawal_days,
            policy_restocking_fee_bps=0,
            policy_return_shipping_fee=return_cost,
            policy_return_shipping_free_merchant_fault=True,
            withdrawal_shipping=delivery,
            locale=locale,
        )
        reason = withdrawal_reason()
        made = [ReturnLine.create(rma=rma, order_line=row.line, quantity=quantity, reason=reason)
                for row, quantity in chosen]  # fmt: skip
        estimate = refund_for_return(rma, made, {ln.id: ln.quantity for ln in made})
        Return.update(estimated_refund=estimate.total).where(Return.id == rma.id).execute()
        rma.estimated_refund = estimate.total
        tz = policy.timezone or "UTC"
        withdrawn_at = moment(at, tz)
        entries = [{"order_line_id": row.line.id, "sku": row.line.sku, "quantity": quantity,
                    "title": row.line.title, "variant": row.line.variant_text}
                   for row, quantity in chosen]  # fmt: skip
        by = "shopper" if requester is not None else "guest"
        timeline.record(rma, "requested", actor=requester, resolution="refund", by=by,
                        withdrawal=True, withdrawn_at=withdrawn_at, statement=STATEMENT,
                        lines=[{k: e[k] for k in ("order_line_id", "sku", "quantity")}
                               for e in entries])  # fmt: skip
        Order.update(version=Order.version + 1).where(Order.id == current.id).execute()
        context = {
            "order_number": current.number,
            "reference": rma.reference,
            "statement": STATEMENT,
            "lines": entries,
            "withdrawn_at": withdrawn_at,  # the English words; the email formats these:
            "withdrawn_at_utc": at.isoformat(),
            "timezone": tz,
            "placed_day": eligibility.store_date(current.placed_at, tz).isoformat(),
            "delivered_day": (
                eligibility.store_date(current.delivered_at, tz).isoformat()
                if current.delivered_at
                else None
            ),  # fmt: skip
            "placed_on": _day(eligibility.store_date(current.placed_at, tz)),
            "delivered_on": (
                _day(eligibility.store_date(current.delivered_at, tz))
                if current.delivered_at
                else None
            ),  # fmt: skip
            "email": rma.email,
            "currency": current.currency,
            "estimate": estimate.as_dict(),
            "delivery": delivery,
            "shopper_pays_return": bool(return_cost),
            "return_cost": return_cost,
            "before_delivery": not when.delivered,
            "kind": KIND,
        }
        enqueue_email("withdrawal_received", rma.email, f"return:{rma.id}:email:withdrawal",
                      rma=rma, context=context)  # fmt: skip
        if staff_email:
            enqueue_email("staff_new_return", staff_email,
                          f"return:{rma.id}:email:staff_new_return", rma=rma,
                          context={**context, "estimate": estimate.as_dict()})  # fmt: skip
    return rma


@dataclass(frozen=True)
class Page:
    """What the withdrawal's first step shows (a read model)."""

    order: Order
    period: Period
    lines: list
    shopper_pays_return: bool
    return_cost: int

    @property
    def withdrawable(self):
        return [row for row in self.lines if row.withdrawable > 0]


def page(order, at=None):
    policy = ReturnPolicy.current()
    pays = bool(policy.withdrawal_shopper_pays_return)
    return Page(order, period(order, policy, at), lines_for(order, policy), pays,
                policy.withdrawal_return_cost if pays else 0)  # fmt: skip


def review(order, quantities, at=None):
    """The second step's [(Line, units)]: the same checks as withdraw(), nothing written."""
    policy = ReturnPolicy.current()
    when = period(order, policy, at)
    if not when.open:
        raise Ineligible(when.message)
    return check_quantities(order, lines_for(order, policy), quantities)

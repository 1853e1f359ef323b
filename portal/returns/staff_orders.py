"""What staff see of orders: a search (number, email or the shopper's name) and one order with,
per line, what was bought, returned, is in a return and can still be returned (and why not),
its payments, refunds, invoices and every return (VTEX's "Returned items"). Reads only, in a
fixed number of queries whatever the number of rows."""

import re
from dataclasses import dataclass, field

from peewee import JOIN, Select, fn

from portal.db import db
from portal.models import Invoice, Order, OrderLine, Payment, Refund, Return, User, now
from portal.pagination import Page
from portal.returns import eligibility, refund_states
from portal.returns.quantities import units_by_line, units_query

FULL_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}")


def search_orders(q, page=1, per_page=20):
    """Orders whose number, email or shopper's name matches `q`, newest first, one page."""
    q = (q or "").strip()
    query = Order.select(Order, User).join(User, JOIN.LEFT_OUTER, on=(Order.customer == User.id))
    if q:
        term = q.lstrip("#")
        if FULL_EMAIL.fullmatch(term):  # a whole address: the indexed equality
            query = query.where(Order.email == term.lower())
        else:
            query = query.where(
                (Order.number == term) | Order.number.contains(term) | Order.email.contains(term)
                | User.name.contains(term)
            )  # fmt: skip
    total = query.count()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = list(query.order_by(Order.placed_at.desc(), Order.id.desc()).paginate(page, per_page))
    return Page(items=items, number=page, per_page=per_page, total=total)


@dataclass
class StaffLine:
    eligibility: object  # eligibility.LineEligibility
    returned: int  # units received back
    in_return: int  # units requested in open returns, not received yet

    @property
    def line(self):
        return self.eligibility.line

    @property
    def returnable(self):
        return self.eligibility.returnable


@dataclass
class StaffOrder:
    order: object
    lines: list  # StaffLine, a bundle's parts right after it
    payments: list
    refunds: list  # every refund on the order's returns
    invoices: list
    returns: list  # (Return, refunded cents)
    policy: object
    rows: list = field(default_factory=list)  # the rows of the queries order_for_staff() was given

    @property
    def refunded(self):
        return sum(r.amount for r in self.refunds if r.status == refund_states.SUCCEEDED)

    @property
    def can_return(self):
        return any(line.returnable > 0 for line in self.lines)

    @property
    def window_closed(self):
        """Lines that only a manager's override could still take (the window closed)."""
        return [
            line
            for line in self.lines
            if line.eligibility.verdict.code == eligibility.WINDOW_PASSED
        ]


def order_for_staff(number, *queries):
    """One order as staff see it (and the rows of `queries`, read in the same statement as
    the rest, portal.prebuilt.rows_together), or None."""
    customer = User.alias()
    order = (
        Order.select(Order, customer)
        .join(customer, JOIN.LEFT_OUTER, on=(Order.customer == customer.id), attr="customer")
        .where(Order.number == number)
        .first()
    )
    if order is None:
        return None

    def extra(order_id):
        line_ids = OrderLine.select(OrderLine.id).where(OrderLine.order == order_id)
        return [
            units_query(line_ids),
            Return.select().where(Return.order == order_id).order_by(Return.created_at.desc()),
            Refund.select(Refund, Return.reference.alias("rma_reference"))
            .join(Return)
            .where(Return.order == order_id)
            .order_by(Refund.id),
            Payment.select().where(Payment.order == order_id).order_by(Payment.position),
            Invoice.select().where(Invoice.order == order_id).order_by(Invoice.id),
            *queries,
        ]

    # `queries` (the page's own, of no order) must be the same for every call of this name.
    policy, verdicts, (units, returns, refunds, payments, invoices, *rows) = (
        eligibility.for_order_together(order, f"staff:{len(queries)}", extra)
    )
    units = units_by_line((), rows=units)
    refunded = {}
    for refund in refunds:
        if refund.status == refund_states.SUCCEEDED:
            refunded[refund.rma_id] = refunded.get(refund.rma_id, 0) + refund.amount
    return StaffOrder(
        order=order,
        lines=[StaffLine(v, *units.get(v.line.id, (0, 0))) for v in verdicts],
        payments=payments,
        refunds=refunds,
        invoices=invoices,
        returns=[(rma, refunded.get(rma.id, 0)) for rma in returns],
        policy=policy,
        rows=rows,
    )


def override_units(staff_order, at=None):
    """{order_line_id: units} a manager's override of the closed return window could still take,
    for the lines whose window closed (every other rule still applies). No queries."""
    terms = eligibility.terms_of(staff_order.policy)
    at = at or now()
    units = {}
    for staff_line in staff_order.window_closed:
        taken = staff_line.eligibility.verdict.taken
        facts = eligibility.facts_of(staff_line.line, staff_order.order, taken)
        verdict = eligibility.check_line(facts, terms, at, eligibility.PAST_WINDOW)
        if verdict.returnable > 0:
            units[staff_line.line.id] = verdict.returnable
    return units


def shopper_history_columns(rma_id, email):
    """The two subqueries of shopper_history(), as columns another query can carry."""
    others = Return.select(Return.id).where((Return.email == email) & (Return.id != rma_id))
    count = others.select(fn.COUNT(Return.id))
    refunded = Refund.select(fn.COALESCE(fn.SUM(Refund.amount), 0)).where(
        Refund.rma.in_(others) & (Refund.status == refund_states.SUCCEEDED)
    )
    return count, refunded


def shopper_history(rma):
    """(count, refunded cents) of the shopper's other returns: by their email, any order."""
    columns = shopper_history_columns(rma.id, rma.email)
    count, refunded = db.execute(Select(columns=columns)).fetchone()
    return int(count or 0), int(refunded or 0)

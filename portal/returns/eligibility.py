"""Which order lines a shopper can still return, how many units, and if none, why (in words).

Eligibility is composed from small validators (as Solidus's return item eligibility): each looks
at plain facts about one line and returns a Problem or None. The first problem wins; a line with
no problem can return what was bought minus what returns already hold (rule 1, quantities.py).
"""

import datetime
from dataclasses import dataclass

from portal.models import OrderLine, ReturnPolicy, now
from portal.returns.quantities import taken_by_line

# Problem codes, stable for code and tests; the messages are for shoppers.
RETURNS_DISABLED = "returns_disabled"
NOT_DELIVERED = "not_delivered"
NOT_INVOICED = "not_invoiced"
FINAL_SALE = "final_sale"
WINDOW_PASSED = "window_passed"
ALREADY_TAKEN = "already_taken"


@dataclass(frozen=True)
class LineFacts:
    """What eligibility needs to know about one order line. No database, no clock."""

    ordered: int
    taken: int  # units held by returns that count (requested, in progress or returned)
    final_sale: bool = False
    invoiced: bool = True
    delivered_at: datetime.datetime | None = None


@dataclass(frozen=True)
class Terms:
    """The policy values eligibility depends on."""

    returns_enabled: bool = True
    window_days: int = 30


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


@dataclass(frozen=True)
class Verdict:
    ordered: int
    taken: int
    returnable: int
    problem: Problem | None = None
    last_day: datetime.date | None = None  # the last day of the return window, once delivered

    @property
    def reason(self):
        """Why nothing can be returned, in a shopper's words ('' when something can)."""
        return self.problem.message if self.problem else ""

    @property
    def code(self):
        return self.problem.code if self.problem else None


def last_day(delivered_at, window_days):
    """The last day a delivered line may be returned: delivery day + window days (inclusive)."""
    if delivered_at is None:
        return None
    return delivered_at.date() + datetime.timedelta(days=window_days)


def _date(day):
    return f"{day.day} {day:%b %Y}"


# --- Validators: (facts, terms, now) -> Problem | None ---------------------------------------


def returns_enabled(facts, terms, at):
    if not terms.returns_enabled:
        return Problem(RETURNS_DISABLED, "Returns are switched off for this shop at the moment.")
    return None


def delivered(facts, terms, at):
    if facts.delivered_at is None:
        return Problem(NOT_DELIVERED, "Not delivered yet: you can return it once it has arrived.")
    return None


def invoiced(facts, terms, at):
    if not facts.invoiced:
        return Problem(
            NOT_INVOICED, "Not invoiced yet: you can return it once its invoice has been issued."
        )
    return None


def not_final_sale(facts, terms, at):
    if facts.final_sale:
        return Problem(FINAL_SALE, "Final sale: this item can't be returned.")
    return None


def within_window(facts, terms, at):
    day = last_day(facts.delivered_at, terms.window_days)
    if day is not None and at.date() > day:
        return Problem(
            WINDOW_PASSED,
            f"The return window closed on {_date(day)} ({terms.window_days} days from delivery).",
        )
    return None


def units_left(facts, terms, at):
    if facts.taken >= facts.ordered:
        unit = "It is" if facts.ordered == 1 else f"All {facts.ordered} are"
        return Problem(ALREADY_TAKEN, f"{unit} already returned or in a return request.")
    return None


VALIDATORS = (returns_enabled, delivered, invoiced, not_final_sale, within_window, units_left)


def check_line(facts, terms, at, validators=VALIDATORS):
    """The verdict for one line: the first validator's problem, or the units still returnable."""
    day = last_day(facts.delivered_at, terms.window_days)
    for validator in validators:
        problem = validator(facts, terms, at)
        if problem is not None:
            return Verdict(facts.ordered, facts.taken, 0, problem, day)
    return Verdict(facts.ordered, facts.taken, max(facts.ordered - facts.taken, 0), None, day)


# --- From the database ----------------------------------------------------------------------


@dataclass(frozen=True)
class LineEligibility:
    line: OrderLine
    verdict: Verdict

    @property
    def returnable(self):
        return self.verdict.returnable


def terms_of(policy):
    return Terms(returns_enabled=policy.returns_enabled, window_days=policy.window_days)


def facts_of(line, order, taken):
    return LineFacts(
        ordered=line.quantity,
        taken=taken,
        final_sale=line.final_sale,
        invoiced=bool(line.invoice_number),
        delivered_at=order.delivered_at,
    )


def for_lines(order, lines, policy=None, at=None, exclude_rma_id=None):
    """{order_line_id: LineEligibility} for `lines` of `order` (taken counts read now)."""
    policy = policy or ReturnPolicy.current()
    at = at or now()
    terms = terms_of(policy)
    taken = taken_by_line([line.id for line in lines], exclude_rma_id=exclude_rma_id)
    return {
        line.id: LineEligibility(
            line, check_line(facts_of(line, order, taken.get(line.id, 0)), terms, at)
        )  # fmt: skip
        for line in lines
    }


def for_order(order, policy=None, at=None):
    """Every line of `order` with its verdict, in line order."""
    lines = list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id))
    result = for_lines(order, lines, policy, at)
    return [result[line.id] for line in lines]


def anything_returnable(eligibilities):
    return any(e.returnable > 0 for e in eligibilities)

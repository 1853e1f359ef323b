"""Which order lines a shopper can still return, how many units, and if none, why (in words).

Eligibility is composed from small validators (as Solidus's return item eligibility): each looks
at plain facts about one line and returns a Problem or None. The first problem wins; a line with
no problem can return what was bought minus what returns already hold (rule 1, quantities.py).
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from functools import cache, lru_cache

from portal.models import OrderLine, ReturnPolicy, now
from portal.prebuilt import prebuilt_together_rows
from portal.returns.marks import N_
from portal.returns.quantities import taken_by_line, taken_query

# Problem codes, stable for code and tests; the messages are for shoppers.
RETURNS_DISABLED = "returns_disabled"
NOT_DELIVERED = "not_delivered"
NOT_INVOICED = "not_invoiced"
FINAL_SALE = "final_sale"
WINDOW_PASSED = "window_passed"
ALREADY_TAKEN = "already_taken"
BUNDLE = "bundle"


@dataclass(frozen=True)
class LineFacts:
    """What eligibility needs to know about one order line. No database, no clock."""

    ordered: int
    taken: int  # units held by returns that count (requested, in progress or returned)
    final_sale: bool = False
    invoiced: bool = True
    delivered_at: datetime.datetime | None = None
    bundle: bool = False  # a bundle's own line: its component lines are what is returned


@dataclass(frozen=True)
class Terms:
    """The policy values eligibility depends on."""

    returns_enabled: bool = True
    window_days: int = 30
    timezone: str = "UTC"  # the store's: days of the window are counted in it


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


@cache
def zone(name):
    return zoneinfo.ZoneInfo(name)


@lru_cache(maxsize=4096)  # lists ask again for the same delivery (an order's lines share it)
def store_date(at, timezone="UTC"):
    """The calendar day in the store's time zone at `at` (a naive UTC datetime)."""
    return at.replace(tzinfo=datetime.UTC).astimezone(zone(timezone)).date()


def last_day(delivered_at, window_days, timezone="UTC"):
    """The last day a delivered line may be returned: the delivery day + window days, inclusive,
    both counted in the store's time zone (a parcel delivered at 23:30 UTC on the 1st is
    delivered on the 2nd in Berlin)."""
    if delivered_at is None:
        return None
    return store_date(delivered_at, timezone) + datetime.timedelta(days=window_days)


# --- Validators: (facts, terms, now) -> Problem | None ---------------------------------------


def returns_enabled(facts, terms, at):
    if not terms.returns_enabled:
        return Problem(
            RETURNS_DISABLED, N_("Returns are switched off for this shop at the moment.")
        )
    return None


def not_a_bundle(facts, terms, at):
    if facts.bundle:
        return Problem(
            BUNDLE, N_("A bundle: return the parts you want to send back, listed below.")
        )
    return None


def delivered(facts, terms, at):
    if facts.delivered_at is None:
        return Problem(
            NOT_DELIVERED, N_("Not delivered yet: you can return it once it has arrived.")
        )
    return None


def invoiced(facts, terms, at):
    if not facts.invoiced:
        return Problem(
            NOT_INVOICED,
            N_("Not invoiced yet: you can return it once its invoice has been issued."),
        )
    return None


def not_final_sale(facts, terms, at):
    if facts.final_sale:
        return Problem(FINAL_SALE, N_("Final sale: this item can't be returned."))
    return None


def within_window(facts, terms, at):
    day = last_day(facts.delivered_at, terms.window_days, terms.timezone)
    if day is not None and store_date(at, terms.timezone) > day:
        return Problem(
            WINDOW_PASSED,
            N_(
                "The return window closed on %(day)s (%(days)s days from delivery).",
                day=day,
                days=terms.window_days,
            ),  # fmt: skip
        )
    return None


def units_left(facts, terms, at):
    if facts.taken >= facts.ordered:
        if facts.ordered == 1:
            return Problem(ALREADY_TAKEN, N_("It is already returned or in a return request."))
        return Problem(ALREADY_TAKEN, N_("All %(count)s are already returned or in a return "
                                         "request.", count=facts.ordered))  # fmt: skip
    return None


VALIDATORS = (returns_enabled, not_a_bundle, delivered, invoiced, not_final_sale, within_window,
              units_left)  # fmt: skip
# A manager may take a return after the window closed (with a reason in the timeline).
PAST_WINDOW = tuple(v for v in VALIDATORS if v is not within_window)


def validators_for(past_window=False, claim=False):
    """The validators that apply: a claim (a problem on the store's side) is not refused for a
    final sale, which rules out changing one's mind, not a remedy for a faulty item."""
    chosen = PAST_WINDOW if past_window else VALIDATORS
    return tuple(v for v in chosen if not (claim and v is not_final_sale))


def check_line(facts, terms, at, validators=VALIDATORS):
    """The verdict for one line: the first validator's problem, or the units still returnable."""
    day = last_day(facts.delivered_at, terms.window_days, terms.timezone)
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
    return Terms(returns_enabled=policy.returns_enabled, window_days=policy.window_days,
                 timezone=policy.timezone or "UTC")  # fmt: skip


def facts_of(line, order, taken, bundle=False):
    return LineFacts(
        ordered=line.quantity,
        taken=taken,
        final_sale=line.final_sale,
        invoiced=bool(line.invoice_number),
        # A replacement shipped later counts its window from its own delivery.
        delivered_at=line.delivered_at if line.replaces_id else order.delivered_at,
        bundle=bundle,
    )


def for_lines(order, lines, policy=None, at=None, exclude_rma_id=None, past_window=False,
              claim=False, taken=None):  # fmt: skip
    """{order_line_id: LineEligibility} for `lines` of `order` (taken counts read now, unless
    given). `past_window`: a manager's override of a closed return window; `claim`: for a
    claim."""
    policy = policy or ReturnPolicy.current()
    at = at or now()
    terms = terms_of(policy)
    if taken is None:
        taken = taken_by_line([line.id for line in lines], exclude_rma_id=exclude_rma_id)
    bundles = {line.bundle_id for line in lines if line.bundle_id}
    validators = validators_for(past_window, claim)
    return {
        line.id: LineEligibility(
            line,
            check_line(
                facts_of(line, order, taken.get(line.id, 0), line.id in bundles),
                terms,
                at,
                validators,
            ),
        )  # fmt: skip
        for line in lines
    }


def for_order(order, policy=None, at=None, past_window=False, claim=False):
    """Every line of `order` with its verdict, a bundle's parts right after the bundle."""
    lines = order_lines(order)
    result = for_lines(order, lines, policy, at, past_window=past_window, claim=claim)
    return [result[line.id] for line in lines]


def for_order_together(order, name, extra=None, at=None, past_window=False, claim=False,
                       policy=None):  # fmt: skip
    """for_order(), the store's policy and the rows of the queries `extra(order_id)` gives, all
    in one statement, its SQL built once per `name` (portal.prebuilt.prebuilt_together_rows): (policy,
    eligibilities, [rows of each query]). `extra` must give the same shape for any order.
    `policy`: the policy already at hand (portal.returns.pickers.return_policy), else it is
    read in the statement."""

    def build(order_id):
        line_ids = OrderLine.select(OrderLine.id).where(OrderLine.order == order_id)
        return [
            *([] if policy is not None else [ReturnPolicy.select().where(ReturnPolicy.id == 1)]),
            OrderLine.select().where(OrderLine.order == order_id).order_by(OrderLine.id),
            taken_query(line_ids),
            *(extra(order_id) if extra else []),
        ], []

    rows = prebuilt_together_rows(
        f"order-page-rows:{name}" + (":policy-given" if policy is not None else ""), build,
        order_id=order.id,
    )  # fmt: skip
    if policy is None:
        policies, *rows = rows
        policy = policies[0] if policies else ReturnPolicy.current()
    lines, taken_rows, *rows = rows
    lines = bundle_order(lines)
    taken = taken_by_line((), rows=taken_rows)
    result = for_lines(order, lines, policy, at, past_window=past_window, claim=claim,
                       taken=taken)  # fmt: skip
    return policy, [result[line.id] for line in lines], rows


def order_lines(order):
    """The order's lines in order, each bundle followed by its component lines."""
    return bundle_order(
        list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id))
    )


def bundle_order(lines):
    """`lines` (by id), each bundle followed by its component lines."""
    parts = {}
    for line in lines:
        if line.bundle_id:
            parts.setdefault(line.bundle_id, []).append(line)
    ordered = []
    for line in lines:
        if not line.bundle_id:
            ordered += [line, *parts.get(line.id, [])]
    known = {line.id for line in ordered}
    return ordered + [line for line in lines if line.id not in known]


def anything_returnable(eligibilities):
    return any(e.returnable > 0 for e in eligibilities)


@dataclass(frozen=True)
class OrderSummary:
    """What the order list says about one order: units still returnable and until when."""

    returnable: int
    until: datetime.date | None  # the last day of the latest return window still open


def units_returnable(ordered, taken, final_sale, invoiced, delivered_at, bundle, terms, today):
    """(units returnable, last day of the window) of check_line() with every validator, for
    the line those facts describe (LineFacts' fields), on `today` (the store's date now:
    store_date(at, terms.timezone)), without the words of a problem: for lists that only say
    how many units can still go back and until when."""
    day = None
    if delivered_at is not None:
        day = store_date(delivered_at, terms.timezone) + datetime.timedelta(days=terms.window_days)
    if (not terms.returns_enabled or bundle or delivered_at is None or not invoiced or final_sale
            or today > day or taken >= ordered):  # fmt: skip
        return 0, day
    return ordered - taken, day


def order_summary(lines, terms, today):
    """The OrderSummary of an order's `lines`, given as (ordered, taken, final_sale, invoiced,
    delivered_at, bundle) facts: units_returnable() summed, and the latest last day of the
    lines that can still go back."""
    units, until = 0, None
    for line in lines:
        count, day = units_returnable(*line, terms, today)
        if count:
            units += count
            if day and (until is None or day > until):
                until = day
    return OrderSummary(units, until)

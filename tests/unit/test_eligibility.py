"""Eligibility: each validator alone (Solidus style), the composed verdict, and its properties."""

import datetime

from hypothesis import given
from hypothesis import strategies as st

from portal.returns import eligibility as el
from portal.returns.eligibility import LineFacts, Terms, check_line

NOW = datetime.datetime(2026, 3, 15, 12, 0)
DELIVERED = datetime.datetime(2026, 3, 1, 9, 30)


def facts(**kw):
    base = dict(ordered=3, taken=0, final_sale=False, invoiced=True, delivered_at=DELIVERED)
    return LineFacts(**{**base, **kw})


# --- one validator at a time ----------------------------------------------------------------


def test_returns_enabled_validator():
    assert el.returns_enabled(facts(), Terms(returns_enabled=True), NOW) is None
    problem = el.returns_enabled(facts(), Terms(returns_enabled=False), NOW)
    assert problem.code == el.RETURNS_DISABLED
    assert "switched off" in problem.message


def test_delivered_validator():
    assert el.delivered(facts(), Terms(), NOW) is None
    problem = el.delivered(facts(delivered_at=None), Terms(), NOW)
    assert problem.code == el.NOT_DELIVERED
    assert problem.message.startswith("Not delivered yet")


def test_invoiced_validator():
    assert el.invoiced(facts(), Terms(), NOW) is None
    problem = el.invoiced(facts(invoiced=False), Terms(), NOW)
    assert problem.code == el.NOT_INVOICED
    assert problem.message.startswith("Not invoiced yet")


def test_final_sale_validator():
    assert el.not_final_sale(facts(), Terms(), NOW) is None
    assert el.not_final_sale(facts(final_sale=True), Terms(), NOW).code == el.FINAL_SALE


def test_window_counts_days_from_delivery_inclusive():
    terms = Terms(window_days=14)  # delivered 1 Mar: the last day is 15 Mar
    assert el.within_window(facts(), terms, datetime.datetime(2026, 3, 15, 23, 59)) is None
    problem = el.within_window(facts(), terms, datetime.datetime(2026, 3, 16, 0, 0))
    assert problem.code == el.WINDOW_PASSED
    assert problem.message == "The return window closed on 15 Mar 2026 (14 days from delivery)."


def test_window_of_zero_days_allows_the_delivery_day_only():
    terms = Terms(window_days=0)
    assert el.within_window(facts(), terms, DELIVERED.replace(hour=23)) is None
    assert el.within_window(facts(), terms, DELIVERED + datetime.timedelta(days=1)) is not None


def test_units_left_validator():
    assert el.units_left(facts(taken=2), Terms(), NOW) is None
    assert el.units_left(facts(taken=3), Terms(), NOW).message == (
        "All 3 are already returned or in a return request."
    )
    assert el.units_left(facts(ordered=1, taken=1), Terms(), NOW).message == (
        "It is already returned or in a return request."
    )


# --- composed ------------------------------------------------------------------------------


def test_an_eligible_line_can_return_what_is_not_taken():
    verdict = check_line(facts(taken=1), Terms(), NOW)
    assert verdict.returnable == 2
    assert verdict.problem is None and verdict.reason == "" and verdict.code is None
    assert verdict.last_day == datetime.date(2026, 3, 31)


def test_the_first_problem_wins():
    verdict = check_line(
        facts(final_sale=True, delivered_at=None), Terms(returns_enabled=False), NOW
    )
    assert verdict.returnable == 0
    assert verdict.code == el.RETURNS_DISABLED
    verdict = check_line(facts(final_sale=True, delivered_at=None), Terms(), NOW)
    assert verdict.code == el.NOT_DELIVERED
    assert verdict.last_day is None


def test_validators_compose():
    only_quantity = (el.units_left,)
    verdict = check_line(facts(final_sale=True), Terms(), NOW, validators=only_quantity)
    assert verdict.returnable == 3


# --- properties ----------------------------------------------------------------------------

dates = st.datetimes(
    min_value=datetime.datetime(2025, 1, 1), max_value=datetime.datetime(2027, 1, 1)
)


@st.composite
def line_facts(draw):
    ordered = draw(st.integers(min_value=1, max_value=50))
    return LineFacts(
        ordered=ordered,
        taken=draw(st.integers(min_value=0, max_value=ordered)),
        final_sale=draw(st.booleans()),
        invoiced=draw(st.booleans()),
        delivered_at=draw(st.none() | dates),
    )


terms_strategy = st.builds(
    Terms, returns_enabled=st.booleans(), window_days=st.integers(min_value=0, max_value=365)
)


@given(line_facts(), terms_strategy, dates)
def test_returnable_is_bounded_and_explained(f, terms, at):
    verdict = check_line(f, terms, at)
    assert 0 <= verdict.returnable <= f.ordered - f.taken
    # Nothing returnable <=> a reason in words, and the other way round.
    assert (verdict.returnable == 0) == (verdict.problem is not None)
    assert (verdict.reason != "") == (verdict.returnable == 0)


@given(line_facts(), terms_strategy, dates)
def test_every_gate_open_means_everything_left_is_returnable(f, terms, at):
    open_gates = (
        terms.returns_enabled
        and f.delivered_at is not None
        and f.invoiced
        and not f.final_sale
        and at.date() <= f.delivered_at.date() + datetime.timedelta(days=terms.window_days)
    )
    verdict = check_line(f, terms, at)
    if open_gates:
        assert verdict.returnable == f.ordered - f.taken
        if f.taken == f.ordered:
            assert verdict.code == el.ALREADY_TAKEN
    else:
        assert verdict.returnable == 0
        assert verdict.code != el.ALREADY_TAKEN


@given(line_facts(), terms_strategy, dates, st.integers(min_value=0, max_value=50))
def test_more_taken_never_means_more_returnable(f, terms, at, extra):
    more = LineFacts(f.ordered, min(f.ordered, f.taken + extra), f.final_sale, f.invoiced,
                     f.delivered_at)  # fmt: skip
    assert check_line(more, terms, at).returnable <= check_line(f, terms, at).returnable


@given(line_facts(), terms_strategy, dates, st.integers(min_value=1, max_value=400))
def test_time_only_closes_the_window(f, terms, at, days):
    later = at + datetime.timedelta(days=days)
    assert check_line(f, terms, later).returnable <= check_line(f, terms, at).returnable


# --- the order list's fast path equals the verdicts -----------------------------------------

zones = st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles", "Pacific/Kiritimati"])


@st.composite
def any_line_facts(draw):
    """Any facts, taken beyond what was ordered and bundles included."""
    return LineFacts(
        ordered=draw(st.integers(min_value=1, max_value=50)),
        taken=draw(st.integers(min_value=0, max_value=60)),
        final_sale=draw(st.booleans()),
        invoiced=draw(st.booleans()),
        delivered_at=draw(st.none() | dates),
        bundle=draw(st.booleans()),
    )


any_terms = st.builds(Terms, returns_enabled=st.booleans(),
                      window_days=st.integers(min_value=0, max_value=365), timezone=zones)  # fmt: skip


def _plain(f):
    return (f.ordered, f.taken, f.final_sale, f.invoiced, f.delivered_at, f.bundle)


@given(any_line_facts(), any_terms, dates)
def test_units_returnable_equals_check_line(f, terms, at):
    verdict = check_line(f, terms, at)
    today = el.store_date(at, terms.timezone)
    assert el.units_returnable(*_plain(f), terms, today) == (verdict.returnable, verdict.last_day)


@given(st.lists(any_line_facts(), max_size=8), any_terms, dates)
def test_order_summary_equals_the_verdicts_summed(lines, terms, at):
    verdicts = [check_line(f, terms, at) for f in lines]
    days = [v.last_day for v in verdicts if v.returnable and v.last_day]
    summary = el.order_summary([_plain(f) for f in lines], terms, el.store_date(at, terms.timezone))
    assert summary == el.OrderSummary(sum(v.returnable for v in verdicts), max(days, default=None))

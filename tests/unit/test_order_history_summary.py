"""The order list's summary of an order (portal/returns/order_history.py summary) is
eligibility.order_summary() of its lines' facts, made as the list made them before: for any
lines (bundles and their parts, replacements delivered later, final sale, not invoiced, taken
beyond what was bought), deliveries, policies and days, with one page's days shared between
its orders (hypothesis)."""

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.returns import eligibility as el
from portal.returns.eligibility import Terms
from portal.returns.order_history import summary

# A few weeks and short windows: the last day of a window is often today.
dates = st.datetimes(min_value=datetime.datetime(2026, 1, 1),
                     max_value=datetime.datetime(2026, 1, 21))  # fmt: skip
zones = st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles", "Pacific/Kiritimati"])
terms_strategy = st.builds(Terms, returns_enabled=st.booleans(),
                           window_days=st.integers(min_value=0, max_value=12),
                           timezone=zones)  # fmt: skip


@st.composite
def order(draw, order_id):
    """(the order's delivery, its lines as _build reads them, {line id: taken})."""
    delivered_at = draw(st.none() | dates)
    lines, taken = [], {}
    count = draw(st.integers(0, 6))
    ids = [order_id * 10 + n for n in range(count)]
    for line_id in ids:
        lines.append((
            line_id, order_id, "title", draw(st.integers(1, 5)), draw(st.booleans()),
            draw(st.sampled_from([None, "", "INV-1"])), draw(st.none() | dates),
            draw(st.sampled_from([None, 7])), draw(st.sampled_from([None, *ids])), None, None,
            None,
        ))  # fmt: skip
        if draw(st.booleans()):
            taken[line_id] = draw(st.sampled_from([None, 0, 1, 2, 7]))
    return delivered_at, lines, taken


def _as_before(lines, delivered_at, taken, terms, today):
    """What order_history() gave before: the lines' facts, then eligibility.order_summary."""
    bundles = {line[8] for line in lines if line[8]}
    facts = [
        (quantity, int(taken.get(line_id) or 0), final_sale, bool(invoice),
         line_delivered if replaces else delivered_at, line_id in bundles)
        for (line_id, _o, _t, quantity, final_sale, invoice, line_delivered, replaces, _b,
             *_pictures) in lines
    ]  # fmt: skip
    found = el.order_summary(facts, terms, today)
    return found.returnable, found.until


@settings(max_examples=300)
@given(count=st.integers(0, 4), terms=terms_strategy, data=st.data())
def test_the_lists_summary_is_order_summary(count, terms, data):
    orders = [data.draw(order(n)) for n in range(1, count + 1)]
    deliveries = [at for delivered_at, lines, _ in orders
                  for at in [delivered_at, *(line[6] for line in lines)] if at]  # fmt: skip
    at = data.draw(dates)
    if deliveries and data.draw(st.booleans()):  # today near a window's last day
        at = data.draw(st.sampled_from(deliveries)) + datetime.timedelta(
            days=terms.window_days + data.draw(st.sampled_from([-1, 0, 1])),
            hours=data.draw(st.integers(-12, 12)))  # fmt: skip
    today = el.store_date(at, terms.timezone)
    last_days = {}  # one page's, shared by its orders
    taken = {}
    for _delivered, _lines, own in orders:
        taken.update(own)
    for delivered_at, lines, _own in orders:
        expected = _as_before(lines, delivered_at, taken, terms, today)
        assert summary(lines, delivered_at, taken, terms, today, last_days) == expected

"""The return window's edge: the last day to request is the delivery day plus the window's days,
inclusive, both counted in the store's time zone. Pure: no database, no clock."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.returns import states
from portal.returns.eligibility import (
    WINDOW_PASSED,
    LineFacts,
    Terms,
    check_line,
    last_day,
    store_date,
)

DELIVERED = datetime.datetime(2026, 3, 1, 23, 30)  # 23:30 UTC on 1 March


def verdict(at, days=30, timezone="UTC"):
    facts = LineFacts(ordered=1, taken=0, delivered_at=DELIVERED)
    return check_line(facts, Terms(window_days=days, timezone=timezone), at)


def test_the_last_day_is_delivery_plus_the_window_inclusive():
    assert last_day(DELIVERED, 30) == datetime.date(2026, 3, 31)
    assert verdict(datetime.datetime(2026, 3, 31, 23, 59, 59)).returnable == 1
    closed = verdict(datetime.datetime(2026, 4, 1, 0, 0))
    assert (closed.returnable, closed.code) == (0, WINDOW_PASSED)
    assert "closed on 31 Mar 2026 (30 days from delivery)" in closed.reason


def test_days_count_in_the_store_time_zone():
    """23:30 UTC on 1 March is 00:30 on 2 March in Berlin: the window ends a day later there,
    and closes at midnight Berlin time (22:00 UTC in April, summer time)."""
    assert last_day(DELIVERED, 30, "Europe/Berlin") == datetime.date(2026, 4, 1)
    assert verdict(datetime.datetime(2026, 4, 1, 21, 59), timezone="Europe/Berlin").returnable
    late = verdict(datetime.datetime(2026, 4, 1, 22, 0), timezone="Europe/Berlin")
    assert late.code == WINDOW_PASSED
    # and west of UTC the same delivery is still on 1 March
    assert last_day(DELIVERED, 30, "America/New_York") == datetime.date(2026, 3, 31)


def test_a_zero_day_window_allows_the_delivery_day_only():
    assert verdict(datetime.datetime(2026, 3, 1, 23, 59), days=0).returnable == 1
    assert verdict(datetime.datetime(2026, 3, 2, 0, 0), days=0).code == WINDOW_PASSED


@given(
    delivered=st.datetimes(datetime.datetime(2020, 1, 1), datetime.datetime(2030, 1, 1)),
    days=st.integers(min_value=0, max_value=365),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles"]),
    offset=st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60),
)
def test_returnable_exactly_until_the_last_day_ends_in_the_store(delivered, days, zone, offset):
    facts = LineFacts(ordered=2, taken=0, delivered_at=delivered)
    day = last_day(delivered, days, zone)
    at = delivered + datetime.timedelta(days=days, minutes=offset)
    result = check_line(facts, Terms(window_days=days, timezone=zone), at)
    assert (result.returnable == 2) == (store_date(at, zone) <= day)
    assert result.last_day == day


def facts(**overrides):
    line = states.LineFacts(requested=2, received=2, damaged=0, restocked=0,
                            inspection="accepted", refunded=False)  # fmt: skip
    values = {"status": states.RECEIVED, "lines": (line,)}
    return states.ReturnFacts(**{**values, **overrides})


def test_without_inventory_tracking_restock_is_never_offered():
    assert "restock" in states.next_actions(facts())
    assert "restock" not in states.next_actions(facts(inventory_tracking=False))


def test_unsettled_extra_lines_offer_a_refund_and_block_finishing():
    done = states.LineFacts(requested=2, received=2, damaged=0, restocked=2,
                            inspection="accepted", refunded=True)  # fmt: skip
    settled = facts(lines=(done,))
    assert "finish" in states.next_actions(settled) and "refund" not in states.next_actions(settled)
    credit = facts(lines=(done,), extras_pending=450, extras_unsettled=True)
    assert "refund" in states.next_actions(credit) and "finish" not in states.next_actions(credit)
    charge = facts(lines=(done,), extras_pending=-500, extras_unsettled=True)
    assert "refund" not in states.next_actions(charge)  # nothing to pay out: remove it or refund
    assert "extra line" in states.finish_blocker(charge)


@pytest.mark.parametrize("status", [states.REQUESTED, states.APPROVED])
def test_a_credit_before_anything_arrived_offers_no_refund(status):
    empty = states.LineFacts(requested=2, received=0, damaged=0, restocked=0,
                             inspection="pending", refunded=False)  # fmt: skip
    assert "refund" not in states.next_actions(
        facts(status=status, lines=(empty,), extras_pending=450, extras_unsettled=True)
    )

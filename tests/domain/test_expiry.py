"""Expiry and reminders (portal.returns.expiry) as plain domain calls at chosen times."""

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.db import db
from portal.models import OutboxMessage, Return, ReturnEvent, now
from portal.returns import expiry
from tests import factories

DAY = datetime.timedelta(days=1)


START = datetime.datetime(2026, 3, 1, 10, 0)  # approved at 10:00 on 1 March (UTC)


def test_an_approved_return_is_cancelled_the_day_after_its_target_date(ctx, make):
    """The shopper was told "reaches us by 31 Mar": it is cancelled once 1 April begins."""
    make.policy(expire_unshipped_days=30)
    rma = factories.make_return(make.order(), status="approved", approved_at=START)
    assert Return.get_by_id(rma.id).target_date == datetime.date(2026, 3, 31)
    assert expiry.expire_unshipped(at=datetime.datetime(2026, 3, 31, 23, 59)) == []
    assert expiry.expire_unshipped(at=datetime.datetime(2026, 4, 1, 0, 0)) == [rma.reference]
    assert Return.get_by_id(rma.id).status == "cancelled"
    [event] = ReturnEvent.select().where(ReturnEvent.rma == rma.id)
    assert (event.kind, event.payload["days"]) == ("expired", 30)
    assert event.payload["target_date"] == "2026-03-31"
    [mail] = OutboxMessage.select()
    assert mail.payload["template"] == "return_expired" and mail.rma_id == rma.id
    assert expiry.expire_unshipped(at=datetime.datetime(2026, 4, 2)) == []  # once


def test_the_deadline_is_the_date_the_shopper_was_told_not_todays_setting(ctx, make):
    make.policy(expire_unshipped_days=30)
    rma = factories.make_return(make.order(), status="approved", approved_at=START)
    make.policy(expire_unshipped_days=5)  # changed after approval: the return keeps 31 March
    assert expiry.expire_unshipped(at=datetime.datetime(2026, 3, 20)) == []
    assert expiry.send_reminders(at=datetime.datetime(2026, 3, 20)) == [rma.reference]
    make.policy(expire_unshipped_days=0)  # switched off later: still expires when it was told
    assert expiry.expire_unshipped(at=datetime.datetime(2026, 4, 1)) == [rma.reference]


def test_the_deadline_counts_in_the_store_time_zone(ctx, make):
    """In Auckland (UTC+13 in March) 31 March ends at 11:00 UTC that day."""
    make.policy(expire_unshipped_days=30, timezone="Pacific/Auckland")
    rma = factories.make_return(make.order(), status="approved", approved_at=START)
    assert Return.get_by_id(rma.id).target_date == datetime.date(2026, 3, 31)
    assert expiry.expire_unshipped(at=datetime.datetime(2026, 3, 31, 10, 59)) == []
    assert expiry.expire_unshipped(at=datetime.datetime(2026, 3, 31, 11, 0)) == [rma.reference]


def test_other_statuses_are_left_alone(ctx, make):
    make.policy(expire_unshipped_days=5)
    old = now() - 50 * DAY
    for status in ("requested", "partially_received", "received", "on_hold", "completed"):
        factories.make_return(make.order(), status=status, approved_at=old)
    assert expiry.expire_unshipped() == [] and expiry.send_reminders() == []
    assert OutboxMessage.select().count() == 0


def test_zero_days_turns_expiry_off(ctx, make):
    make.policy(expire_unshipped_days=0)
    factories.make_return(make.order(), status="approved", approved_at=now() - 400 * DAY)
    assert expiry.expire_unshipped() == [] and expiry.send_reminders() == []


def test_one_reminder_halfway_then_expiry(ctx, make):
    """Approved 1 March 10:00, due by 11 March: the deadline is 12 March 00:00, halfway is
    6 March 17:00."""
    make.policy(expire_unshipped_days=10)
    rma = factories.make_return(make.order(), status="approved", approved_at=START)
    assert expiry.send_reminders(at=datetime.datetime(2026, 3, 6, 16, 59)) == []
    assert expiry.send_reminders(at=datetime.datetime(2026, 3, 6, 17, 0)) == [rma.reference]
    assert expiry.send_reminders(at=datetime.datetime(2026, 3, 7)) == []
    [mail] = OutboxMessage.select()
    assert mail.payload["context"]["days_left"] == 5
    assert mail.payload["context"]["deadline"] == "11 Mar 2026"
    at_deadline = datetime.datetime(2026, 3, 12)
    assert expiry.send_reminders(at=at_deadline) == []  # past the deadline: no reminder
    assert expiry.expire_unshipped(at=at_deadline) == [rma.reference]
    kinds = [e.kind for e in ReturnEvent.select().order_by(ReturnEvent.id)]
    assert kinds == ["reminder_sent", "expired"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    days=st.integers(min_value=1, max_value=30),
    ages=st.lists(st.integers(min_value=0, max_value=60 * 24), min_size=1, max_size=6),
    runs=st.lists(st.integers(min_value=0, max_value=60 * 24), min_size=1, max_size=5),
)
def test_any_schedule_of_runs_sends_each_email_at_most_once(ctx, make, days, ages, runs):
    """Whatever the approval ages (hours) and however often housekeeping runs, each return gets
    at most one reminder and one expiry, and it is cancelled exactly when its deadline passed."""
    with db.atomic():
        for model in (OutboxMessage, ReturnEvent, Return):
            model.delete().execute()
    make.policy(expire_unshipped_days=days)
    start = now()
    order = make.order()
    returns = [factories.make_return(order, status="approved",
                              approved_at=start - datetime.timedelta(hours=h)) for h in ages]  # fmt: skip
    last = start
    for offset in sorted(runs):
        last = start + datetime.timedelta(hours=offset)
        expiry.expire_unshipped(at=last)
        expiry.send_reminders(at=last)
    for rma in returns:
        # By template, not by dedupe key: the keys are unique in the table whatever happens.
        sent = [m.payload["template"] for m in OutboxMessage.select().where(
            OutboxMessage.rma == rma.id)]  # fmt: skip
        assert len(sent) == len(set(sent)) <= 2, sent
        assert set(sent) <= {"return_reminder", "return_expired"}, sent
        due = expiry.deadline(Return.get_by_id(rma.id)) <= last
        assert (Return.get_by_id(rma.id).status == "cancelled") == due
        assert ("return_expired" in sent) == due  # the expiry email goes with the cancelling

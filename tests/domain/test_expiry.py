"""Expiry and reminders (portal.returns.expiry) as plain domain calls at chosen times."""

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.db import db
from portal.models import OutboxMessage, Return, ReturnEvent, now
from portal.returns import expiry
from tests import factories

DAY = datetime.timedelta(days=1)


def test_an_approved_return_is_cancelled_after_the_policy_days(ctx, make):
    make.policy(expire_unshipped_days=30)
    start = now()
    rma = factories.make_return(make.order(), status="approved", approved_at=start)
    assert expiry.expire_unshipped(at=start + 29 * DAY) == []
    assert expiry.expire_unshipped(at=start + 30 * DAY) == [rma.reference]
    assert Return.get_by_id(rma.id).status == "cancelled"
    [event] = ReturnEvent.select().where(ReturnEvent.rma == rma.id)
    assert (event.kind, event.payload["days"]) == ("expired", 30)
    [mail] = OutboxMessage.select()
    assert mail.payload["template"] == "return_expired" and mail.rma_id == rma.id
    assert expiry.expire_unshipped(at=start + 31 * DAY) == []  # once


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
    make.policy(expire_unshipped_days=10)
    start = now()
    rma = factories.make_return(make.order(), status="approved", approved_at=start)
    assert expiry.send_reminders(at=start + 4 * DAY) == []
    assert expiry.send_reminders(at=start + 5 * DAY) == [rma.reference]
    assert expiry.send_reminders(at=start + 6 * DAY) == []
    [mail] = OutboxMessage.select()
    assert mail.payload["context"]["days_left"] == 5
    assert expiry.send_reminders(at=start + 11 * DAY) == []  # past the deadline: no reminder
    assert expiry.expire_unshipped(at=start + 11 * DAY) == [rma.reference]
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
        due = rma.approved_at + days * DAY <= last
        assert (Return.get_by_id(rma.id).status == "cancelled") == due
        assert ("return_expired" in sent) == due  # the expiry email goes with the cancelling

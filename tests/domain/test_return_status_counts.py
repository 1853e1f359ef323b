"""return_status_count, kept by triggers (migration 0004), always equals counting the returns:
through the domain's transitions, raw SQL, deletes, and concurrent opposite transitions on
PostgreSQL. The queue's unfiltered tabs read it."""

import threading

import pytest
from peewee import fn

from portal.db import db
from portal.models import Return, ReturnStatusCount
from portal.returns import queue, receiving, review
from tests import factories


def counted():
    return dict(Return.select(Return.status, fn.COUNT(Return.id)).group_by(Return.status).tuples())


def kept():
    return {
        status: count
        for status, count in ReturnStatusCount.select(
            ReturnStatusCount.status, ReturnStatusCount.count
        ).tuples()
        if count
    }


def new_return(shop, status="requested"):
    line = shop.order.lines.get()
    return factories.create_return(shop.order, reason=shop.changed_mind, lines=[(line, 1, None)],
                            status=status)  # fmt: skip


def test_counts_follow_every_kind_of_change(any_app):
    with any_app.app_context():
        shop = factories.store(quantity=20)
        assert kept() == counted() == {}
        a, b, c, d = (new_return(shop) for _ in range(4))
        assert kept() == counted() == {"requested": 4}
        review.approve(a, shop.manager)
        review.approve(b, shop.manager)
        review.reject(c, shop.manager, "Worn")
        assert kept() == counted() == {"requested": 1, "approved": 2, "rejected": 1}
        review.hold(factories.fresh(a), shop.manager, "Waiting for photos")
        assert kept() == counted()
        review.resume(factories.fresh(a), shop.manager)
        receiving.receive(factories.fresh(b), shop.agent, {factories.line_of(b).id: (1, 0)})
        assert kept() == counted() == {"requested": 1, "approved": 1, "received": 1,
                                       "rejected": 1}  # fmt: skip
        # A write that changes other columns only leaves the counts alone.
        Return.update(shopper_note="edited").execute()
        # Writes outside the domain (an import, an operator's SQL) are counted too.
        Return.update(status="cancelled").where(Return.id == d.id).execute()
        new_return(shop, status="completed")
        Return.delete().where(Return.id == c.id).execute()
        assert kept() == counted() == {"approved": 1, "received": 1, "cancelled": 1,
                                       "completed": 1}  # fmt: skip


def test_a_rolled_back_change_leaves_the_counts_as_they_were(any_app):
    with any_app.app_context():
        shop = factories.store(quantity=5)
        rma = new_return(shop)
        with pytest.raises(RuntimeError), db.atomic():
            Return.update(status="approved").where(Return.id == rma.id).execute()
            raise RuntimeError("the request failed after the update")
        assert kept() == counted() == {"requested": 1}


def test_the_unfiltered_queue_tabs_read_the_kept_counts(app):
    with app.app_context():
        shop = factories.store(quantity=10)
        for _ in range(3):
            new_return(shop)
        review.approve(new_return(shop), shop.manager)
        tabs = queue.tab_counts(queue.Filters())
        assert (tabs["open"], tabs["requested"], tabs["approved"], tabs["all"]) == (4, 3, 1, 4)
        # Proof the tabs come from the table: a count the triggers did not make shows up.
        ReturnStatusCount.update(count=ReturnStatusCount.count + 100).where(
            ReturnStatusCount.status == "requested"
        ).execute()
        assert queue.tab_counts(queue.Filters())["requested"] == 103
        # A filtered queue still counts the returns themselves.
        filtered = queue.tab_counts(queue.Filters(responsible="none"))
        assert filtered["requested"] == 3


@pytest.mark.postgres
def test_opposite_transitions_at_once_on_postgres_neither_deadlock_nor_drift(pg_app):
    """Holding (approved -> on_hold) and resuming (on_hold -> approved) touch the same two
    counter rows in opposite directions; the trigger updates them in name order."""
    rounds = 12
    with pg_app.app_context():
        shop = factories.store(quantity=2 * rounds)
        to_hold, to_resume = [], []
        for n in range(2 * rounds):
            rma = new_return(shop)
            review.approve(rma, shop.manager)
            if n % 2:
                review.hold(factories.fresh(rma), shop.manager, "check")
                to_resume.append(rma.id)
            else:
                to_hold.append(rma.id)
    barrier = threading.Barrier(2 * rounds)
    failures = []

    def run(call):
        with pg_app.app_context(), db.connection_context():
            barrier.wait(timeout=60)
            try:
                call()
            except Exception as exc:  # a deadlock would surface here
                failures.append(exc)

    calls = [lambda i=i: review.hold(i, shop.manager, "busy") for i in to_hold] + [
        lambda i=i: review.resume(i, shop.manager) for i in to_resume
    ]
    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    with pg_app.app_context():
        assert kept() == counted() == {"approved": rounds, "on_hold": rounds}

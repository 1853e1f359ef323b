"""The queue's deep pages start from anchors (portal/returns/queue_anchors.py) on SQLite: for any
tab, sort, filters and page, and whatever was written to the returns between two pages (by the
domain or by raw SQL), an anchored page lists exactly the rows OFFSET lists; the anchors are
used (a deep page skips fewer than EVERY entries); PostgreSQL keeps OFFSET."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.db import db
from portal.models import Return
from portal.returns import queue, queue_anchors, review
from tests import factories
from tests.querycount import count_queries

EVERY = 3  # rows between anchors in these tests, so a few dozen returns have many


@pytest.fixture
def returns(app, monkeypatch):
    monkeypatch.setattr(queue_anchors, "EVERY", EVERY)
    with app.app_context():
        store = factories.store()
        made = []
        for n in range(24):
            order = factories.order(customer=store.shopper, lines=[{"sku": f"S{n}", "quantity": 1}])
            made.append(factories.create_return(order, reason=store.changed_mind))
        start = datetime.datetime(2024, 3, 1, 9, 30)
        for n, rma in enumerate(made):  # ties on created_at: the id decides
            at = start + datetime.timedelta(hours=n // 3)
            Return.update(created_at=at, updated_at=at + datetime.timedelta(minutes=n % 5)).where(
                Return.id == rma.id
            ).execute()
        for rma in made[:6]:
            review.approve(Return.get_by_id(rma.id), store.manager)
        review.assign_responsible(Return.get_by_id(made[7].id), store.agent, store.agent)
        yield store, made


def _ids(f, per_page, counted):
    """The ids of a page: after tab_counts (anchored) when `counted`, else by OFFSET."""
    total = queue.tab_counts(f)[f.status]
    if not counted:
        f.writes = None
    return [row.id for row in queue.page_of(f, per_page, total=total).items]


def _write(kind, store, made, n):
    """One change to the returns between two pages."""
    rma = Return.get_or_none(Return.id == made[n % len(made)].id)
    if kind == "approve" and rma is not None and rma.status == "requested":
        review.approve(rma, store.manager)
    elif kind == "move" and rma is not None:
        db.execute_sql(
            'UPDATE "return" SET "created_at" = ?, "updated_at" = ? WHERE "id" = ?',
            ("2024-03-01 09:00:00", "2030-01-01 00:00:00", rma.id),
        )
    elif kind == "delete" and rma is not None:
        db.execute_sql('DELETE FROM "return_line" WHERE "rma_id" = ?', (rma.id,))
        db.execute_sql('DELETE FROM "return_event" WHERE "rma_id" = ?', (rma.id,))
        db.execute_sql('DELETE FROM "return" WHERE "id" = ?', (rma.id,))
    elif kind == "new":
        order = factories.order(customer=store.shopper, lines=[{"sku": "NEW", "quantity": 1}])
        made.append(factories.create_return(order, reason=store.changed_mind))


def _counter():
    return db.execute_sql('SELECT "n" FROM "cache_generation" WHERE "id" = 2').fetchone()[0]


def test_anchored_pages_are_offsets_pages_whatever_is_written_between(returns):
    store, made = returns

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        status=st.sampled_from(["all", "open", "requested", "approved", "claims"]),
        sort=st.sampled_from(sorted(queue.SORTS)),
        responsible=st.sampled_from(["", "none", str(store.agent.id)]),
        date_from=st.sampled_from([None, datetime.date(2024, 3, 1), datetime.date(2024, 3, 2)]),
        per_page=st.integers(1, 4),
        pages=st.lists(st.integers(1, 30), min_size=1, max_size=4),
        writes=st.lists(
            st.tuples(
                st.sampled_from(["approve", "move", "delete", "new", None]), st.integers(0, 40)
            ),  # fmt: skip
            max_size=3,
        ),
    )
    def check(status, sort, responsible, date_from, per_page, pages, writes):
        def filters(page):
            return queue.Filters(status=status, sort=sort, responsible=responsible,
                                 date_from=date_from, page=page)  # fmt: skip

        for page, (kind, n) in zip(pages, writes + [(None, 0)] * len(pages), strict=False):
            assert _ids(filters(page), per_page, True) == _ids(filters(page), per_page, False)
            _write(kind, store, made, n)
            assert _ids(filters(page), per_page, True) == _ids(filters(page), per_page, False)

    check()


def test_every_page_of_every_list_after_each_kind_of_write(returns):
    store, made = returns
    for kind, n in [(None, 0), ("move", 20), ("delete", 1), ("approve", 12), ("new", 0)]:
        _write(kind, store, made, n)
        for status in ("all", "open", "requested"):
            for sort in sorted(queue.SORTS):
                pages = -(-queue.tab_counts(queue.Filters(status=status))[status] // 2)
                for page in range(1, pages + 1):
                    f = queue.Filters(status=status, sort=sort, page=page)
                    again = queue.Filters(status=status, sort=sort, page=page)
                    assert _ids(f, 2, True) == _ids(again, 2, False), (kind, status, sort, page)


def test_a_deep_page_skips_fewer_than_every_entries_and_any_write_starts_afresh(returns):
    store, made = returns
    f = queue.Filters(status="all", page=4)  # rows 9-11 of 24, read from the front
    with count_queries() as first:
        _ids(f, 3, True)
    with count_queries() as again:
        ids = _ids(queue.Filters(status="all", page=4), 3, True)
    page = [s for s in again.statements if "LIMIT" in s and "IN (SELECT" in s]
    assert len(page) == 1 and "<=" in page[0]  # from the anchor, newest first
    assert len(first.statements) == len(again.statements) + 1  # the anchor, read once
    generation = _counter()
    assert {version for version, _ in db.obj.__dict__["_queue_anchors"].values()} == {generation}
    db.execute_sql('UPDATE "return" SET "resolution" = "resolution" WHERE "id" = ?', (made[0].id,))
    assert _counter() == generation + 1  # any write, even raw SQL, moves the counter
    with count_queries() as after:
        assert _ids(queue.Filters(status="all", page=4), 3, True) == ids
    assert len(after.statements) == len(first.statements)  # the anchor read again


def test_searches_reasons_and_the_refund_failed_tab_are_not_anchored(returns):
    store, made = returns
    for f in (
        queue.Filters(status="all", q="RMA", page=4),
        queue.Filters(status="all", reason=store.changed_mind.id, page=4),
        queue.Filters(status="refund_failed", page=4),
        queue.Filters(status="all", sort="order", page=4),
        queue.Filters(status="all", sort="status", page=4),
    ):
        assert _ids(f, 3, True) == _ids(f, 3, False)
    assert not db.obj.__dict__.get("_queue_anchors")


@pytest.mark.postgres
def test_postgresql_reads_no_counter_and_keeps_offset(pg_app, monkeypatch):
    monkeypatch.setattr(queue_anchors, "EVERY", EVERY)
    with pg_app.app_context():
        store = factories.store()
        for n in range(8):
            order = factories.order(customer=store.shopper, lines=[{"sku": f"P{n}", "quantity": 1}])
            factories.create_return(order, reason=store.changed_mind)
        f = queue.Filters(status="all", page=3)
        counts = queue.tab_counts(f)
        assert f.writes is None and counts["all"] == 8
        assert len(queue.page_of(f, 3, total=counts["all"]).items) == 2
        assert not db.obj.__dict__.get("_queue_anchors")

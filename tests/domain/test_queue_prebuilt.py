"""The queue's statements are built once per shape of the filters (portal.prebuilt.prebuilt_select):
for any filters, the SQL and parameters a later call sends are exactly what Peewee builds for
its own values (so the plans are the ones the queue always had), and the rows are the same."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.db import db
from portal.models import Return
from portal.returns import queue, review
from tests import factories


@pytest.fixture(params=["sqlite", "postgres"])
def returns(request):
    app = request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    with app.app_context():
        store = factories.store()
        made = []
        for n in range(7):
            order = factories.order(customer=store.shopper, lines=[{"sku": f"S{n}", "quantity": 2}])
            reason = store.defective if n % 2 else store.changed_mind
            made.append(factories.create_return(order, reason=reason))
        review.approve(made[0], store.manager)
        review.assign_responsible(made[1], store.agent, store.agent)
        Return.update(created_at=datetime.datetime(2020, 1, 15)).where(
            Return.id == made[2].id
        ).execute()
        yield store, made


def _sent(name, shape, values, build):
    """(sql, params) the prebuilt statement sends for `values`, and Peewee's own for them."""
    sql, slots, *_ = db.obj.__dict__["_prebuilt_select"][(name, shape)]
    sent = [values[v] if is_value else v for is_value, v in slots]
    return (sql, sent), db.obj.get_sql_context().sql(build(shape, values)).query()


def test_prebuilt_statements_are_peewees_own_for_any_filters(returns):
    store, made = returns
    filters = st.builds(
        queue.Filters,
        status=st.sampled_from([name for name, _ in queue.TABS]),
        q=st.sampled_from(
            [
                "",
                made[3].reference,
                made[4].reference[4:],
                store.shopper.email,
                store.shopper.email.upper(),
                "zz-nothing",
            ]
        ),  # fmt: skip
        reason=st.sampled_from([None, store.changed_mind.id, store.defective.id]),
        responsible=st.sampled_from(["", "me", "none", str(store.agent.id), "junk"]),
        date_from=st.sampled_from([None, datetime.date(2020, 1, 1), datetime.date(2030, 1, 1)]),
        date_to=st.sampled_from([None, datetime.date(2020, 1, 31)]),
        sort=st.sampled_from(sorted(queue.SORTS)),
        page=st.integers(1, 4),
        user_id=st.just(store.agent.id),
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(filters)
    def check(f):
        counts = queue.tab_counts(f)
        page = queue.page_of(f, per_page=2, total=counts[f.status])
        shape, values = queue._filter_shape(f)
        prebuilt, own = _sent("queue-counts", (shape, queue._unfiltered(f)), values,
                              queue._counts_query)  # fmt: skip
        assert prebuilt == own
        backwards, limit, offset = queue._page_window(page.number, 2, counts[f.status])
        values = {**values, "limit": limit, "offset": offset}
        page_shape = (shape, f.status, f.sort, backwards, False)
        prebuilt, own = _sent("queue-page", page_shape, values, queue._page_query)
        assert prebuilt == own
        rows = list(queue._page_query(page_shape, values))
        assert [row.id for row in page.items] == [row[0] for row in rows]
        assert len(page.items) == min(2, max(counts[f.status] - (page.number - 1) * 2, 0))
        if page.items:
            ids = {f"id{n}": row.id for n, row in enumerate(page.items)}
            line_shape = ("page", len(page.items))
            prebuilt, own = _sent("queue-lines", line_shape, ids, queue._lines_query)
            assert prebuilt == own
            assert all(row.requested == 2 for row in page.items)

    check()

"""Every shopper and staff page runs a fixed number of queries, at most six (issue 17): the
same for a return with one line as for one with many lines, refunds, extra lines and events,
and for lists with a few rows as with many. Pages that send files (PDFs, CSV, the calendar
feed) are not pages here."""

import pytest

from portal.models import ReturnEvent, ReturnExtraLine
from tests import factories
from tests.apps import close_db, make_app
from tests.pages import login
from tests.querycount import count_queries

MOST = 6
SHOPPER_PAGES = ["/orders", "/orders/{order}", "/orders/{order}/return", "/orders/{order}/claim",
                 "/account", "/returns", "/returns/{ref}", "/account/security"]  # fmt: skip
STAFF_PAGES = ["/merchant/returns", "/merchant/returns?status=all&q={ref}",
               "/merchant/returns?status=refund_failed", "/merchant/returns/{ref}",
               "/merchant/orders", "/merchant/orders/{order}", "/merchant/operations",
               "/merchant/audit", "/merchant/fulfilment", "/merchant/settings/locations",
               "/merchant/settings/shipping", "/merchant/settings/policy", "/merchant/staff",
               "/merchant/receive", "/merchant/stock", "/merchant/calendar",
               "/account/security"]  # fmt: skip


def _counts(app, client, pages, names):
    counts = {}
    for page in pages:
        url = page.format(**names)
        client.get(url)  # warm up (the pickers' cache, the policy row)
        with app.app_context(), count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[page] = queries
    return counts


def _grow(store, rma, many):
    """More of everything the pages list: orders, returns, lines, refunds, events, extras."""
    lines = [{"sku": f"S{i}", "quantity": 2, "unit_price": 1500} for i in range(many)]
    for _ in range(many):
        order = factories.order(customer=store.shopper, lines=lines)
        other = factories.create_return(order, reason=store.defective, status="received")
        factories.make_refund(other, 500, order.payments.get(), status="failed")
    payment = store.order.payments.get()
    for i in range(many):
        factories.make_refund(rma, 100 + i, payment, status="succeeded", key=f"grow-{rma.id}-{i}")
        ReturnExtraLine.create(rma=rma, description=f"Extra {i}", amount=100)
        ReturnEvent.create(rma=rma, kind="note", payload={"text": f"note {i}"}, internal=True)


def _check(app, pages, who, names, grow):
    client = app.test_client()
    login(client, who.email)
    few = _counts(app, client, pages, names)
    with app.app_context():
        grow()
    close_db()
    many = _counts(app, client, pages, names)
    grew = {page: (few[page].count, many[page].count) for page in pages
            if few[page].count != many[page].count}  # fmt: skip
    assert not grew, {page: (counts, many[page]) for page, counts in grew.items()}
    too_many = {page: many[page] for page in pages if many[page].count > MOST}
    assert not too_many, too_many


@pytest.fixture(params=["sqlite", "postgres"])
def app(request):
    return request.getfixturevalue("sqlite_app" if request.param == "sqlite" else "pg_app")


@pytest.fixture
def sqlite_app(tmp_path):
    app = make_app(tmp_path)
    yield app
    close_db()


def test_every_shopper_page_runs_at_most_six_queries_whatever_the_rows(app):
    with app.app_context():
        store = factories.store(quantity=5)
        rma = factories.create_return(store.order, reason=store.changed_mind, status="received",
                                      lines=None)  # fmt: skip
        open_order = factories.order(customer=store.shopper,
                                     lines=[{"sku": "A", "quantity": 2}, {"sku": "B"}])  # fmt: skip
    close_db()
    names = {"order": open_order.number, "ref": rma.reference}
    _check(app, SHOPPER_PAGES, store.shopper, names, lambda: _grow(store, rma, 8))


def test_every_staff_page_runs_at_most_six_queries_whatever_the_rows(app):
    with app.app_context():
        store = factories.store(quantity=5)
        rma = factories.create_return(store.order, reason=store.changed_mind, status="received")
        factories.make_refund(rma, 100, store.order.payments.get(), status="failed")
    close_db()
    names = {"order": store.order.number, "ref": rma.reference}
    _check(app, STAFF_PAGES, store.admin, names, lambda: _grow(store, rma, 8))

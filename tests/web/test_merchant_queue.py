"""The returns queue: status tabs with counts, filters, search, sorting, pagination, htmx
partials that keep the URL, failed refunds flagged, and a query count that does not grow with
the rows on the page."""

import datetime
import re

import pytest

from portal.models import Refund, Return
from portal.returns import review
from portal.returns.queue import SORTS
from tests import factories
from tests.pages import login
from tests.querycount import count_queries


def make_returns(store, count, **kw):
    refs = []
    for _ in range(count):
        order = factories.order(customer=store.shopper, lines=[{"sku": "Q", "quantity": 1}])
        refs.append(
            factories.create_return(order, reason=kw.get("reason") or store.changed_mind).reference
        )
    return refs


def refs_in(html):
    return re.findall(r">(RMA-T-\d+)</a>", html)


def test_tabs_count_returns_by_status_and_open_is_the_default(app, client, store):
    with app.app_context():
        requested = make_returns(store, 2)
        approved = make_returns(store, 1)
        review.approve(Return.get(Return.reference == approved[0]), store.manager)
        rejected = make_returns(store, 1)
        review.reject(Return.get(Return.reference == rejected[0]), store.manager, "Too late")
    login(client, store.agent.email)
    html = client.get("/merchant/returns").get_data(as_text=True)
    assert "Open (3)" in html and "Requested (2)" in html and "Approved (1)" in html
    assert "Rejected (1)" in html and "All (4)" in html
    assert set(refs_in(html)) == set(requested + approved)
    html = client.get("/merchant/returns?status=rejected").get_data(as_text=True)
    assert refs_in(html) == rejected


def test_search_by_reference_order_number_or_shopper_email(app, client, store):
    with app.app_context():
        mine = make_returns(store, 1)[0]
        other_shopper = factories.user("olga@example.com")
        order = factories.order(customer=other_shopper, number="ORD-7777")
        olga = factories.create_return(order, reason=store.changed_mind).reference
    login(client, store.agent.email)
    for term in (mine, mine.lower()):
        assert refs_in(client.get(f"/merchant/returns?q={term}").get_data(as_text=True)) == [mine]
    assert refs_in(client.get("/merchant/returns?q=ORD-7777").get_data(as_text=True)) == [olga]
    assert refs_in(client.get("/merchant/returns?q=OLGA@example").get_data(as_text=True)) == [olga]
    # a whole address (any case) takes the indexed path and finds the same return
    for term in ("olga@example.com", " Olga@Example.COM "):
        html = client.get("/merchant/returns", query_string={"q": term}).get_data(as_text=True)
        assert refs_in(html) == [olga], term
    html = client.get("/merchant/returns?q=nothing-like-this").get_data(as_text=True)
    assert refs_in(html) == [] and "0 returns" in html


def test_filters_by_reason_including_nested_reasons_responsible_and_dates(app, client, store):
    with app.app_context():
        fit = factories.reason(code="fit", label="Fit")
        small = factories.reason(code="fit_small", label="Too small", parent=fit)
        small_ref = make_returns(store, 1, reason=small)[0]
        plain = make_returns(store, 1)[0]
        rma = Return.get(Return.reference == plain)
        review.assign_responsible(rma, store.agent, store.agent)
        old = make_returns(store, 1)[0]
        Return.update(created_at=datetime.datetime(2020, 1, 15)).where(
            Return.reference == old
        ).execute()
        fit_id = fit.id
    login(client, store.agent.email)
    assert refs_in(client.get(f"/merchant/returns?reason={fit_id}").get_data(as_text=True)) == [
        small_ref
    ]
    assert refs_in(client.get("/merchant/returns?responsible=me").get_data(as_text=True)) == [plain]
    html = client.get("/merchant/returns?responsible=none").get_data(as_text=True)
    assert set(refs_in(html)) == {small_ref, old}
    html = client.get("/merchant/returns?date_from=2020-01-01&date_to=2020-01-31").get_data(
        as_text=True
    )
    assert refs_in(html) == [old]
    html = client.get("/merchant/returns?date_from=not-a-date").get_data(as_text=True)
    assert "Some filters were ignored" in html and len(refs_in(html)) == 3


def test_sorting_and_pagination_keep_the_filters(app, client, store):
    app.config["PER_PAGE"] = 2
    with app.app_context():
        refs = make_returns(store, 5)
    login(client, store.agent.email)
    html = client.get("/merchant/returns?sort=reference").get_data(as_text=True)
    assert refs_in(html) == sorted(refs)[:2]
    assert 'href="/merchant/returns?sort=reference&amp;page=2"' in html
    html = client.get("/merchant/returns?sort=reference&page=3").get_data(as_text=True)
    assert refs_in(html) == sorted(refs)[4:]
    html = client.get("/merchant/returns?sort=oldest&q=RMA").get_data(as_text=True)
    assert refs_in(html) == refs[:2]
    assert "q=RMA" in html  # links keep the search


def test_htmx_gets_only_the_results_and_plain_requests_the_page(app, client, store):
    with app.app_context():
        ref = make_returns(store, 1)[0]
    login(client, store.agent.email)
    partial = client.get(f"/merchant/returns?q={ref}", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and body.lstrip().startswith('<div id="queue-results">')
    assert "<html" not in body and refs_in(body) == [ref]
    assert 'hx-push-url="true"' in body and 'hx-swap-oob="true"' in body
    full = client.get(f"/merchant/returns?q={ref}").get_data(as_text=True)
    assert "<html" in full and 'id="queue-filters"' in full and f'value="{ref}"' in full
    # htmx restoring history asks for the whole page
    restore = client.get("/merchant/returns", headers={"HX-Request": "true",
                                                       "HX-History-Restore-Request": "true"})  # fmt: skip
    assert "<html" in restore.get_data(as_text=True)


def test_failed_refunds_are_flagged_and_have_their_own_tab(app, client, store):
    with app.app_context():
        ref = make_returns(store, 1)[0]
        make_returns(store, 1)
        rma = Return.get(Return.reference == ref)
        payment = store.order.payments.get()
        Refund.create(rma=rma, payment=payment, method="card", amount=100, currency="USD",
                      status="failed", idempotency_key="k1", last_error="card expired")  # fmt: skip
    login(client, store.agent.email)
    html = client.get("/merchant/returns").get_data(as_text=True)
    assert (
        "Refund failed (1)" in html and html.count('class="badge status-failed">Refund failed') == 1
    )
    assert refs_in(client.get("/merchant/returns?status=refund_failed").get_data(as_text=True)) == [
        ref
    ]


def test_the_query_count_does_not_grow_with_the_rows(app, client, store):
    with app.app_context():
        make_returns(store, 2)
    login(client, store.manager.email)
    url = f"/merchant/returns?status=all&reason={store.changed_mind.id}&q=RMA&sort=reference"

    def queries(path):
        client.get(path)  # warm up
        with app.app_context(), count_queries() as counter:
            response = client.get(path)
        assert response.status_code == 200
        return counter.count

    few = [queries("/merchant/returns"), queries(url)]
    assert len(refs_in(client.get(url).get_data(as_text=True))) == 2
    with app.app_context():
        refs = make_returns(store, 16)
        for ref in refs[:5]:
            rma = Return.get(Return.reference == ref)
            review.assign_responsible(rma, store.agent, store.agent)
    many = [queries("/merchant/returns"), queries(url)]
    assert len(refs_in(client.get(url).get_data(as_text=True))) == 18
    assert many == few, (few, many)
    assert few[0] <= 12


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_every_sort_pages_through_the_same_order_as_one_long_page(app, client, store, sort):
    with app.app_context():
        make_returns(store, 5)
        rma = Return.select().order_by(Return.id).first()
        review.approve(rma, store.manager)  # a second status and a later update
    login(client, store.agent.email)
    app.config["PER_PAGE"] = 100
    whole = refs_in(client.get(f"/merchant/returns?status=all&sort={sort}").get_data(as_text=True))
    app.config["PER_PAGE"] = 2
    paged = []
    for page in (1, 2, 3):
        url = f"/merchant/returns?status=all&sort={sort}&page={page}"
        paged += refs_in(client.get(url).get_data(as_text=True))
    assert len(whole) == 5 and paged == whole

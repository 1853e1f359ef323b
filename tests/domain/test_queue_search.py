"""The queue's search for part of a reference, an order number or an email goes through the
search indexes (SQLite: the suffixes of migration 0020, kept by triggers; PostgreSQL: the
trigram indexes of migration 0005) and finds exactly what a substring match would, on both."""

import pytest

from portal.models import Order, Return
from portal.returns import queue
from tests import factories


def found(term):
    """References the queue lists (all statuses) for a search, and the 'all' tab's count."""
    filters = queue.Filters(status="all", q=term)
    counts = queue.tab_counts(filters)
    page = queue.page_of(filters, per_page=50, total=counts["all"])
    refs = sorted(row.reference for row in page.items)
    assert counts["all"] == len(refs)
    return refs


@pytest.fixture
def returns(any_app):
    with any_app.app_context():
        reason = factories.reason()
        made = {}
        for n, (number, email) in enumerate(
            [
                ("R-70010", "ada@example.com"),
                ("R-70020", "bob@shop.test"),
                ("W-99999", "cy%d@example.org"),
            ]  # fmt: skip
        ):
            order = factories.order(email=email, lines=[{"sku": f"S{n}", "quantity": 1}])
            Order.update(number=number).where(Order.id == order.id).execute()
            order = Order.get_by_id(order.id)
            made[number] = factories.create_return(
                order, reason=reason, reference=f"RMA-2026-{n:05d}"
            )
        yield {k: v.reference for k, v in made.items()}


def test_finds_parts_of_references_order_numbers_and_emails_in_any_case(any_app, returns):
    ada, bob, cy = returns["R-70010"], returns["R-70020"], returns["W-99999"]
    with any_app.app_context():
        assert found("2026-0000") == sorted([ada, bob, cy])
        assert found("2026-00001") == [bob]
        assert found("rma-2026-00002") == [cy]
        assert found("700") == sorted([ada, bob])
        assert found("r-7001") == [ada]
        assert found("BOB@SHOP") == [bob]
        assert found("shop.test") == [bob]
        assert found("nothing-like-this") == []


def test_short_terms_and_odd_characters_are_searched_literally(any_app, returns):
    with any_app.app_context():
        assert found("W-") == [returns["W-99999"]]  # under three characters: no trigram
        assert found("%d") == [returns["W-99999"]]  # a LIKE wildcard is just a character
        assert found("y%d@") == [returns["W-99999"]]
        assert found('"') == []
        assert found('ada"example') == []
        assert found("_") == []


def test_the_search_follows_changes_to_orders_and_returns(any_app, returns):
    with any_app.app_context():
        ada = Return.get(Return.reference == returns["R-70010"])
        Order.update(number="Z-12345", email="ada.new@example.com").where(
            Order.id == ada.order_id
        ).execute()
        assert found("z-1234") == [ada.reference]
        assert found("r-7001") == []
        assert found("ada.new@") == [ada.reference]  # the order's email
        Return.update(email="someone@else.test").where(Return.id == ada.id).execute()
        assert found("else.test") == [ada.reference]
        Return.update(reference="RMA-2026-77777").where(Return.id == ada.id).execute()
        assert found("77777") == ["RMA-2026-77777"]
        Return.delete().where(Return.id == ada.id).execute()
        assert found("77777") == []
        assert found("2026-0000") == sorted([returns["R-70020"], returns["W-99999"]])


def test_many_matches_stay_a_subquery_and_find_the_same(any_app, returns, monkeypatch):
    """Up to LISTED_UP_TO matches are looked up once and passed as ids; more are searched
    as a subquery by each count and the page. Both give the same answer."""
    with any_app.app_context():
        listed = found("2026-0000")
        monkeypatch.setattr(queue, "LISTED_UP_TO", 1)
        assert found("2026-0000") == listed == sorted(returns.values())
        assert found("r-7001") == [returns["R-70010"]]  # one match: still listed

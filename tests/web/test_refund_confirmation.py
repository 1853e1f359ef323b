"""Issuing a refund takes a confirmation step showing the amount per payment (issue 16): the
first click changes nothing, the second sends exactly the total confirmed; without JavaScript
(plain posts) and with htmx (the detail swapped in place)."""

import pytest

from portal.models import Refund
from portal.returns import facts, receiving, review
from tests import factories, pages
from tests.pages import login


@pytest.fixture
def received(app, store):
    """A return of 3 tees, received: $30.00 to refund, split over a card and a gift card."""
    with app.app_context():
        order = factories.order(customer=store.shopper, shipping=0,
                                lines=[{"sku": "TEE", "quantity": 3, "unit_price": 1000}],
                                payments=[{"method": "card", "reference": "ch_a", "amount": 2000},
                                          {"method": "gift_card", "reference": "gc_a",
                                           "amount": 1000}])  # fmt: skip
        rma = factories.create_return(order, reason=store.changed_mind)
        review.approve(rma, store.manager)
        line = facts.lines_of(rma.id)[0]
        receiving.receive(factories.fresh(rma), store.agent, {line.id: (3, 0)})
        return rma.reference, line.id


def issue(reference, line_id):
    return {"destination": "auto", "refund_shipping": "auto", "lines-0-line_id": line_id,
            "submit": "Issue refund"}  # fmt: skip


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
def test_the_first_click_shows_the_amount_per_payment_and_sends_nothing(app, client, store,
                                                                        received, htmx):  # fmt: skip
    reference, line_id = received
    login(client, store.manager.email)
    with app.app_context():
        before = factories.counts()
    step = pages.act(client, reference, "refund", issue(reference, line_id), htmx=htmx,
                     confirm=False)  # fmt: skip
    assert step.status_code == 200
    html = step.get_data(as_text=True)
    assert ("<!doctype" in html.lower()) is not htmx  # a page, or the fragment htmx swaps
    assert "Send a refund of $30.00?" in html and "Confirm refund of $30.00" in html
    assert "Card payment: <strong>$20.00</strong>" in html
    assert "Gift card payment: <strong>$10.00</strong>" in html
    with app.app_context():
        assert factories.counts() == before and Refund.select().count() == 0

    confirmed = pages.act(client, reference, "refund",
                          {**issue(reference, line_id), "confirm_total": "3000"}, htmx=htmx)  # fmt: skip
    assert confirmed.status_code == (200 if htmx else 303)
    with app.app_context():
        assert sorted(r.amount for r in Refund.select()) == [1000, 2000]


def test_a_total_that_changed_since_it_was_confirmed_asks_again(app, client, store, received):
    reference, line_id = received
    login(client, store.manager.email)
    stale = {**issue(reference, line_id), "confirm_total": "2500"}
    response = pages.act(client, reference, "refund", stale)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        "The amount changed since you confirmed it" in html and "Confirm refund of $30.00" in html
    )
    with app.app_context():
        assert Refund.select().count() == 0


def test_a_refusal_at_the_first_click_says_why_and_sends_nothing(app, client, store, received):
    reference, line_id = received
    login(client, store.manager.email)
    bad = {**issue(reference, line_id), "destination": "custom", "split-0-payment_id": "999999",
           "split-0-amount": "30.00"}  # fmt: skip
    response = pages.act(client, reference, "refund", bad, confirm=False)
    assert response.status_code == 422
    with app.app_context():
        assert Refund.select().count() == 0

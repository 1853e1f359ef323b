"""One name per status for shoppers (portal.returns.shopper_words): the tracking page, My
returns, the order page and the emails agree; the timeline shows what the shopper cares
about, with the store's time zone; the shopper's own note comes back to them."""

import datetime
import re

import pytest

from portal.db import db
from portal.models import Refund, Return, ReturnEvent
from portal.returns import review, shopper_words, timeline
from portal.returns.requests import request_return
from tests import factories, pages
from tests.pages import login


@pytest.fixture
def shop(app):
    with app.app_context():
        reasons = factories.reasons()
        user, order, lines = factories.shop()
        rma = request_return(order, user, user.email,
                             [(lines["TEE-M"].id, 1, reasons["fit_small"].id, "Too tight", ())],
                             shopper_note="Please hurry, it was a gift.")  # fmt: skip
        db.close()
        return {"reference": rma.reference, "id": rma.id}


def words_on_pages(client, reference):
    """The status word on the tracking page, My returns and the order page."""
    tracking = client.get(f"/returns/{reference}").get_data(as_text=True)
    mine = client.get("/returns").get_data(as_text=True)
    order = client.get("/orders/R-1001").get_data(as_text=True)
    return (
        re.search(r'id="return-status">([^<]+)<', tracking).group(1),
        re.search(rf"{reference}</a>.*?return-status\">([^<]+)<", mine, re.S).group(1),
        re.search(rf"{reference}</a>.*?return-status\">([^<]+)<", order, re.S).group(1),
    )


@pytest.mark.parametrize(
    "status, refund, word",
    [("requested", None, "Requested"), ("approved", None, "Approved"),
     ("partially_received", None, "Partly received"), ("received", "pending", "Received"),
     ("received", "succeeded", "Refunded"), ("completed", "succeeded", "Refunded"),
     ("completed", None, "Completed"), ("on_hold", None, "On hold"),
     ("rejected", None, "Rejected"), ("cancelled", None, "Cancelled")],
)  # fmt: skip
def test_every_page_uses_the_same_word(app, client, shop, status, refund, word):
    with app.app_context():
        Return.update(status=status).where(Return.id == shop["id"]).execute()
        if refund:
            rma = Return.get_by_id(shop["id"])
            Refund.create(rma=rma, amount=100, currency="USD", status=refund,
                          idempotency_key=f"k-{status}-{refund}", method="card")  # fmt: skip
        db.close()
    login(client, "sam@example.com")
    assert words_on_pages(client, shop["reference"]) == (word, word, word)


def test_the_resumed_email_names_the_status_as_the_pages_do(app, client, shop, make):
    with app.app_context():
        manager = make.staff("manager")
        rma = Return.get_by_id(shop["id"])
        review.approve(rma, manager)
        review.hold(Return.get_by_id(shop["id"]), manager, note="checking stock")
        review.resume(Return.get_by_id(shop["id"]), manager)
        db.close()
    emails = pages.deliver_emails(app, "email")
    (resumed,) = [text for to, subject, text in emails if "no longer on hold" in text]
    login(client, "sam@example.com")
    word = words_on_pages(client, shop["reference"])[0]
    assert word == shopper_words.STATUS["approved"] and f"It is {word.lower()} again" in resumed


def test_the_timeline_shows_the_shoppers_steps_in_the_stores_time_zone(app, client, shop):
    with app.app_context():
        factories.policy(timezone="Europe/Berlin")
        rma = Return.get_by_id(shop["id"])
        for kind in ("approved", "label_created", "carrier_in_transit", "received", "inspected",
                     "restocked", "refund_created", "refund_succeeded", "released",
                     "return_invoice_issued", "completed"):  # fmt: skip
            timeline.record(rma, kind)
        first = ReturnEvent.select().where(ReturnEvent.rma == rma.id).order_by(ReturnEvent.id).get()
        stamp = shopper_words.moment(first.created_at, "Europe/Berlin")
        db.close()
    login(client, "sam@example.com")
    html = client.get(f"/returns/{shop['reference']}").get_data(as_text=True)
    steps = re.findall(r"</time> <span>(.*?)</span>", html)
    assert steps == ["Return requested", "Return approved", "Return label ready",
                     "Parcel in transit to us", "Items received", "Refund sent",
                     "Return completed"]  # fmt: skip
    assert f">{stamp}</time>" in html and re.search(r"C[E]S?T \(UTC\+0[12]:00\)", stamp)
    # the shopper's own words come back to them
    assert "Your note:</strong> “Please hurry, it was a gift.”" in html
    assert "Your note: “Too tight”" in html


def test_moment_names_the_zone():
    at = datetime.datetime(2026, 7, 1, 10, 0)
    assert shopper_words.moment(at, "Europe/Berlin") == "1 July 2026, 12:00 CEST (UTC+02:00)"
    assert shopper_words.moment(at) == "1 July 2026, 10:00 UTC"
    assert shopper_words.moment(at, "Asia/Kolkata") == "1 July 2026, 15:30 IST (UTC+05:30)"

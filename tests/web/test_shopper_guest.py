"""Guest returns: /lookup (same answer whether or not it matches, rate limited), the signed,
single-use, time-limited link, and what the link opens (that one order, nothing else)."""

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from portal.customer.guest_links import SALT
from portal.db import db
from portal.models import Counter, Order, OutboxMessage, Return
from tests import factories, pages
from tests.apps import make_app
from tests.pages import login


@pytest.fixture
def shop(app, make):
    with app.app_context():
        reasons = factories.reasons()
        guest_order = make.order(
            email="pat@example.net", number="G-100", lines=[factories.TEE, factories.CAP]
        )
        make.order(email="other@example.net", number="G-200")
        sam = make.user("sam@example.com")
        make.order(customer=sam, number="S-300")
        db.close()
        return {"r": {c: r.id for c, r in reasons.items()}, "tee": guest_order.lines[0].id}


def lookup(client, number="G-100", email="pat@example.net"):
    return client.post("/lookup", data={"number": number, "email": email})


def guest_links(app):
    with app.app_context():
        rows = OutboxMessage.select().where(OutboxMessage.payload.contains('"guest_link"'))
        return [m.payload for m in rows]


CSRF_TOKEN = re.compile(r"I[\w.-]{40,}")


def open_link(client, link):
    path = link.split("://", 1)[1].split("/", 1)[1]
    return client.post("/" + path)


def test_lookup_answers_the_same_whether_or_not_it_matches(app, client, shop):
    assert "Find your order" in client.get("/lookup").get_data(as_text=True)
    bodies = []
    for number, email in [
        ("G-100", "pat@example.net"),
        ("G-100", "wrong@example.net"),
        ("NOPE", "pat@example.net"),
        ("#G-200", "Other@Example.net "),  # a leading # and the email's case don't matter
    ]:
        response = lookup(client, number, email)
        assert response.status_code == 200
        # CSRF tokens carry a timestamp: they differ across a second boundary, nothing else may
        bodies.append(CSRF_TOKEN.sub("csrf", response.get_data(as_text=True)))
    assert len(set(bodies)) == 1
    assert "If that order number and email address match an order" in bodies[0]
    sent = guest_links(app)
    assert [(m["to"], m["context"]["order_number"]) for m in sent] == [
        ("pat@example.net", "G-100"),
        ("other@example.net", "G-200"),
    ]
    assert sent[0]["context"]["link"].startswith("http://localhost/guest/")
    assert sent[0]["context"]["valid_for"] == "24 hours"


def test_lookup_checks_its_input(client, shop):
    response = client.post("/lookup", data={"number": "", "email": "nope"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter your order number." in html
    assert "Enter an email address like name@example.com." in html


def test_the_link_opens_that_one_order_and_its_return_flow(app, client, shop):
    lookup(client)
    link = guest_links(app)[0]["context"]["link"]
    assert client.get("/orders/G-100").status_code == 302  # nothing opened yet

    landing = client.get(link.split("localhost", 1)[1])
    assert landing.status_code == 200
    assert "Open my order" in landing.get_data(as_text=True)
    assert client.get("/orders/G-100").status_code == 302  # a GET doesn't use the link up

    response = open_link(client, link)
    assert response.status_code == 303 and response.headers["Location"] == "/orders/G-100"
    assert "Request a return" in client.get("/orders/G-100").get_data(as_text=True)

    # The return flow, without an account.
    html = client.get("/orders/G-100/return").get_data(as_text=True)
    indexes = pages.line_indexes(html)
    data = pages.request_data(indexes, {shop["tee"]: (1, shop["r"]["changed_mind"], "")})
    page = client.post("/orders/G-100/return", data=data).get_data(as_text=True)
    response = client.post("/orders/G-100/return",
                           data=dict(data, step="confirm", reviewed=pages.reviewed_digest(page)))  # fmt: skip
    assert response.status_code == 303
    reference = response.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        rma = Return.get(Return.reference == reference)
        assert rma.requested_by is None and rma.email == "pat@example.net"
    assert reference in client.get("/returns").get_data(as_text=True)
    assert client.get(f"/returns/{reference}").status_code == 200
    assert client.post(f"/returns/{reference}/cancel").status_code == 303
    with app.app_context():
        assert Return.get(Return.reference == reference).status == "cancelled"

    # Nothing else opens: other guest orders, shoppers' orders, the order list.
    for path in ("/orders/G-200", "/orders/S-300", "/orders/G-200/return"):
        assert client.get(path).status_code == 404, path
    assert client.get("/orders").status_code == 302


def test_a_used_link_is_refused(app, client, shop):
    lookup(client)
    link = guest_links(app)[0]["context"]["link"]
    assert open_link(client, link).status_code == 303
    with app.app_context():
        before = factories.counts()
    other = app.test_client()  # someone who got hold of the link later
    response = open_link(other, link)
    assert response.status_code == 410
    assert "This link has already been used." in response.get_data(as_text=True)
    response = other.get(link.split("localhost", 1)[1])
    assert response.status_code == 410 and "already been used" in response.get_data(as_text=True)
    assert other.get("/orders/G-100").status_code == 302
    with app.app_context():
        assert factories.counts() == before


def test_an_expired_or_forged_link_is_refused(app, client, shop):
    class OldSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - app.config["GUEST_LINK_MAX_AGE"] - 60

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT, signer=OldSigner)
    expired = old.dumps({"o": "G-100", "e": "pat@example.net", "j": "abc"})
    forged = URLSafeTimedSerializer("not-the-key", salt=SALT).dumps(
        {"o": "G-100", "e": "pat@example.net", "j": "abc"}
    )
    with app.app_context():
        before = factories.counts()
    for token, words in [(expired, "This link has expired."), (forged, "This link is not valid."),
                         ("garbage", "This link is not valid.")]:  # fmt: skip
        for response in (client.get(f"/guest/{token}"), client.post(f"/guest/{token}")):
            assert response.status_code == 410
            assert words in response.get_data(as_text=True)
    assert client.get("/orders/G-100").status_code == 302
    with app.app_context():
        assert factories.counts() == before
        assert not Counter.select().where(Counter.name.startswith("guest-token:")).exists()


def test_a_link_for_an_order_whose_email_changed_is_refused(app, client, shop):
    lookup(client)
    link = guest_links(app)[0]["context"]["link"]
    with app.app_context():
        Order.update(email="new@example.net").where(Order.number == "G-100").execute()
        db.close()
    response = open_link(client, link)
    assert response.status_code == 410 and "not valid any more" in response.get_data(as_text=True)


def test_a_signed_in_shopper_keeps_their_own_orders_too(app, client, shop):
    login(client, "sam@example.com")
    lookup(client)
    open_link(client, guest_links(app)[0]["context"]["link"])
    assert client.get("/orders/G-100").status_code == 200
    assert client.get("/orders/S-300").status_code == 200
    assert client.get("/orders/G-200").status_code == 404


@pytest.fixture
def limited_app(tmp_path):
    app = make_app(tmp_path, LOOKUP_RATE_LIMIT="3 per minute")
    yield app
    if not db.is_closed():
        db.close()


def test_lookups_are_rate_limited(limited_app, make):
    app = limited_app
    with app.app_context():
        make.order(email="pat@example.net", number="G-100")
        db.close()
    client = app.test_client()
    for _ in range(3):
        assert lookup(client, email="guess@example.net").status_code == 200
    response = lookup(client)
    assert response.status_code == 429
    assert "Too many lookups from here." in response.get_data(as_text=True)
    assert guest_links(app) == []  # the matching lookup past the limit sent nothing
    assert re.search(r"Find your order", response.get_data(as_text=True))

"""Tracking: the shopper's returns list, one return's status, plain-words timeline, lines,
refund, what happens next, cancel, and photos served only to their owner and to staff."""

import io
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from portal.db import db
from portal.models import Order, Refund, Return, ReturnLine, ReturnPhoto, now
from portal.returns import timeline
from portal.returns.requests import request_return
from portal.uploads import store_photo
from tests import factories
from tests.pages import login


@pytest.fixture
def shop(app, make):
    with app.app_context():
        reasons = factories.reasons()
        user, order, lines = factories.shop()
        photo = store_photo(
            FileStorage(io.BytesIO(factories.png()), "cap.png"), app.config["UPLOAD_DIR"], 10**6
        )
        rma = request_return(
            order,
            user,
            user.email,
            [
                (lines["TEE-M"].id, 3, reasons["fit_small"].id, "", ()),
                (lines["CAP"].id, 1, reasons["damaged"].id, "", (photo,)),
            ],
        )
        jo = make.user("jo@example.com")
        jo_order = make.order(customer=jo, number="JO-1")
        jo_rma = request_return(
            jo_order, jo, jo.email, [(jo_order.lines.get().id, 1, reasons["changed_mind"].id)]
        )
        db.close()
        return {"rma": rma.reference, "rma_id": rma.id, "jo_rma": jo_rma.reference,
                "photo_id": ReturnPhoto.get().id,
                # the file as stored (re-encoded on upload, tests/web/test_photo_reencoding.py)
                "photo": (Path(app.config["UPLOAD_DIR"]) / ReturnPhoto.get().stored_name).read_bytes()}  # fmt: skip


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def set_state(app, rma_id, status, received=None, **fields):
    with app.app_context():
        Return.update(status=status, **fields).where(Return.id == rma_id).execute()
        for line in ReturnLine.select().where(ReturnLine.rma == rma_id):
            if received is not None:
                line.received_quantity = min(line.quantity, received.get(line.order_line.sku, 0))
                line.save()
        db.close()


def test_returns_lists_only_mine(client, shop):
    login(client, "sam@example.com")
    html = page(client, "/returns")
    assert shop["rma"] in html and shop["jo_rma"] not in html
    assert "Order #R-1001" in html and "4 items" in html
    assert 'href="/returns"' in page(client, "/orders")  # "My returns" in the navigation


def test_a_requested_return(client, shop):
    login(client, "sam@example.com")
    html = page(client, f"/returns/{shop['rma']}")
    plain = text(html)
    assert "Requested" in plain
    assert "We're reviewing your request and will email you once it's approved." in plain
    assert "Cancel this return" in plain
    assert "Estimated refund" in plain and "$92.00" in plain  # 3 x 24 + 15 + 5 shipping
    assert "Return requested" in plain


def test_approved_says_where_to_send_the_parcel(app, client, shop):
    set_state(app, shop["rma_id"], "approved")
    login(client, "sam@example.com")
    plain = text(page(client, f"/returns/{shop['rma']}"))
    assert (
        f"Send the parcel to Returns Department, 1 Warehouse Road, Springfield and write "
        f"{shop['rma']} on it." in plain
    )
    assert "Cancel this return" in plain


def test_partially_received_counts_what_arrived(app, client, shop):
    set_state(app, shop["rma_id"], "partially_received", received={"TEE-M": 2})
    login(client, "sam@example.com")
    plain = text(page(client, f"/returns/{shop['rma']}"))
    assert "We received 2 of 4 items." in plain
    assert "Send the rest to Returns Department" in plain
    assert "Cancel this return" not in plain


def test_timeline_in_plain_words_without_internal_events(app, client, shop):
    with app.app_context():
        rma = Return.get_by_id(shop["rma_id"])
        timeline.record(rma, "approved", actor=None)
        timeline.record(rma, "note", actor=None, internal=True, text="Customer is a VIP")
        timeline.record(rma, "received", actor=None, internal=True, lines=[])
        timeline.record(rma, "assigned", actor=None, to="Alex")  # no shopper wording: hidden
        timeline.record(rma, "received", actor=None, lines=[])
        db.close()
    login(client, "sam@example.com")
    html = page(client, f"/returns/{shop['rma']}")
    steps = re.findall(r"</time> <span>(.*?)</span>", html)
    assert steps == ["Return requested", "Return approved", "Items received"]
    assert "VIP" not in html and "assigned" not in html.lower()


def test_refund_breakdown_once_a_refund_exists(app, client, shop):
    set_state(app, shop["rma_id"], "received", received={"TEE-M": 3, "CAP": 1})
    with app.app_context():
        rma = Return.get_by_id(shop["rma_id"])
        units = {str(ln.id): ln.quantity for ln in rma.lines}
        breakdown = {"items": 8700, "restocking": 720, "return_shipping": 0, "shipping": 500,
                     "additional": 0, "subtotal": 8480, "total": 8480, "batch": "b1",
                     "line_units": units}  # fmt: skip
        payment = Order.get(Order.number == "R-1001").payments.get()
        # one batch split over two rows (e.g. card and gift card): its breakdown counts once
        refunds = [
            Refund.create(
                rma=rma,
                payment=payment,
                method=method,
                amount=amount,
                currency="USD",
                idempotency_key=key,
                status="pending",
                breakdown=breakdown,
            )  # fmt: skip
            for method, amount, key in [("card", 8000, "k1"), ("gift_card", 480, "k2")]
        ]
        # the event prepare_refund() writes with them: the one record of the batch's units
        timeline.record(rma, "refund_created", batch="b1", breakdown=breakdown,
                        line_units=units, total=8480)  # fmt: skip
        db.close()
    login(client, "sam@example.com")
    html = page(client, f"/returns/{shop['rma']}")
    plain = text(html)
    assert "Your refund" in plain and "Estimated refund" not in plain
    assert "Items $87.00" in plain and "Restocking fee −$7.20" in plain
    assert "Original shipping refunded +$5.00" in plain and "Total $84.80" in plain
    assert "Card: $80.00 — on its way" in plain and "Gift card: $4.80 — on its way" in plain
    assert "We received all 4 items." in plain and "Your refund of $84.80 is on its way." in plain
    rows = re.findall(r'<td class="num"[^>]*>(\d+)</td>', html)
    assert rows == ["3", "3", "3", "1", "1", "1"]  # requested / received / refunded per line

    with app.app_context():
        ids = [r.id for r in refunds]
        Refund.update(status="succeeded", settled_at=now()).where(Refund.id.in_(ids)).execute()
        db.close()
    assert "We refunded $84.80." in text(page(client, f"/returns/{shop['rma']}"))


@pytest.mark.parametrize(
    ("kind", "payload", "words"),
    [
        ("cancelled", {"by": "staff", "reason": "You asked us by phone."},
         "We cancelled this return: You asked us by phone."),
        ("expired", {"days": 30}, "cancelled because the parcel did not reach us in time"),
    ],
)  # fmt: skip
def test_cancelled_by_staff_or_expired_says_why(app, client, shop, kind, payload, words):
    set_state(app, shop["rma_id"], "cancelled")
    with app.app_context():
        timeline.record(Return.get_by_id(shop["rma_id"]), kind, actor=None, **payload)
        db.close()
    login(client, "sam@example.com")
    plain = text(page(client, f"/returns/{shop['rma']}"))
    assert words in plain
    assert "Its items can be returned again while their return window is open." in plain


def test_rejected_gives_the_reason(app, client, shop):
    set_state(app, shop["rma_id"], "rejected", rejection_reason="Worn items can't be returned.")
    login(client, "sam@example.com")
    plain = text(page(client, f"/returns/{shop['rma']}"))
    assert "We couldn't accept this return: Worn items can't be returned." in plain
    assert "Estimated refund" not in plain and "Cancel this return" not in plain


def test_cancel_makes_the_items_returnable_again(app, client, shop):
    login(client, "sam@example.com")
    assert "<strong>0</strong>" in page(client, "/orders/R-1001")
    response = client.post(f"/returns/{shop['rma']}/cancel")
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    plain = text(html)
    assert f"Return {shop['rma']} is cancelled." in plain
    assert "Cancelled" in plain and "Return cancelled" in plain
    assert "Cancel this return" not in plain
    order_page = page(client, "/orders/R-1001")
    assert "<strong>3</strong>" in order_page and "Request a return" in order_page
    with app.app_context():
        assert Return.get_by_id(shop["rma_id"]).status == "cancelled"
    # twice: refused in words, nothing changes
    response = client.post(f"/returns/{shop['rma']}/cancel", follow_redirects=True)
    assert "A return that is cancelled can't be cancelled." in text(response.get_data(as_text=True))


def test_cancel_is_refused_once_items_arrived(app, client, shop):
    set_state(app, shop["rma_id"], "partially_received", received={"TEE-M": 1})
    login(client, "sam@example.com")
    with app.app_context():
        before = factories.counts()
    response = client.post(f"/returns/{shop['rma']}/cancel", follow_redirects=True)
    assert "can't be cancelled any more: we have already received items" in text(
        response.get_data(as_text=True)
    )
    with app.app_context():
        assert factories.counts() == before
        assert Return.get_by_id(shop["rma_id"]).status == "partially_received"


def test_another_shoppers_return_is_404(app, client, shop):
    login(client, "jo@example.com")
    with app.app_context():
        before = factories.counts()
    assert client.get(f"/returns/{shop['rma']}").status_code == 404
    assert client.post(f"/returns/{shop['rma']}/cancel").status_code == 404
    path = f"/returns/{shop['rma']}/photos/{shop['photo_id']}"
    assert client.get(path).status_code == 404
    with app.app_context():
        assert factories.counts() == before
        assert Return.get_by_id(shop["rma_id"]).status == "requested"
    assert client.get("/returns/NO-SUCH").status_code == 404


def test_photos_are_served_to_the_owner_and_staff_only(app, client, make, shop):
    path = f"/returns/{shop['rma']}/photos/{shop['photo_id']}"
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")

    login(client, "sam@example.com")
    assert f'href="{path}"' in page(client, f"/returns/{shop['rma']}")
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "image/png" and response.data == shop["photo"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in response.headers["Cache-Control"]
    # the right photo id under the wrong return is not found
    assert client.get(f"/returns/{shop['jo_rma']}/photos/{shop['photo_id']}").status_code == 404

    with app.app_context():
        make.staff("agent", email="agent@example.com")
    staff = app.test_client()
    login(staff, "agent@example.com")
    assert staff.get(path).status_code == 200
    assert staff.get(f"/returns/{shop['rma']}/photos/99999").status_code == 404


def test_cancelling_takes_a_second_step_without_javascript(app, client, shop):
    login(client, "sam@example.com")
    html = page(client, f"/returns/{shop['rma']}")
    # the first step is a link to a page, not a form that cancels
    assert f'href="/returns/{shop["rma"]}/cancel"' in html
    assert f'action="/returns/{shop["rma"]}/cancel"' not in html
    with app.app_context():
        before = factories.counts()
    step = page(client, f"/returns/{shop['rma']}/cancel")
    plain = text(step)
    assert f"Cancel return {shop['rma']}?" in plain and "4 items from order #R-1001" in plain
    assert f'action="/returns/{shop["rma"]}/cancel"' in step and "Yes, cancel this return" in step
    assert "No, keep it" in plain and "<!doctype html>" in step.lower()
    with app.app_context():
        assert factories.counts() == before  # opening the step changes nothing
        assert Return.get_by_id(shop["rma_id"]).status == "requested"
    # with htmx, the same step comes inline (a fragment, not a page)
    inline = client.get(f"/returns/{shop['rma']}/cancel", headers={"HX-Request": "true"})
    fragment = inline.get_data(as_text=True)
    assert "Yes, cancel this return" in fragment and "<!doctype" not in fragment.lower()
    assert client.post(f"/returns/{shop['rma']}/cancel").status_code == 303
    with app.app_context():
        assert Return.get_by_id(shop["rma_id"]).status == "cancelled"
    gone = text(page(client, f"/returns/{shop['rma']}/cancel"))
    assert "This return can't be cancelled any more." in gone and "Yes, cancel" not in gone


def test_the_cancel_step_of_another_shoppers_return_is_404(client, shop):
    login(client, "jo@example.com")
    assert client.get(f"/returns/{shop['rma']}/cancel").status_code == 404

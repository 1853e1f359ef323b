"""The return request through the Flask test client: the no-JavaScript flow (plain posts with a
step), the htmx partials, and bad input refused with a clear message and nothing changed."""

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from portal.db import db
from portal.models import Order, OrderLine, Return, ReturnLine, ReturnPhoto
from tests import factories, pages
from tests.pages import login


@pytest.fixture
def shop(app, make):
    with app.app_context():
        reasons = factories.reasons()
        user, order, lines = factories.shop()
        jo = make.user("jo@example.com")
        other = make.order(customer=jo, number="JO-1")
        return {
            "user": user,
            "order": order,
            "tee": lines["TEE-M"].id,
            "cap": lines["CAP"].id,
            "socks": lines["SOCKS"].id,
            "other_line": other.lines.get().id,
            "r": {code: reason.id for code, reason in reasons.items()},
        }


def counts(app):
    with app.app_context():
        return factories.counts()


def open_form(client, number="R-1001"):
    response = client.get(f"/orders/{number}/return")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return pages.line_indexes(html), html


def review(client, data, number="R-1001"):
    return client.post(f"/orders/{number}/return", data=data)


def confirm(client, data, digest, files=None, number="R-1001"):
    payload = dict(data, step="confirm", reviewed=digest)
    for name, (content, filename) in (files or {}).items():
        payload[name] = [(io.BytesIO(c), filename) for c in content]
    return client.post(f"/orders/{number}/return", data=payload, content_type="multipart/form-data")


def test_the_whole_flow_without_javascript(app, client, shop):
    login(client, "sam@example.com")
    r = shop["r"]
    indexes, html = open_form(client)
    assert set(indexes) == {shop["tee"], shop["cap"]}  # final-sale socks get no inputs
    assert "Final sale: this item can&#39;t be returned." in html
    assert '<optgroup label="It doesn&#39;t fit">' in html  # nested reasons, grouped without JS
    picks = {
        shop["tee"]: (2, r["fit_small"], "Runs small"),
        shop["cap"]: (1, r["damaged"], ""),
    }
    data = pages.request_data(indexes, picks, note="Thanks")

    response = review(client, data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    estimate = re.search(r'<dl class="breakdown" id="estimate">(.*?)</dl>', page, re.S).group(1)
    # 2 tees at $24.00 + 1 cap at $15.00; the damaged cap is merchant fault: shipping refunded
    assert "$63.00" in estimate and "+$5.00" in estimate
    assert re.search(r"Estimated refund</dt><dd>\$68\.00", estimate)
    assert 'value="2"' in page and "Runs small" in page  # the choices come back filled in
    assert 'name="lines-1-photos"' in page and "at least one needed" in page
    digest = pages.reviewed_digest(page)
    assert digest
    assert counts(app)["Return"] == 0  # reviewing saves nothing

    photo = factories.png()
    photo_field = f"lines-{indexes[shop['cap']]}-photos"
    response = confirm(client, data, digest, {photo_field: ([photo], "cap.png")})
    assert response.status_code == 303, pages.errors(response.get_data(as_text=True))
    location = response.headers["Location"]
    assert re.fullmatch(r"/returns/RMA-\d{4}-00001", location)

    page = client.get(location).get_data(as_text=True)
    assert "RMA-" in page and "requested. We&#39;ve emailed a confirmation" in page
    assert "Return requested" in page and "$68.00" in page
    with app.app_context():
        rma = Return.get()
        assert (rma.resolution, rma.shopper_note, rma.email) == (
            "refund",
            "Thanks",
            "sam@example.com",
        )
        quantities = {ln.order_line_id: (ln.quantity, ln.note) for ln in rma.lines}
        assert quantities == {shop["tee"]: (2, "Runs small"), shop["cap"]: (1, "")}
        stored = ReturnPhoto.get()
        assert re.fullmatch(r"[0-9a-f]{32}\.png", stored.stored_name)
        path = Path(app.config["UPLOAD_DIR"]) / stored.stored_name
        # Stored re-encoded (tests/web/test_photo_reencoding.py): the same pixels, not the bytes.
        assert stored.content_type == "image/png" and stored.size == path.stat().st_size
        with Image.open(path) as kept, Image.open(io.BytesIO(photo)) as sent:
            assert kept.tobytes() == sent.convert(kept.mode).tobytes()
        assert "static" not in str(path)
    # The order page now shows what is taken and what is left.
    order_page = client.get("/orders/R-1001").get_data(as_text=True)
    tee_row = re.search(rf'<tr id="line-{shop["tee"]}">(.*?)</tr>', order_page, re.S).group(1)
    assert re.findall(r'<td class="num"[^>]*>(?:<strong>)?(\d+)', tee_row) == ["3", "2", "1"]


def test_htmx_review_swaps_the_panel_and_errors_swap_the_form(client, shop):
    login(client, "sam@example.com")
    indexes, _ = open_form(client)
    r = shop["r"]
    hx = {"HX-Request": "true"}
    data = pages.request_data(indexes, {shop["tee"]: (1, r["changed_mind"], "")})
    response = client.post("/orders/R-1001/return/review", data=data, headers=hx)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<section") and "<html" not in body
    assert "Estimated refund" in body and "$24.00" in body and 'name="reviewed"' in body

    bad = pages.request_data(indexes, {shop["tee"]: (9, r["changed_mind"], "")})
    response = client.post("/orders/R-1001/return/review", data=bad, headers=hx)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#return-form"
    assert response.headers["HX-Reswap"] == "outerHTML"
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="return-form"')
    assert "Only 3 of “Classic tee” can still be returned (you asked for 9)." in pages.errors(body)
    assert 'aria-describedby="lines-0-quantity-error"' in body
    assert 'name="shown_errors"' in body

    # Fixed: the form that showed the messages is replaced whole, now without them.
    response = client.post("/orders/R-1001/return/review", data=dict(data, shown_errors="1"),
                           headers=hx)  # fmt: skip
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#return-form"
    body = response.get_data(as_text=True)
    assert "error-summary" not in body and "Estimated refund" in body


def test_reason_picker_partials(client, shop):
    login(client, "sam@example.com")
    r = shop["r"]
    url = "/orders/R-1001/return/reasons"
    body = client.get(f"{url}?index=0&selected={r['fit_small']}").get_data(as_text=True)
    assert f'<option value="{r["fit"]}" selected>It doesn' in body  # the parent choice
    assert 'name="lines-0-reason_parent"' in body
    assert f'<option value="{r["fit_small"]}" selected>Too small</option>' in body
    child = client.get(f"{url}?index=0&part=child&lines-0-reason_parent={r['changed_mind']}")
    assert f'<input type="hidden" name="lines-0-reason" value="{r["changed_mind"]}">' in (
        child.get_data(as_text=True)
    )
    child = client.get(f"{url}?index=2&part=child&lines-2-reason_parent={r['fit']}")
    html = child.get_data(as_text=True)
    assert 'name="lines-2-reason"' in html and "Too large" in html and "Too small" in html
    # only the first choice made so far (after a review with errors): it stays chosen
    body = client.get(f"{url}?index=1&selected=&parent={r['fit']}").get_data(as_text=True)
    assert f'<option value="{r["fit"]}" selected>' in body and 'name="lines-1-reason"' in body
    assert client.get(f"{url}?index=abc").status_code == 400


def test_changes_after_the_review_are_shown_before_saving(client, app, shop):
    login(client, "sam@example.com")
    indexes, _ = open_form(client)
    r = shop["r"]
    data = pages.request_data(indexes, {shop["tee"]: (1, r["changed_mind"], "")})
    digest = pages.reviewed_digest(review(client, data).get_data(as_text=True))
    changed = pages.request_data(indexes, {shop["tee"]: (3, r["changed_mind"], "")})
    response = confirm(client, changed, digest)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Your choices changed since the review." in " ".join(pages.errors(page))
    assert "$72.00" in page  # the new estimate, 3 x $24.00
    assert counts(app)["Return"] == 0
    response = confirm(client, changed, pages.reviewed_digest(page))
    assert response.status_code == 303


def test_store_credit_and_guest_free_choice_of_resolution(client, app, shop):
    login(client, "sam@example.com")
    indexes, _ = open_form(client)
    data = pages.request_data(indexes, {shop["tee"]: (1, shop["r"]["changed_mind"], "")},
                           resolution="store_credit")  # fmt: skip
    page = review(client, data).get_data(as_text=True)
    assert "Refund to: <strong>Store credit</strong>" in page
    assert confirm(client, data, pages.reviewed_digest(page)).status_code == 303
    with app.app_context():
        assert Return.get().resolution == "store_credit"


# --- bad input: a clear message, nothing changes -------------------------------------------


def _picks(shop, case):
    r, tee, cap = shop["r"], shop["tee"], shop["cap"]
    return {
        "above returnable": ({tee: (4, r["changed_mind"], "")}, "Only 3 of “Classic tee”"),
        "zero everywhere": ({tee: (0, r["changed_mind"], "")}, "Choose at least one item"),
        "negative": ({tee: (-1, r["changed_mind"], "")}, "can't be negative"),
        "not a number": ({tee: ("two", r["changed_mind"], "")}, "Enter a whole number"),
        "decimal": ({tee: ("1.5", r["changed_mind"], "")}, "Enter a whole number"),
        "no reason": ({tee: (1, "", "")}, "Choose why you are returning “Classic tee”"),
        "unknown reason": ({tee: (1, 999999, "")}, "Choose a reason for “Classic tee” from"),
        "reason as text": ({tee: (1, "abc", "")}, "from the list"),
        "parent reason": ({tee: (1, r["fit"], "")}, "Choose a more specific reason"),
        "missing note": ({cap: (1, r["other"], "")}, "a note is needed"),
    }[case]


BAD_CASES = [
    "above returnable",
    "zero everywhere",
    "negative",
    "not a number",
    "decimal",
    "no reason",
    "unknown reason",
    "reason as text",
    "parent reason",
    "missing note",
]


@pytest.mark.parametrize("step", ["review", "confirm"])
@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_refused_and_changes_nothing(app, client, shop, case, step):
    login(client, "sam@example.com")
    indexes, _ = open_form(client)
    picks, message = _picks(shop, case)
    before = counts(app)
    data = pages.request_data(indexes, picks, step=step)
    if step == "confirm":
        data["reviewed"] = "0" * 32
    response = client.post("/orders/R-1001/return", data=data)
    assert response.status_code == 422
    assert any(message in text for text in pages.errors(response.get_data(as_text=True))), (
        pages.errors(response.get_data(as_text=True))
    )
    assert counts(app) == before


def test_a_line_from_another_order_is_refused(app, client, shop):
    login(client, "sam@example.com")
    indexes, _ = open_form(client)
    data = pages.request_data(indexes, {shop["tee"]: (1, shop["r"]["changed_mind"], "")})
    data["lines-0-order_line_id"] = str(shop["other_line"])
    before = counts(app)
    for step in ("review", "confirm"):
        response = client.post("/orders/R-1001/return", data=dict(data, step=step))
        assert response.status_code == 422
        assert "That item is not part of order #R-1001." in pages.errors(
            response.get_data(as_text=True)
        )
    assert counts(app) == before


def test_a_final_sale_line_posted_anyway_is_refused(app, client, shop):
    login(client, "sam@example.com")
    indexes, _ = open_form(client)
    data = pages.request_data(indexes, {})
    data.update({"lines-5-order_line_id": str(shop["socks"]), "lines-5-quantity": "1",
                 "lines-5-reason": str(shop["r"]["changed_mind"])})  # fmt: skip
    before = counts(app)
    response = review(client, data)
    assert response.status_code == 422
    assert "“Wool socks”: Final sale: this item can't be returned." in pages.errors(
        response.get_data(as_text=True)
    )
    assert counts(app) == before


def _reviewed(client, shop, picks):
    indexes, _ = open_form(client)
    data = pages.request_data(indexes, picks)
    page = review(client, data).get_data(as_text=True)
    return indexes, data, pages.reviewed_digest(page)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (None, "Add at least one photo of “Wool cap”: a photo is needed"),
        (([b"just some text, not an image"], "cap.png"), "cap.png is not a photo we can read"),
        (([factories.png()[:40]], "cut.png"), "cut.png is not a photo we can read"),
        (([b"GIF89a" + b"\x00" * 30], "fake.gif"), "fake.gif is not a photo we can read"),
        (([factories.png()] * 4, "cap.png"), "Add at most 3 photos of “Wool cap”"),
    ],
)
def test_bad_photos_are_refused_and_nothing_is_stored(app, client, shop, files, message):
    login(client, "sam@example.com")
    cap = shop["cap"]
    indexes, data, digest = _reviewed(client, shop, {cap: (1, shop["r"]["damaged"], "")})
    before = counts(app)
    field = f"lines-{indexes[cap]}-photos"
    response = confirm(client, data, digest, {field: files} if files else None)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert any(message in text for text in pages.errors(page)), pages.errors(page)
    assert 'name="reviewed"' in page  # the review (with its photo inputs) is shown again
    assert counts(app) == before
    upload_dir = app.config["UPLOAD_DIR"]
    assert not os.path.isdir(upload_dir) or os.listdir(upload_dir) == []


def test_oversized_photos_are_refused(app, client, shop):
    app.config["PHOTO_MAX_BYTES"] = 2000
    login(client, "sam@example.com")
    cap = shop["cap"]
    indexes, data, digest = _reviewed(client, shop, {cap: (1, shop["r"]["damaged"], "")})
    big = factories.png(size=(64, 64), noise=True)
    assert len(big) > 2000
    before = counts(app)
    field = f"lines-{indexes[cap]}-photos"
    response = confirm(client, data, digest, {field: ([factories.png(), big], "big.png")})
    assert response.status_code == 422
    assert any(
        "big.png is too large: photos can be at most" in e
        for e in pages.errors(response.get_data(as_text=True))
    )
    assert counts(app) == before
    # the good first photo is kept with the draft (issue 16), the big one is not stored
    assert len(os.listdir(app.config["UPLOAD_DIR"])) == 1
    assert "Photo kept: <strong>big.png</strong>" in response.get_data(as_text=True)


def test_a_request_larger_than_the_upload_limit_is_413(app, client, shop):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    login(client, "sam@example.com")
    cap = shop["cap"]
    indexes, data, digest = _reviewed(client, shop, {cap: (1, shop["r"]["damaged"], "")})
    before = counts(app)
    field = f"lines-{indexes[cap]}-photos"
    response = confirm(client, data, digest, {field: ([b"x" * 20_000], "huge.png")})
    assert response.status_code == 413
    assert counts(app) == before


def test_quantities_taken_meanwhile_are_refused_at_submit(app, client, shop, make):
    login(client, "sam@example.com")
    tee = shop["tee"]
    indexes, data, digest = _reviewed(client, shop, {tee: (2, shop["r"]["changed_mind"], "")})
    with app.app_context():  # another tab takes two of the three tees first
        from portal.returns.requests import request_return

        order = Order.get(Order.number == "R-1001")
        request_return(order, None, order.email, [(tee, 2, shop["r"]["changed_mind"])])
        db.close()
    before = counts(app)
    response = confirm(client, data, digest)
    assert response.status_code == 422
    assert any(
        "Only 1 of “Classic tee”" in e for e in pages.errors(response.get_data(as_text=True))
    )
    assert counts(app) == before


def test_another_shoppers_order_is_404(client, shop):
    login(client, "sam@example.com")
    for path in ("/orders/JO-1/return", "/orders/JO-1/return/reasons?index=0"):
        assert client.get(path).status_code == 404
    data = {"step": "review", "lines-0-order_line_id": shop["other_line"], "lines-0-quantity": 1,
            "lines-0-reason": shop["r"]["changed_mind"]}  # fmt: skip
    assert client.post("/orders/JO-1/return", data=data).status_code == 404
    assert client.post("/orders/JO-1/return/review", data=data).status_code == 404
    assert client.post("/orders/NOPE/return", data=data).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, shop):
    response = client.get("/orders/R-1001/return")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    response = client.post("/orders/R-1001/return", data={"step": "review"})
    assert response.status_code == 302


def test_an_order_with_nothing_returnable_says_why(app, client, make, shop):
    with app.app_context():
        make.order(customer=shop["user"], number="OLD-1", days_ago=90)
    login(client, "sam@example.com")
    page = client.get("/orders/OLD-1").get_data(as_text=True)
    assert "The return window closed on" in page and "Request a return" not in page
    response = client.get("/orders/OLD-1/return", follow_redirects=True)
    assert "Nothing on this order can be returned right now" in response.get_data(as_text=True)


# --- CSRF ----------------------------------------------------------------------------------


def test_a_missing_csrf_token_is_refused_and_changes_nothing(csrf_app, make):
    app = csrf_app
    with app.app_context():
        reasons = factories.reasons()
        _, order, lines = factories.shop()
        tee = lines["TEE-M"].id
        db.close()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "sam@example.com", "password": "test-pass-1234",
                                           "csrf_token": token})  # fmt: skip
    assert response.status_code == 302
    page = client.get("/orders/R-1001/return").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    indexes = pages.line_indexes(page)
    data = pages.request_data(indexes, {tee: (1, reasons["changed_mind"].id, "")})
    digest = pages.reviewed_digest(
        client.post("/orders/R-1001/return", data=dict(data, csrf_token=token)).get_data(
            as_text=True
        )
    )
    assert digest
    with app.app_context():
        before = factories.counts()
    response = client.post(
        "/orders/R-1001/return", data=dict(data, step="confirm", reviewed=digest)
    )
    assert response.status_code == 400
    assert "did not come from this site, so nothing was changed" in response.get_data(as_text=True)
    with app.app_context():
        assert factories.counts() == before
    # htmx requests send the token in a header; with it, the same submit goes through.
    response = client.post("/orders/R-1001/return", data=dict(data, step="confirm", reviewed=digest),
                           headers={"X-CSRFToken": token})  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        assert Return.select().count() == 1
        assert ReturnLine.get().order_line_id == tee
        assert OrderLine.get_by_id(tee).quantity == 3

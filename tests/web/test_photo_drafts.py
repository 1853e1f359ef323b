"""Photos where they are needed (issue 16): every line has its photo field (open without
JavaScript), and a photo chosen with a form that comes back with an error is kept with the
form's draft ("Photo kept: cap.png") instead of being asked for again."""

import datetime
import io
import os
import re

import pytest

from portal.models import DraftPhoto, ReturnPhoto, now
from portal.returns import drafts
from portal.returns.requests import PhotoRef
from tests import factories, pages
from tests.pages import login


@pytest.fixture
def shop(app):
    with app.app_context():
        reasons = factories.reasons()
        _, _, lines = factories.shop()
        return {"tee": lines["TEE-M"].id, "cap": lines["CAP"].id,
                "r": {code: reason.id for code, reason in reasons.items()}}  # fmt: skip


def post(client, data, files=None, headers=None):
    payload = dict(data)
    for name, (content, filename) in (files or {}).items():
        payload[name] = [(io.BytesIO(c), filename) for c in content]
    return client.post("/orders/R-1001/return", data=payload, headers=headers or {},
                       content_type="multipart/form-data")  # fmt: skip


def draft_of(html):
    return re.search(r'id="draft-token" name="draft" value="([^"]*)"', html).group(1)


def test_every_line_has_its_photo_field_open_without_javascript(client, shop):
    login(client, "sam@example.com")
    html = client.get("/orders/R-1001/return").get_data(as_text=True)
    for line_id in (shop["tee"], shop["cap"]):
        assert re.search(rf'<details class="photo-field" id="photo-field-{line_id}" open>', html)
        assert f'id="photos-{line_id}"' in html
    assert "photo-fields.js" in html  # the script that opens them by reason, with JavaScript
    assert 'data-photo="1"' in html  # reasons that need a photo say so to the script


def test_a_photo_chosen_with_a_form_that_comes_back_is_kept(app, client, shop):
    login(client, "sam@example.com")
    html = client.get("/orders/R-1001/return").get_data(as_text=True)
    indexes = pages.line_indexes(html)
    cap_field = f"lines-{indexes[shop['cap']]}-photos"
    # The cap (damaged, needs a photo) with its photo, but the tee's reason is missing.
    data = pages.request_data(indexes, {shop["cap"]: (1, shop["r"]["damaged"], ""),
                                        shop["tee"]: (1, "", "")})  # fmt: skip
    back = post(client, data, {cap_field: ([factories.png()], "cap.png")})
    assert back.status_code == 422
    html = back.get_data(as_text=True)
    assert "Choose why you are returning “Classic tee”." in pages.errors(html)
    assert "Photo kept: <strong>cap.png</strong>" in html
    token = draft_of(html)
    assert drafts.valid(token)
    with app.app_context():
        (kept,) = DraftPhoto.select()
        assert (kept.token, kept.order_line_id) == (token, shop["cap"])

    # Fixed, reviewed and submitted without choosing the photo again.
    data = pages.request_data(indexes, {shop["cap"]: (1, shop["r"]["damaged"], ""),
                                        shop["tee"]: (1, shop["r"]["changed_mind"], "")})  # fmt: skip
    data["draft"] = token
    page = post(client, data).get_data(as_text=True)
    assert "Photos kept with your request: 1." in page and draft_of(page) == token
    done = post(client, dict(data, step="confirm", reviewed=pages.reviewed_digest(page)))
    assert done.status_code == 303, pages.errors(done.get_data(as_text=True))
    with app.app_context():
        (photo,) = ReturnPhoto.select()
        assert photo.stored_name == kept.stored_name and photo.line.order_line_id == shop["cap"]
        assert DraftPhoto.select().count() == 0  # taken over by the return
    assert os.listdir(app.config["UPLOAD_DIR"]) == [kept.stored_name]


def test_a_kept_photo_can_be_removed(app, client, shop):
    login(client, "sam@example.com")
    indexes = pages.line_indexes(client.get("/orders/R-1001/return").get_data(as_text=True))
    cap_field = f"lines-{indexes[shop['cap']]}-photos"
    data = pages.request_data(indexes, {shop["cap"]: (1, shop["r"]["damaged"], "")})
    page = post(client, data, {cap_field: ([factories.png()], "cap.png")}).get_data(as_text=True)
    token = draft_of(page)
    with app.app_context():
        photo_id = DraftPhoto.get().id
    again = post(client, dict(data, step="confirm", reviewed=pages.reviewed_digest(page),
                              draft=token, drop_photo=str(photo_id)))  # fmt: skip
    assert again.status_code == 422
    assert "Add at least one photo of “Wool cap”" in " ".join(
        pages.errors(again.get_data(as_text=True))
    )
    with app.app_context():
        assert DraftPhoto.select().count() == 0
    assert os.listdir(app.config["UPLOAD_DIR"]) == []


def test_htmx_review_keeps_the_photo_and_swaps_the_fields_out_of_band(app, client, shop):
    login(client, "sam@example.com")
    indexes = pages.line_indexes(client.get("/orders/R-1001/return").get_data(as_text=True))
    cap_field = f"lines-{indexes[shop['cap']]}-photos"
    data = pages.request_data(indexes, {shop["cap"]: (1, shop["r"]["damaged"], "")})
    payload = dict(data, **{cap_field: [(io.BytesIO(factories.png()), "cap.png")]})
    response = client.post("/orders/R-1001/return/review", data=payload,
                           headers={"HX-Request": "true"}, content_type="multipart/form-data")  # fmt: skip
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith("<section")
    assert f'id="photo-field-{shop["cap"]}" open hx-swap-oob="true"' in body
    assert "Photo kept: <strong>cap.png</strong>" in body
    assert re.search(r'id="draft-token" name="draft" value="[\w-]{22,}" hx-swap-oob="true"', body)


def test_a_forged_draft_token_is_not_used(app, client, shop):
    login(client, "sam@example.com")
    indexes = pages.line_indexes(client.get("/orders/R-1001/return").get_data(as_text=True))
    data = pages.request_data(indexes, {shop["tee"]: (1, shop["r"]["changed_mind"], "")})
    page = post(client, dict(data, draft="../../etc/passwd")).get_data(as_text=True)
    assert draft_of(page) == ""


def test_drafts_never_submitted_are_swept_after_a_day(ctx, make):
    _, order, lines = factories.shop()
    old = drafts.keep("a" * 32, lines["CAP"].id, PhotoRef("old.png", "image/png", 10), "old.png")
    DraftPhoto.update(created_at=now() - datetime.timedelta(days=2)).where(
        DraftPhoto.id == old.id
    ).execute()
    drafts.keep("b" * 32, lines["CAP"].id, PhotoRef("new.png", "image/png", 10), "new.png")
    assert [p.stored_name for p in drafts.expired()] == ["old.png"]
    assert [p.stored_name for p in DraftPhoto.select()] == ["new.png"]

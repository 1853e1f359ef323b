"""Photos where they are needed, with JavaScript (issue 16): a line's photo field opens as soon
as the reason chosen for it needs a photo (static/photo-fields.js under the strict CSP), and a
photo chosen before the review is kept with the draft, not sent twice."""

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import DraftPhoto, ReturnPhoto
from tests import factories
from tests.pages import PASSWORD

pytestmark = pytest.mark.browser


def test_the_photo_field_opens_with_a_reason_that_needs_one(app, live_server, page, tmp_path):
    with app.app_context():
        factories.reasons()
        _, _, lines = factories.shop()
        cap = lines["CAP"]
    db.close()
    photo = tmp_path / "cap.png"
    photo.write_bytes(factories.png())
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/orders/R-1001/return")
    page.locator("#lines-0-reason_parent").wait_for()  # the nested picker (htmx) is in place

    field = page.locator(f"#photo-field-{cap.id}")
    expect(field).not_to_have_attribute("open", "")  # no reason yet: closed, a click away
    page.get_by_label("How many to return of Wool cap").fill("1")
    page.get_by_label("Reason for returning Wool cap").select_option(
        label="Arrived damaged (photo needed)"
    )
    child = page.locator('[name="lines-1-reason"]')  # no children: the reason as it is
    child.wait_for(state="attached")
    expect(field).to_have_attribute("open", "")
    expect(field.locator(".photo-need")).to_have_text("(at least one needed)")
    page.get_by_label("Reason for returning Wool cap").select_option(label="I changed my mind")
    expect(field).not_to_have_attribute("open", "")
    expect(field.locator(".photo-need")).to_have_text("(optional)")
    page.get_by_label("Reason for returning Wool cap").select_option(
        label="Arrived damaged (photo needed)"
    )
    expect(field).to_have_attribute("open", "")

    page.set_input_files(f"#photos-{cap.id}", str(photo))
    page.get_by_role("button", name="Review return").click()
    expect(page.locator("#review-photos")).to_have_text("Photos kept with your request: 1.")
    expect(field.locator(".kept-photo")).to_contain_text("Photo kept: cap.png")
    expect(page.locator(f"#photos-{cap.id}")).to_have_value("")  # not sent a second time
    page.get_by_role("button", name="Submit return").click()
    page.wait_for_url(f"{live_server}/returns/RMA-*")
    with app.app_context(), db.connection_context():
        assert ReturnPhoto.select().count() == 1 and DraftPhoto.select().count() == 0
    assert not [e for e in errors if "Content Security Policy" in e], errors

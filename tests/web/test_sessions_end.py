"""Sessions end on the server (issue 15): a session cookie and a remember-me cookie copied
before sign-out, a password change or a deactivation are refused after it, and "sign out
everywhere" ends another browser's session. The cookies carry the session generation
(User.session_version, in flask-login's id)."""

import pytest

from portal.models import User
from tests.factories import PASSWORD
from tests.pages import login

COOKIES = ("session", "remember")


def sign_in(app, email, remember=True):
    browser = app.test_client()
    response = browser.post("/login", data={"email": email, "password": PASSWORD,
                                            "remember": "y" if remember else ""})  # fmt: skip
    assert response.status_code == 302
    return browser


def copies(app, browser):
    """Two other browsers: one with a copy of the session cookie, one with only the copied
    remember-me cookie."""
    out = []
    for name in COOKIES:
        cookie = browser.get_cookie(name)
        assert cookie is not None, name
        thief = app.test_client()
        thief.set_cookie(name, cookie.value)
        out.append(thief)
    return out


def signed_in(browser, url):
    return browser.get(url).status_code == 200


@pytest.fixture
def people(app, store):
    return store


def test_copied_cookies_are_refused_after_sign_out(app, people):
    browser = sign_in(app, people.shopper.email)
    thieves = copies(app, browser)
    assert all(signed_in(t, "/orders") for t in thieves)  # both work before
    assert browser.post("/logout").status_code == 302
    assert browser.get_cookie("remember") is None  # deleted by the sign-out
    for thief in thieves:
        response = thief.get("/orders")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not signed_in(browser, "/orders")


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, people):
    browser = sign_in(app, people.shopper.email)
    thieves = copies(app, browser)
    response = browser.post("/account/password", data={
        "current": PASSWORD, "password": "a-brand-new-pass", "confirm": "a-brand-new-pass"})  # fmt: skip
    assert response.status_code == 303
    assert signed_in(browser, "/orders")  # this browser goes on
    assert not any(signed_in(t, "/orders") for t in thieves)
    login(app.test_client(), people.shopper.email, "a-brand-new-pass")


def test_deactivation_ends_every_session_of_the_account(app, client, people):
    member = sign_in(app, people.agent.email)
    thieves = copies(app, member)
    assert signed_in(member, "/merchant/returns")
    login(client, people.admin.email)
    assert client.post(f"/merchant/staff/{people.agent.id}/deactivate").status_code == 303
    for browser in [member, *thieves]:
        assert not signed_in(browser, "/merchant/returns")
    # Reactivated, the old cookies stay dead: the generation moved on.
    assert client.post(f"/merchant/staff/{people.agent.id}/activate").status_code == 303
    for browser in [member, *thieves]:
        assert not signed_in(browser, "/merchant/returns")


def test_sign_out_everywhere_ends_another_browsers_session(app, people):
    laptop = sign_in(app, people.manager.email)
    phone = sign_in(app, people.manager.email, remember=False)
    assert signed_in(laptop, "/merchant/returns") and signed_in(phone, "/merchant/returns")
    page = phone.get("/account/security").get_data(as_text=True)
    assert "Sign out everywhere" in page
    response = phone.post("/account/sign-out-everywhere")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not signed_in(laptop, "/merchant/returns")
    assert not signed_in(phone, "/merchant/returns")
    with app.app_context():
        assert User.get_by_id(people.manager.id).session_version == 2


def test_a_cookie_without_the_generation_is_refused(app, people):
    """Sessions made before this change held the bare user id: they sign in again."""
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = str(people.shopper.id)
        session["_fresh"] = True
    assert not signed_in(browser, "/orders")
    with browser.session_transaction() as session:
        session["_user_id"] = f"{people.shopper.id}:1"
    assert signed_in(browser, "/orders")


def test_the_remember_me_cookie_is_rotated_when_it_signs_a_browser_in(app, people):
    browser = sign_in(app, people.shopper.email)
    first = browser.get_cookie("remember").value
    later = app.test_client()  # the browser after a restart: no session, only the cookie
    later.set_cookie("remember", first)
    response = later.get("/orders")
    assert response.status_code == 200
    rotated = later.get_cookie("remember").value
    assert rotated != first and rotated.split(".")[0] == first.split(".")[0]
    assert later.get("/orders").status_code == 200  # signed in by its session from now on

"""Two-factor sign-in (issue 15): enrolment with a QR code and a first code, ten recovery codes
shown once, sign-in asking for the code after the password (not signed in until then), a wrong
code, a reused code, a recovery code and its reuse, turning it off, and the store's
requirement for managers and admins (REQUIRE_STAFF_TOTP)."""

import re
import time

import pyotp
import pytest

from portal.models import AuditEntry, RecoveryCode, User
from tests.factories import PASSWORD
from tests.pages import login, post_login, signed_in

WRONG = "That code is not right."


def text(response):
    return response.get_data(as_text=True)


def enrol(client):
    """Turn two-factor sign-in on from the account page; returns (secret, recovery codes)."""
    assert client.post("/account/two-factor").status_code == 303
    page = text(client.get("/account/two-factor"))
    assert 'src="data:image/svg+xml' in page and "authenticator app" in page
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    bad = client.post("/account/two-factor/confirm", data={"code": "000000"})
    assert bad.status_code == 422 and WRONG in text(bad)
    done = client.post("/account/two-factor/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>", text(done))
    assert len(codes) == 10
    return secret, codes


def code_at(secret, offset):
    return pyotp.TOTP(secret).at(time.time() + offset)


@pytest.fixture
def enrolled(app, client, store):
    login(client, store.agent.email)
    secret, codes = enrol(client)
    client.post("/logout")
    return store.agent, secret, codes


def test_enrolment_turns_it_on_with_hashed_recovery_codes(app, enrolled):
    agent, secret, codes = enrolled
    with app.app_context():
        user = User.get_by_id(agent.id)
        assert user.totp_enabled and user.totp_secret == secret
        stored = [r.code_hash for r in RecoveryCode.select()]
        assert len(stored) == 10 and not set(codes) & set(stored)
        assert AuditEntry.get(AuditEntry.action == "2fa.enabled").actor_id == agent.id


def test_sign_in_asks_for_the_code_after_the_password(app, client, enrolled):
    agent, secret, _ = enrolled
    response = post_login(client, agent.email)
    assert response.status_code == 303 and response.headers["Location"] == "/login/code"
    assert not signed_in(client)
    assert client.get("/merchant/returns").status_code == 302  # not yet
    wrong = client.post("/login/code", data={"code": "123456"})
    assert wrong.status_code == 422 and WRONG in text(wrong) and not signed_in(client)
    empty = client.post("/login/code", data={"code": ""})
    assert empty.status_code == 422 and "Enter the code." in text(empty)
    right = client.post("/login/code", data={"code": code_at(secret, 30)})
    assert right.status_code == 302 and signed_in(client)
    with app.app_context():
        assert User.get_by_id(agent.id).failed_logins == 0
        failed = AuditEntry.select().where(AuditEntry.action == "signin.failed")
        assert [e.after["why"] for e in failed] == ["wrong code"]


def test_a_code_works_only_once(app, client, enrolled):
    agent, secret, _ = enrolled
    code = code_at(secret, 30)
    post_login(client, agent.email)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    client.post("/logout")
    other = app.test_client()
    post_login(other, agent.email)
    reused = other.post("/login/code", data={"code": code})
    assert reused.status_code == 422 and not signed_in(other)


def test_a_recovery_code_signs_in_once(app, client, enrolled):
    agent, _, codes = enrolled
    post_login(client, agent.email)
    assert client.post("/login/code", data={"code": codes[3].upper()}).status_code == 302
    with app.app_context():
        entry = AuditEntry.get(AuditEntry.action == "2fa.recovery_used")
        assert entry.after == {"left": 9} and codes[3] not in str(entry.after)
    client.post("/logout")
    post_login(client, agent.email)
    again = client.post("/login/code", data={"code": codes[3]})
    assert again.status_code == 422 and not signed_in(client)


def test_the_code_step_needs_the_password_step_first(app, client, enrolled):
    response = client.post("/login/code", data={"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_turning_it_off_needs_the_password_and_a_code(app, client, enrolled):
    agent, secret, codes = enrolled
    post_login(client, agent.email)
    client.post("/login/code", data={"code": code_at(secret, 30)})
    wrong = client.post("/account/two-factor/disable",
                        data={"password": "not-my-password", "code": code_at(secret, 0)})  # fmt: skip
    assert wrong.status_code == 422 and "Your password is not right." in text(wrong)
    nocode = client.post("/account/two-factor/disable", data={"password": PASSWORD, "code": ""})
    assert nocode.status_code == 422
    with app.app_context():
        assert User.get_by_id(agent.id).totp_enabled
    # The steps up to the one just used are spent: a recovery code does it (or the next code).
    ok = client.post("/account/two-factor/disable", data={"password": PASSWORD, "code": codes[0]})
    assert ok.status_code == 303
    with app.app_context():
        user = User.get_by_id(agent.id)
        assert not user.totp_enabled and user.totp_secret is None
        assert RecoveryCode.select().count() == 0


def test_managers_must_enrol_when_the_store_requires_it(app, client, store):
    app.config["REQUIRE_STAFF_TOTP"] = True
    response = post_login(client, store.manager.email)
    assert response.status_code == 303 and response.headers["Location"] == "/login/enrol"
    assert not signed_in(client)
    page = text(client.get("/login/enrol"))
    assert "The store requires two-factor sign-in" in page and "data:image/svg+xml" in page
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    bad = client.post("/login/enrol", data={"code": "12"})
    assert bad.status_code == 422 and not signed_in(client)
    done = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "recovery codes" in text(done) and signed_in(client)
    assert client.get("/merchant/returns").status_code == 200
    # An agent is not asked to.
    agent = app.test_client()
    assert post_login(agent, store.agent.email).status_code == 302 and signed_in(agent)


def test_a_signed_in_manager_without_it_is_sent_to_set_it_up(app, client, store):
    login(client, store.manager.email)
    app.config["REQUIRE_STAFF_TOTP"] = True
    response = client.get("/merchant/returns")
    assert response.status_code == 302 and response.headers["Location"] == "/account/security"
    htmx = client.get("/merchant/returns", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == "/account/security"
    assert client.get("/account/security").status_code == 200

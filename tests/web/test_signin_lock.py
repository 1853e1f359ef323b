"""Guessing is slowed per account too (issue 15): failed sign-ins count on the account from any
client address; after LOGIN_LOCK_FAILURES the account is locked and its owner emailed a
single-use unlock link. The per-address limit (flask-limiter) stays. The lock's end by time is
tested with a clock in tests/domain/test_account_security.py."""

import pytest

from portal.models import AuditEntry, User
from tests.factories import PASSWORD
from tests.pages import deliver_emails, link_in, signed_in, without_csrf

GENERIC = "That email and password don&#39;t match an active account."


def attempt(client, email, password, address):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})  # fmt: skip


@pytest.fixture
def manager(app, store):
    return store.manager


def test_failures_from_several_addresses_lock_the_account_and_email_its_owner(app, manager):
    addresses = [f"198.51.100.{i}" for i in range(1, 6)]  # one failure from each
    for address in addresses:
        response = attempt(app.test_client(), manager.email, "not-it-1234", address)
        assert response.status_code == 422 and GENERIC in response.get_data(as_text=True)
    with app.app_context():
        user = User.get_by_id(manager.id)
        assert user.locked_until is not None and user.failed_logins == 0
        locked = AuditEntry.get(AuditEntry.action == "account.locked")
        assert locked.actor_id == manager.id and locked.after["ip"] == "198.51.100.5"
    # From yet another address, the right password is refused with the same words.
    client = app.test_client()
    response = attempt(client, manager.email, PASSWORD, "192.0.2.77")
    assert response.status_code == 422 and GENERIC in response.get_data(as_text=True)
    assert not signed_in(client)
    # An unknown email gets exactly the same answer.
    unknown = attempt(app.test_client(), "nobody@example.com", PASSWORD, "192.0.2.78")
    assert unknown.status_code == 422
    assert without_csrf(unknown.get_data(as_text=True)).replace(
        "nobody@example.com", manager.email
    ) == without_csrf(response.get_data(as_text=True))
    # The owner's email has a single-use link that ends the lock at once.
    [(to, subject, text)] = deliver_emails(app)
    assert to == manager.email and "locked" in subject
    token = link_in(text, "unlock")
    page = client.get(f"/unlock/{token}")
    assert page.status_code == 200 and "Unlock my account" in page.get_data(as_text=True)
    with app.app_context():
        assert User.get_by_id(manager.id).locked_until is not None  # GET changed nothing
    assert client.post(f"/unlock/{token}").status_code == 303
    response = attempt(client, manager.email, PASSWORD, "192.0.2.77")
    assert response.status_code == 302 and signed_in(client)
    again = app.test_client().post(f"/unlock/{token}")
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    wrong = app.test_client().get("/unlock/not-a-token")
    assert wrong.status_code == 410 and "not valid" in wrong.get_data(as_text=True)


def test_a_good_sign_in_resets_the_count(app, manager):
    for _ in range(4):
        attempt(app.test_client(), manager.email, "not-it-1234", "198.51.100.1")
    assert attempt(app.test_client(), manager.email, PASSWORD, "198.51.100.2").status_code == 302
    for _ in range(4):
        attempt(app.test_client(), manager.email, "not-it-1234", "198.51.100.3")
    with app.app_context():
        assert User.get_by_id(manager.id).locked_until is None


def test_the_per_address_limit_still_applies(app, manager):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    for _ in range(3):
        attempt(client, "someone@example.com", "x" * 10, "203.0.113.50")
    response = attempt(client, manager.email, PASSWORD, "203.0.113.50")
    assert response.status_code == 429
    assert attempt(client, manager.email, PASSWORD, "203.0.113.51").status_code == 302

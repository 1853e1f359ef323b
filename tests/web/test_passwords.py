"""Forgot and change password (issue 15): the answer never tells whether an email has an
account, the emailed link works once and expires, a wrong link is refused, bad input changes
nothing, and a change ends the other sessions (tests/web/test_sessions_end.py too)."""

import pytest

from portal.models import AuditEntry, OutboxMessage, User
from tests.factories import PASSWORD
from tests.pages import deliver_emails, link_in, login, without_csrf
from tests.querycount import count_queries

NEW = "correct-horse-battery"


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def pat(app, store):
    return store.shopper


def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(app, client, pat):
    with count_queries() as known_queries:
        known = client.post("/forgot-password", data={"email": pat.email})
    with count_queries() as unknown_queries:
        unknown = client.post("/forgot-password", data={"email": "nobody@example.com"})
    # The same statements: the account is looked up by the worker, not here.
    assert [q.split(" WHERE")[0] for q in known_queries.statements] == [
        q.split(" WHERE")[0] for q in unknown_queries.statements
    ]
    assert known.status_code == unknown.status_code == 200
    assert without_csrf(text(known)) == without_csrf(text(unknown))
    assert "If that address has an account" in text(known)
    with app.app_context():  # the same work: one outbox row each
        assert OutboxMessage.select().where(OutboxMessage.kind == "account_email").count() == 2
    emails = deliver_emails(app)
    assert [to for to, _, _ in emails] == [pat.email]


def test_the_link_sets_a_new_password_once(app, client, pat):
    other = app.test_client()
    login(other, pat.email)
    client.post("/forgot-password", data={"email": pat.email.upper()})
    [(_, subject, body)] = deliver_emails(app)
    assert "new password" in subject
    token = link_in(body, "reset-password")
    page = client.get(f"/reset-password/{token}")
    assert page.status_code == 200 and "Choose a new password" in text(page)
    mismatch = client.post(f"/reset-password/{token}", data={"password": NEW, "confirm": NEW + "x"})
    assert mismatch.status_code == 422 and "not the same" in text(mismatch)
    short = client.post(f"/reset-password/{token}", data={"password": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 10 characters" in text(short)
    with app.app_context():
        assert User.get_by_id(pat.id).check_password(PASSWORD)  # nothing changed yet
    done = client.post(f"/reset-password/{token}", data={"password": NEW, "confirm": NEW})
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    login(app.test_client(), pat.email, NEW)
    assert other.get("/orders").status_code == 302  # the reset ended the other session
    reused = client.post(
        f"/reset-password/{token}", data={"password": NEW + "2", "confirm": NEW + "2"}
    )
    assert reused.status_code == 410 and "already been used" in text(reused)
    with app.app_context():
        assert AuditEntry.get(AuditEntry.action == "password.reset").actor_id == pat.id


def test_an_expired_or_wrong_link_is_refused(app, client, pat):
    app.config["PASSWORD_RESET_MAX_AGE"] = 0  # expired as soon as it is made
    client.post("/forgot-password", data={"email": pat.email})
    [(_, _, body)] = deliver_emails(app)
    token = link_in(body, "reset-password")
    expired = client.get(f"/reset-password/{token}")
    assert expired.status_code == 410 and "expired" in text(expired)
    assert client.post(f"/reset-password/{token}", data={"password": NEW, "confirm": NEW}
                       ).status_code == 410  # fmt: skip
    wrong = client.get("/reset-password/abc")
    assert wrong.status_code == 410 and "not valid" in text(wrong)
    with app.app_context():
        assert User.get_by_id(pat.id).check_password(PASSWORD)


def test_bad_input_on_the_forgot_form_is_a_clear_message(app, client, pat):
    response = client.post("/forgot-password", data={"email": ""})
    assert response.status_code == 422 and "Enter your email address." in text(response)
    with app.app_context():
        assert OutboxMessage.select().count() == 0


def test_changing_the_password_checks_the_current_one(app, client, pat):
    login(client, pat.email)
    wrong = client.post("/account/password", data={"current": "nope-nope-nope",
                                                   "password": NEW, "confirm": NEW})  # fmt: skip
    assert wrong.status_code == 422 and "Your current password is not right." in text(wrong)
    same = client.post("/account/password", data={"current": PASSWORD, "password": PASSWORD,
                                                  "confirm": PASSWORD})  # fmt: skip
    assert same.status_code == 422 and "not the one you have" in text(same)
    missing = client.post("/account/password", data={"current": PASSWORD})
    assert missing.status_code == 422 and "Enter a new password." in text(missing)
    with app.app_context():
        user = User.get_by_id(pat.id)
        assert user.check_password(PASSWORD) and user.session_version == 1
    ok = client.post("/account/password", data={"current": PASSWORD, "password": NEW,
                                                "confirm": NEW})  # fmt: skip
    assert ok.status_code == 303
    with app.app_context():
        assert AuditEntry.get(AuditEntry.action == "password.changed").actor_id == pat.id

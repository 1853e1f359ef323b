"""The per-account sign-in lock, emailed tokens and sessions (portal.returns.account_security),
with the clock passed in (no sleeping): a lock ends by itself, each further one doubles up to
the cap, tokens expire and work once, and no audit entry holds a secret."""

import datetime
import json

import pytest

from portal.models import AccountToken, AuditEntry, OutboxMessage, User, now
from portal.returns import account_security as security
from portal.returns.errors import DomainError
from tests import factories
from tests.factories import PASSWORD

RULES = security.LockRules(failures=3, minutes=15, max_minutes=60)
LINKS = {}


def link_for(purpose, token):
    LINKS[purpose] = token
    return f"http://portal.test/{purpose}/{token}"


MAX_AGES = {security.RESET: 3600, security.UNLOCK: 86400}


def fail(user, times, at, address="203.0.113.9"):
    for _ in range(times):
        with pytest.raises(security.SignInRefused):
            security.check_password(user.email, "wrong-password", address, RULES, at)


def test_a_lock_ends_by_itself_and_each_further_one_doubles_up_to_the_cap(ctx):
    user = factories.user("pat@example.com")
    start = now()
    fail(user, 3, start)
    locked = User.get_by_id(user.id)
    assert locked.locked_until == start + datetime.timedelta(minutes=15)
    # Locked: even the right password is refused, with the same words.
    with pytest.raises(security.SignInRefused, match="don't match an active account"):
        security.check_password(user.email, PASSWORD, None, RULES, start)
    with pytest.raises(security.SignInRefused):
        security.check_password(user.email, PASSWORD, None, RULES,
                                start + datetime.timedelta(minutes=14, seconds=59))  # fmt: skip
    # The lock ends by itself.
    later = start + datetime.timedelta(minutes=15, seconds=1)
    assert security.check_password(user.email, PASSWORD, None, RULES, later).id == user.id
    # Without a good sign-in in between, the next lock is twice as long, then capped at 60.
    fail(user, 3, later)
    assert User.get_by_id(user.id).locked_until == later + datetime.timedelta(minutes=30)
    again = later + datetime.timedelta(minutes=31)
    fail(user, 3, again)
    assert User.get_by_id(user.id).locked_until == again + datetime.timedelta(minutes=60)
    last = again + datetime.timedelta(minutes=61)
    fail(user, 3, last)
    assert User.get_by_id(user.id).locked_until == last + datetime.timedelta(minutes=60)
    # A good sign-in starts the count again.
    done = last + datetime.timedelta(minutes=61)
    security.sign_in_succeeded(security.check_password(user.email, PASSWORD, None, RULES, done))
    fresh = User.get_by_id(user.id)
    assert (fresh.failed_logins, fresh.lock_count, fresh.locked_until) == (0, 0, None)


def test_each_lock_emails_the_owner_a_single_use_unlock_link(ctx):
    user = factories.user("pat@example.com")
    start = now()
    fail(user, 3, start)
    [message] = OutboxMessage.select().where(OutboxMessage.kind == "account_email")
    assert message.payload["purpose"] == "unlock" and "token" not in json.dumps(message.payload)
    template, to, context = security.account_email(message.payload, link_for, MAX_AGES, start)
    assert (template, to) == ("account_locked", "pat@example.com")
    token = LINKS["unlock"]
    assert context["link"].endswith(token)
    # Only the hash is stored.
    assert AccountToken.select().where(AccountToken.token_hash == token).count() == 0
    security.unlock(token, start + datetime.timedelta(minutes=1))
    assert User.get_by_id(user.id).locked_until is None
    with pytest.raises(security.TokenInvalid, match="already been used"):
        security.unlock(token, start + datetime.timedelta(minutes=2))
    # Once the lock is over, a late message sends nothing.
    assert security.account_email(message.payload, link_for, MAX_AGES, start) is None


def test_reset_tokens_expire_and_work_once_and_a_wrong_one_is_refused(ctx):
    user = factories.user("pat@example.com")
    start = now()
    security.request_password_reset("PAT@example.com")
    message = OutboxMessage.get(OutboxMessage.kind == "account_email")
    security.account_email(message.payload, link_for, MAX_AGES, start)
    token = LINKS["reset"]
    later = start + datetime.timedelta(seconds=3601)
    with pytest.raises(security.TokenInvalid, match="expired"):
        security.reset_password(token, "a-new-password-1", "a-new-password-1", at=later)
    with pytest.raises(security.TokenInvalid, match="not valid"):
        security.reset_password(token + "x", "a-new-password-1", "a-new-password-1", at=start)
    with pytest.raises(DomainError, match="at least 10"):
        security.reset_password(token, "short", "short", at=start)
    assert User.get_by_id(user.id).check_password(PASSWORD)  # nothing changed
    version = User.get_by_id(user.id).session_version
    security.reset_password(token, "a-new-password-1", "a-new-password-1", at=start)
    fresh = User.get_by_id(user.id)
    assert fresh.check_password("a-new-password-1") and fresh.session_version == version + 1
    with pytest.raises(security.TokenInvalid, match="already been used"):
        security.reset_password(token, "another-password", "another-password", at=start)


def test_an_unknown_email_writes_the_same_outbox_row_and_sends_nothing(ctx):
    factories.user("pat@example.com")
    security.request_password_reset("pat@example.com")
    security.request_password_reset("nobody@example.com")
    known, unknown = OutboxMessage.select().order_by(OutboxMessage.id)
    assert known.kind == unknown.kind == "account_email"
    assert set(known.payload) == set(unknown.payload)
    assert security.account_email(unknown.payload, link_for, MAX_AGES) is None
    assert AccountToken.select().count() == 0


def test_no_audit_entry_holds_a_password_token_or_code(ctx):
    user = factories.user("pat@example.com")
    fail(user, 3, now())
    message = OutboxMessage.get(OutboxMessage.kind == "account_email")
    security.account_email(message.payload, link_for, MAX_AGES)
    security.unlock(LINKS["unlock"])
    security.change_password(user, PASSWORD, "a-new-password-1", "a-new-password-1")
    security.end_sessions(user, "everywhere")
    stored = json.dumps([(e.action, e.subject, e.before, e.after) for e in AuditEntry.select()])
    for secret in (PASSWORD, "wrong-password", "a-new-password-1", LINKS["unlock"]):
        assert secret not in stored
    actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions.count("signin.failed") == 3
    assert {"account.locked", "account.unlocked", "password.changed", "sessions.ended"} <= set(
        actions
    )


def test_a_remember_me_token_rotates_on_each_use_and_a_replayed_copy_ends_everything(ctx):
    user = factories.user("pat@example.com")
    start = now()
    first, expires = security.remember(user, datetime.timedelta(days=30), start)
    assert expires == start + datetime.timedelta(days=30)
    used = security.recall(first, at=start)
    assert used.user.id == user.id and used.cookie and used.cookie != first
    entry = AuditEntry.get(AuditEntry.action == "signin.succeeded")
    assert entry.after == {"method": "remember-me cookie"} and first not in str(entry.after)
    # A request the browser sent before it got the new cookie still counts (a short grace).
    late = security.recall(first, at=start + datetime.timedelta(seconds=10))
    assert late.user.id == user.id and late.cookie is None
    # The old cookie again, later: a copy is being replayed. Every session ends.
    version = User.get_by_id(user.id).session_version
    replay = security.recall(first, at=start + datetime.timedelta(minutes=5))
    assert replay.user is None
    assert User.get_by_id(user.id).session_version == version + 1
    assert security.recall(used.cookie, at=start + datetime.timedelta(minutes=6)).user is None
    assert AuditEntry.get(AuditEntry.action == "sessions.ended").after == {
        "why": "remember-me cookie reused"
    }


def test_a_remember_me_token_ends_with_its_lifetime_or_the_generation(ctx):
    user = factories.user("pat@example.com")
    start = now()
    cookie, _ = security.remember(user, datetime.timedelta(days=1), start)
    assert security.recall(cookie, at=start + datetime.timedelta(days=1, seconds=1)).user is None
    cookie, _ = security.remember(user, datetime.timedelta(days=1), start)
    User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()
    assert security.recall(cookie, at=start).user is None  # a password change, a deactivation...
    assert security.recall("garbage", at=start).user is None
    assert security.recall("", at=start).user is None

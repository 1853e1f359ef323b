"""Account security (OWASP ASVS V2/V3): signing in with a per-account lock, the session
generation that ends sessions, single-use emailed tokens (password reset, unlock), password
changes, and the audit entries of each. No Flask: the web passes in the settings (LockRules),
the password hash method, the client's address and, for tests, the clock (`at`).

- A failed sign-in counts on the account, from whatever address it came. After
  `rules.failures` in a row the account is locked for `rules.minutes`, doubling with each lock
  since the last good sign-in up to `rules.max_minutes`; the owner gets an email with a
  single-use link that ends the lock at once. A lock always ends by itself, so nobody can lock
  an account (staff or not) out for good.
- Every refusal says the same words (no answer tells whether an email has an account, or
  whether it is locked) and spends a password hash (no timing oracle).
- Ending sessions bumps User.session_version, which is part of flask-login's id: every session
  and remember-me cookie made before then stops working at once.
- "Keep me signed in" is a RememberToken (selector.validator), rotated each time it signs a
  browser in; a rotated-out validator presented again (a copied cookie) ends every session of
  the account.
- Tokens are 256-bit random strings sent by email; only their sha256 is stored. Emails that
  carry one are written by the outbox worker (kind "account_email"): the token exists only in
  the worker and the email, never in a database row, and asking for a reset costs the same
  whether or not the email has an account (one outbox row either way)."""

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from portal.db import db, locked
from portal.models import AccountToken, RememberToken, User, now
from portal.models.accounts import DEFAULT_HASH_METHOD
from portal.outbox.messages import enqueue
from portal.prebuilt import prebuilt_rows
from portal.returns import audit, pickers
from portal.returns.errors import DomainError

REFUSED = (
    "That email and password don't match an active account. After several failed attempts an "
    "account is locked for a while, and its owner is emailed a link to unlock it."
)
MIN_PASSWORD = 10
MAX_PASSWORD = 200
RESET = "reset"
UNLOCK = "unlock"
PURPOSES = (RESET, UNLOCK)


class SignInRefused(DomainError):
    """The sign-in was refused; the message is the same for every reason."""

    def __init__(self, message=REFUSED):
        super().__init__(message)


class TokenInvalid(DomainError):
    """An emailed link that is wrong, expired or used."""


@dataclass(frozen=True)
class LockRules:
    failures: int = 5  # failed sign-ins in a row that lock the account
    minutes: int = 15  # the first lock; each further one doubles
    max_minutes: int = 24 * 60  # the longest lock

    def lock_for(self, earlier_locks):
        minutes = self.minutes * 2 ** min(earlier_locks, 20)
        return datetime.timedelta(minutes=min(minutes, self.max_minutes))


def _where(address):
    return {"ip": (address or "")[:64]} if address else {}


@cache
def _dummy_hash(method):
    return generate_password_hash("not-a-real-password", method=method)


def spend_a_hash(password, method=DEFAULT_HASH_METHOD):
    """The work of checking a password, for an attempt that has no password to check."""
    check_password_hash(_dummy_hash(method), password or "")


def is_locked(user, at=None):
    return user.locked_until is not None and user.locked_until > (at or now())


# --- signing in ----------------------------------------------------------------------------------


def check_password(email, password, address=None, rules=LockRules(), at=None,
                   hash_method=DEFAULT_HASH_METHOD):  # fmt: skip
    """The first step of signing in: the user when the password is right and the account may
    sign in now; SignInRefused otherwise (a wrong password counts towards the account's lock).
    The second step (a TOTP code) is second_factor(); sign_in_succeeded() ends both."""
    at = at or now()
    user = User.by_email(email)
    if user is None or not user.active:
        spend_a_hash(password, hash_method)
        with db.atomic():
            audit.record(user, "signin.failed", f"user:{user.id}" if user else "",
                         after={"why": "inactive" if user else "no such account",
                                **_where(address)})  # fmt: skip
        raise SignInRefused()
    if is_locked(user, at):
        spend_a_hash(password, hash_method)
        with db.atomic():
            audit.record(user, "signin.failed", f"user:{user.id}",
                         after={"why": "locked", **_where(address)})  # fmt: skip
        raise SignInRefused()
    if not user.check_password(password or ""):
        sign_in_failed(user, "wrong password", address, rules, at)
        raise SignInRefused()
    return user


def sign_in_failed(user, why, address=None, rules=LockRules(), at=None):
    """Count a failed attempt on the account (a wrong password or a wrong second-factor code);
    the one that reaches `rules.failures` locks it and emails the owner an unlock link."""
    at = at or now()
    with db.atomic():
        current = locked(User.select().where(User.id == user.id)).get()
        failures = current.failed_logins + 1
        audit.record(current, "signin.failed", f"user:{current.id}",
                     after={"why": why, "failures": failures, **_where(address)})  # fmt: skip
        if failures < rules.failures or is_locked(current, at):
            User.update(failed_logins=failures).where(User.id == current.id).execute()
            return False
        until = at + rules.lock_for(current.lock_count)
        User.update(failed_logins=0, locked_until=until, lock_count=current.lock_count + 1).where(
            User.id == current.id
        ).execute()
        audit.record(current, "account.locked", f"user:{current.id}",
                     after={"until": until.isoformat(timespec="seconds"), "failures": failures,
                            **_where(address)})  # fmt: skip
        enqueue("account_email", {"purpose": UNLOCK, "user_id": current.id,
                                  "until": until.isoformat(timespec="minutes")},
                f"unlock:{current.id}:{current.lock_count + 1}")  # fmt: skip
        return True


def sign_in_succeeded(user, address=None, method="password", at=None):
    """Both steps passed: the failure count and the lock history start again. Returns the user
    as it is now (its session generation goes into the session)."""
    with db.atomic():
        User.update(failed_logins=0, lock_count=0, locked_until=None).where(
            User.id == user.id
        ).execute()
        audit.record(user, "signin.succeeded", f"user:{user.id}",
                     after={"method": method, **_where(address)})  # fmt: skip
    return User.get_by_id(user.id)


def pending_user(user_id, version, at=None):
    """The account a half-finished sign-in (password right, code still to come) is for, or
    None when it can no longer finish: deactivated, locked since, or its sessions ended."""
    user = User.get_or_none(User.id == user_id)
    if user is None or not user.active or user.session_version != version or is_locked(user, at):
        return None
    return user


def _user_with_generation(user_id):
    return (
        User.select(User, pickers.generation_query().alias("cache_generation"))
        .where(User.id == user_id)
        .limit(1)
    )


def user_for_session(session_id):
    """flask-login's user loader: "<id>:<generation>" -> the active user whose sessions have not
    been ended since, else None (the cookie is refused)."""
    user_id, _, version = str(session_id or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    # Fresh every request (a deactivation or a role change counts on the next one), with the
    # pickers' cache generation in the same query (portal.returns.pickers).
    # Prebuilt: Peewee took ~0.3 ms building this one statement on every request.
    found = prebuilt_rows("user_for_session", _user_with_generation, user_id=int(user_id))
    user = found[0] if found else None
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def end_sessions(user, why, actor=None):
    """End every session of the account (each browser, each remember-me cookie). `why`:
    sign-out, everywhere, remember-me cookie reused."""
    with db.atomic():
        User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()
        RememberToken.delete().where(RememberToken.user == user.id).execute()
        audit.record(actor or user, "sessions.ended", f"user:{user.id}", after={"why": why})
    return User.get_by_id(user.id)


# --- "Keep me signed in" -------------------------------------------------------------------------

REMEMBER_GRACE = datetime.timedelta(seconds=30)  # a rotated-out validator still works this long


@dataclass(frozen=True)
class Recalled:
    """What a remember-me cookie gave: the user (None: refused), the cookie to set now (the
    rotated one; None: keep it), and when the token ends."""

    user: object = None
    cookie: str | None = None
    expires_at: datetime.datetime | None = None


def remember(user, lifetime, at=None):
    """A new remember-me token for `user` (its generation now); returns (cookie, expires_at)."""
    at = at or now()
    selector, validator = secrets.token_urlsafe(12), secrets.token_urlsafe(32)
    expires = at + lifetime
    with db.atomic():
        RememberToken.create(user=user, selector=selector, validator_hash=_digest(validator),
                             session_version=user.session_version, created_at=at,
                             expires_at=expires)  # fmt: skip
    return f"{selector}.{validator}", expires


def recall(cookie, address=None, at=None, grace=REMEMBER_GRACE):
    """Sign a browser in from its remember-me cookie, rotating the token. A validator that was
    rotated out longer than `grace` ago is a copy being replayed: every session of the account
    ends (the owner signs in again; the copy is worthless)."""
    at = at or now()
    selector, _, validator = (cookie or "").partition(".")
    if not selector or not validator:
        return Recalled()
    with db.atomic():
        token = locked(RememberToken.select().where(RememberToken.selector == selector)).first()
        if token is None or token.expires_at <= at:
            return Recalled()
        user = User.get_or_none(User.id == token.user_id)
        if user is None or not user.active or user.session_version != token.session_version:
            token.delete_instance()
            return Recalled()
        digest = _digest(validator)
        if secrets.compare_digest(digest, token.validator_hash):
            fresh = secrets.token_urlsafe(32)
            RememberToken.update(validator_hash=_digest(fresh), previous_hash=digest,
                                 rotated_at=at).where(RememberToken.id == token.id).execute()  # fmt: skip
            audit.record(user, "signin.succeeded", f"user:{user.id}",
                         after={"method": "remember-me cookie", **_where(address)})  # fmt: skip
            return Recalled(user, f"{selector}.{fresh}", token.expires_at)
        recent = token.rotated_at is not None and at - token.rotated_at <= grace
        if token.previous_hash and secrets.compare_digest(digest, token.previous_hash) and recent:
            return Recalled(user, None, token.expires_at)  # a request sent before the rotation
    end_sessions(user, "remember-me cookie reused")
    return Recalled()


# --- emailed single-use tokens -------------------------------------------------------------------


def _digest(token):
    return hashlib.sha256((token or "").encode()).hexdigest()


def issue_token(user, purpose, max_age, at=None):
    """A new token for `user` (inside the caller's transaction); only its hash is stored."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    at = at or now()
    token = secrets.token_urlsafe(32)
    AccountToken.create(user=user, purpose=purpose, token_hash=_digest(token), created_at=at,
                        expires_at=at + datetime.timedelta(seconds=max_age))  # fmt: skip
    return token


def read_token(token, purpose, at=None):
    """The unused, unexpired token row for `token`, or TokenInvalid."""
    at = at or now()
    row = AccountToken.get_or_none(
        (AccountToken.token_hash == _digest(token)) & (AccountToken.purpose == purpose)
    )
    again = "Ask for a new one." if purpose == RESET else "Sign in, or wait for the lock to end."
    if row is None:
        raise TokenInvalid(f"This link is not valid. {again}")
    if row.used_at is not None:
        raise TokenInvalid(f"This link has already been used. {again}")
    if row.expires_at <= at:
        raise TokenInvalid(f"This link has expired. {again}")
    user = User.get_or_none(User.id == row.user_id)
    if user is None or not user.active:
        raise TokenInvalid(f"This link is not valid any more. {again}")
    return row, user


def _use(row, at):
    """Mark a token used (compare-and-set: of two requests at once, one wins)."""
    used = (
        AccountToken.update(used_at=at)
        .where((AccountToken.id == row.id) & AccountToken.used_at.is_null())
        .execute()
    )
    if used != 1:
        raise TokenInvalid("This link has already been used.")


def request_password_reset(email, address=None, at=None):
    """Forgot password: one outbox row whatever the email (the worker looks the account up and
    sends the link, or does nothing), so the answer and the work say nothing about it. At most
    one email a minute per address asked for (the outbox's dedupe key)."""
    email = User.normalize_email(email)[:254]
    minute = int((at or now()).replace(tzinfo=datetime.UTC).timestamp() // 60)
    key = f"reset:{hashlib.sha256(email.encode()).hexdigest()[:32]}:{minute}"
    with db.atomic():
        enqueue("account_email", {"purpose": RESET, "email": email, **_where(address)}, key)


def account_email(payload, link_for, max_ages, at=None):
    """The worker's half of an "account_email" message: write a fresh token and return
    (template, to, context) of the email that carries it, or None when there is nothing to
    send (no such account, or no lock any more). link_for(purpose, token) makes the link."""
    at = at or now()
    purpose = payload.get("purpose")
    with db.atomic():
        if purpose == RESET:
            user = User.by_email(payload.get("email"))
            if user is None or not user.active:
                return None
            token = issue_token(user, RESET, max_ages[RESET], at)
            return "password_reset", user.email, {
                "name": user.display_name, "link": link_for(RESET, token),
                "valid_for": _hours(max_ages[RESET]),
            }  # fmt: skip
        if purpose == UNLOCK:
            user = User.get_or_none(User.id == payload.get("user_id"))
            if user is None or not user.active or not is_locked(user, at):
                return None
            token = issue_token(user, UNLOCK, max_ages[UNLOCK], at)
            return "account_locked", user.email, {
                "name": user.display_name, "link": link_for(UNLOCK, token),
                "until": (payload.get("until") or "").replace("T", " ") + " UTC",
            }  # fmt: skip
    raise ValueError(f"unknown account email {purpose!r}")


def _hours(seconds):
    if seconds < 3600:
        minutes = max(1, round(seconds / 60))
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(seconds / 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def unlock(token, at=None):
    """The emailed unlock link: the lock ends now (the link works once)."""
    at = at or now()
    with db.atomic():
        row, user = read_token(token, UNLOCK, at)
        _use(row, at)
        User.update(failed_logins=0, locked_until=None).where(User.id == user.id).execute()
        audit.record(user, "account.unlocked", f"user:{user.id}", after={"by": "emailed link"})
        return user


# --- passwords -----------------------------------------------------------------------------------


def check_new_password(password, confirm, email=""):
    if password != confirm:
        raise DomainError("The two new passwords are not the same.")
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(f"Choose a password of at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise DomainError(f"Choose a password of at most {MAX_PASSWORD} characters.")
    if email and password.strip().lower() == User.normalize_email(email):
        raise DomainError("Your password can't be your email address.")


def reset_password(token, password, confirm, hash_method=DEFAULT_HASH_METHOD, at=None):
    """The emailed reset link: set a new password. The link works once; every session of the
    account ends, and so does a lock (the owner proved they read the account's email)."""
    at = at or now()
    with db.atomic():
        row, user = read_token(token, RESET, at)
        check_new_password(password, confirm, user.email)
        _use(row, at)
        AccountToken.update(used_at=at).where(
            (AccountToken.user == user.id) & (AccountToken.purpose == RESET)
            & AccountToken.used_at.is_null()
        ).execute()  # fmt: skip
        user.set_password(password, hash_method)
        User.update(password_hash=user.password_hash, failed_logins=0, locked_until=None,
                    session_version=User.session_version + 1).where(User.id == user.id).execute()  # fmt: skip
        audit.record(user, "password.reset", f"user:{user.id}", after={"by": "emailed link"})
        return User.get_by_id(user.id)


def change_password(user, current_password, password, confirm, hash_method=DEFAULT_HASH_METHOD,
                    address=None, rules=LockRules(), at=None):  # fmt: skip
    """A signed-in user changes their password (the current one is asked for). Every session
    of the account ends; the caller signs this browser in again with the new generation."""
    fresh = User.get_by_id(user.id)
    if not fresh.check_password(current_password or ""):
        sign_in_failed(fresh, "wrong current password", address, rules, at)
        raise DomainError("Your current password is not right.")
    check_new_password(password, confirm, fresh.email)
    if fresh.check_password(password):
        raise DomainError("Choose a new password, not the one you have.")
    fresh.set_password(password, hash_method)
    with db.atomic():
        User.update(password_hash=fresh.password_hash,
                    session_version=User.session_version + 1).where(User.id == fresh.id).execute()  # fmt: skip
        audit.record(fresh, "password.changed", f"user:{fresh.id}", after={"by": "the owner"})
    return User.get_by_id(fresh.id)

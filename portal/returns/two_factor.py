"""Two-factor sign-in with TOTP (RFC 6238, pyotp): enrolment (a new secret, confirmed by a
first code), ten single-use recovery codes shown once and stored as hashes, checking a code at
sign-in (each time step works once: pyotp itself does not stop a code being used twice), and
turning it off (the password and a code). Required for managers and admins when the
REQUIRE_STAFF_TOTP setting is on (the web sends them to enrolment); optional for everyone
else."""

import datetime
import hashlib
import secrets

import pyotp

from portal.db import db, locked
from portal.models import RecoveryCode, User, now
from portal.returns import audit
from portal.returns.errors import DomainError

RECOVERY_CODES = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to copy from paper
WINDOW = 1  # the step before and after the current one are accepted too (clock drift)
WRONG_CODE = (
    "That code is not right. Enter the 6-digit code your app shows now, or a recovery code."
)


def required(user, require_staff_totp):
    """Must this account sign in with a second factor (the setting, for managers and admins)?"""
    return bool(require_staff_totp) and user.is_staff and user.has_role("manager")


def _totp(secret):
    return pyotp.TOTP(secret)


def provisioning_uri(user, issuer):
    """The otpauth:// URI an authenticator app reads from the enrolment QR code."""
    if not user.totp_secret:
        raise DomainError("Start the setup of two-factor sign-in first.")
    return _totp(user.totp_secret).provisioning_uri(name=user.email, issuer_name=issuer)


def start_enrolment(user):
    """A new secret for an account without two-factor sign-in (a second start replaces the
    first one, which was never confirmed). Returns the user with it."""
    with db.atomic():
        current = locked(User.select().where(User.id == user.id)).get()
        if current.totp_enabled:
            raise DomainError("Two-factor sign-in is already on for this account.")
        current.totp_secret = pyotp.random_base32()
        User.update(totp_secret=current.totp_secret, totp_last_step=None).where(
            User.id == current.id
        ).execute()
        return current


def _digits(code):
    return "".join((code or "").split()).replace("-", "")


def _step_of(secret, code, at):
    """The time step `code` belongs to (within WINDOW of `at`), or None."""
    code = _digits(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = _totp(secret)
    current = totp.timecode(at.replace(tzinfo=datetime.UTC))  # `at` is naive UTC (models.now)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(user_id, step):
    """Record the step as used (compare-and-set: a code works once, even from two requests)."""
    return (
        User.update(totp_last_step=step)
        .where(
            (User.id == user_id) & (User.totp_last_step.is_null() | (User.totp_last_step < step))
        )
        .execute()
        == 1
    )


def _new_codes(user, at):
    RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"  # 59 bits
        RecoveryCode.create(user=user, code_hash=_code_hash(code), created_at=at)
        codes.append(code)
    return codes


def _code_hash(code):
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def confirm_enrolment(user, code, at=None):
    """The first code from the app turns two-factor sign-in on. Returns the ten recovery codes
    (shown once; only their hashes are kept)."""
    at = at or now()
    with db.atomic():
        current = locked(User.select().where(User.id == user.id)).get()
        if current.totp_enabled:
            raise DomainError("Two-factor sign-in is already on for this account.")
        if not current.totp_secret:
            raise DomainError("Start the setup of two-factor sign-in first.")
        step = _step_of(current.totp_secret, code, at)
        if step is None or not _use_step(current.id, step):
            raise DomainError(
                "That code is not right. Scan the QR code again and enter the 6-digit code "
                "your app shows now."
            )
        User.update(totp_enabled_at=at).where(User.id == current.id).execute()
        codes = _new_codes(current, at)
        audit.record(current, "2fa.enabled", f"user:{current.id}", after={"method": "totp"})
        return codes


def check_code(user, code, at=None):
    """A sign-in's second step: True for a current TOTP code not used before, or an unused
    recovery code (then used up); False otherwise. Writes the audit entry of a recovery code."""
    at = at or now()
    with db.atomic():
        current = User.get_by_id(user.id)
        if not current.totp_enabled:
            return False
        step = _step_of(current.totp_secret, code, at)
        if step is not None:
            return _use_step(current.id, step)
        digits = _digits(code).lower()
        if len(digits) != 12:
            return False
        used = (
            RecoveryCode.update(used_at=at)
            .where(
                (RecoveryCode.user == current.id)
                & (RecoveryCode.code_hash == _code_hash(digits))
                & RecoveryCode.used_at.is_null()
            )
            .execute()
        )
        if used != 1:
            return False
        left = (
            RecoveryCode.select()
            .where((RecoveryCode.user == current.id) & RecoveryCode.used_at.is_null())
            .count()
        )
        audit.record(current, "2fa.recovery_used", f"user:{current.id}", after={"left": left})
        return True


def recovery_codes_left(user):
    return (
        RecoveryCode.select()
        .where((RecoveryCode.user == user.id) & RecoveryCode.used_at.is_null())
        .count()
    )


def disable(user, password, code, require_staff_totp=False, at=None):
    """Turn two-factor sign-in off: the password and a code (or a recovery code) are asked for.
    A manager or admin can't while the store requires it."""
    at = at or now()
    current = User.get_by_id(user.id)
    if not current.totp_enabled:
        raise DomainError("Two-factor sign-in is not on for this account.")
    if required(current, require_staff_totp):
        raise DomainError("The store requires two-factor sign-in for managers and admins.")
    if not current.check_password(password or ""):
        raise DomainError("Your password is not right.")
    if not check_code(current, code, at):
        raise DomainError(WRONG_CODE)
    with db.atomic():
        User.update(totp_secret=None, totp_enabled_at=None, totp_last_step=None).where(
            User.id == current.id
        ).execute()
        RecoveryCode.delete().where(RecoveryCode.user == current.id).execute()
        audit.record(current, "2fa.disabled", f"user:{current.id}", after={"method": "totp"})
    return User.get_by_id(current.id)

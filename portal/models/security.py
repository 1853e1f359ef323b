"""What account security keeps besides the User row: single-use emailed tokens (password reset,
unlock after a lock), the recovery codes of two-factor sign-in and the rotating remember-me
tokens. Only hashes of the tokens and
codes are stored: the database never holds one that works."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from portal.db import BaseModel
from portal.models.accounts import User, now


class AccountToken(BaseModel):
    """A single-use, expiring token sent by email. purpose: "reset" or "unlock"."""

    user = ForeignKeyField(User, on_delete="CASCADE", backref="tokens")
    purpose = CharField()
    token_hash = CharField(unique=True)  # sha256 of the token, hex
    created_at = DateTimeField(default=now)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


class RecoveryCode(BaseModel):
    """One of the ten recovery codes of an account's two-factor sign-in; each works once."""

    user = ForeignKeyField(User, on_delete="CASCADE", backref="recovery_codes")
    code_hash = CharField(unique=True)  # sha256 of the normalised code, hex
    created_at = DateTimeField(default=now)
    used_at = DateTimeField(null=True)


class RememberToken(BaseModel):
    """A "Keep me signed in" cookie: selector.validator. The selector finds the row, the
    validator (stored as a sha256) proves the cookie; each use rotates the validator (the one
    before stays good for a short grace, for a browser's requests already on their way). A
    token is dead once the account's session generation moves on (sign-out, password change,
    sign out everywhere, deactivation) or after expires_at."""

    user = ForeignKeyField(User, on_delete="CASCADE", backref="remember_tokens")
    selector = CharField(unique=True)
    validator_hash = CharField()
    previous_hash = CharField(null=True)
    rotated_at = DateTimeField(null=True)
    session_version = IntegerField()
    created_at = DateTimeField(default=now)
    expires_at = DateTimeField()

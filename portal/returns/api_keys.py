"""API keys for the JSON API (/api/v1): an admin creates one (a name and scopes), sees it once,
and can revoke it. Only the sha256 of a key is kept. Each key acts as its own staff-like
account (a manager, never able to sign in: it has no password), so the timeline and the audit
log name the key that acted. Creating and revoking are audited."""

import hashlib
import secrets
from dataclasses import dataclass

from portal.db import db
from portal.models import ApiKey, User, now
from portal.returns import audit
from portal.returns.errors import DomainError, NotAllowed, NotFound

SCOPES = {
    "orders:write": "Create and update orders (and read them back)",
    "returns:read": "Read returns and orders",
    "returns:write": "Create returns and act on them",
    "refunds:write": "Prepare refunds",
}
PREFIX = "rp_"
SERVICE_DOMAIN = "@api-keys.invalid"  # the e-mail domain of the keys' accounts (never mailed)
ROLE = "manager"
# last_used_at is written at most once per this many seconds per key (not a write per request).
TOUCH_SECONDS = 60


def is_service_account(user):
    return bool(user) and user.email.endswith(SERVICE_DOMAIN)


def not_service_account():
    """A query condition: the user is a person, not an API key's account."""
    return ~User.email.endswith(SERVICE_DOMAIN)


def digest(token):
    return hashlib.sha256((token or "").encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str  # shown once, never stored


def _admin(actor):
    if actor is None or not actor.is_staff or not actor.active or not actor.has_role("admin"):
        raise NotAllowed("Only admins can manage API keys.")


def create_key(actor, name, scopes):
    """A new key named `name` with `scopes`; returns NewKey (the token is shown once)."""
    _admin(actor)
    name = " ".join((name or "").split())[:100]
    if not name:
        raise DomainError("Give the key a name, e.g. the shop it is for.")
    scopes = sorted(set(scopes or ()))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise DomainError(f"Unknown scope: {', '.join(unknown)}.")
    if not scopes:
        raise DomainError("Choose at least one scope.")
    token = PREFIX + secrets.token_urlsafe(32)
    with db.atomic():
        account = User.create(
            email=f"api-key-{secrets.token_hex(6)}{SERVICE_DOMAIN}",
            password_hash="",  # no password: this account can never sign in
            name=f"API key “{name}”",
            role=ROLE,
        )
        key = ApiKey.create(name=name, prefix=token[:10], key_hash=digest(token), scopes=scopes,
                            user=account, created_by=actor.id)  # fmt: skip
        audit.record(actor, "api_key.created", f"api_key:{key.id}", None,
                     {"name": name, "scopes": scopes, "prefix": key.prefix})  # fmt: skip
    return NewKey(key, token)


def revoke_key(actor, key_id):
    """Revoke a key at once: it answers 401 from now on; its account is deactivated."""
    _admin(actor)
    with db.atomic():
        key = ApiKey.get_or_none(ApiKey.id == key_id)
        if key is None:
            raise NotFound("That API key doesn't exist.")
        if key.revoked_at is not None:
            return key
        key.revoked_at = now()
        key.save()
        User.update(active=False, session_version=User.session_version + 1).where(
            User.id == key.user_id
        ).execute()
        audit.record(actor, "api_key.revoked", f"api_key:{key.id}", {"name": key.name},
                     {"name": key.name, "revoked": True})  # fmt: skip
    return key


def authenticate(token):
    """The active key for a bearer token (its account as `key.user`), or None."""
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return None
    key = (
        ApiKey.select(ApiKey, User)
        .join(User, on=(ApiKey.user == User.id))
        .where(ApiKey.key_hash == digest(token))
        .first()
    )
    if key is None or key.revoked_at is not None or not key.user.active:
        return None
    at = now()
    if key.last_used_at is None or (at - key.last_used_at).total_seconds() >= TOUCH_SECONDS:
        with db.atomic():
            ApiKey.update(last_used_at=at).where(ApiKey.id == key.id).execute()
        key.last_used_at = at
    return key


def keys():
    """Every key, newest first (revoked ones too)."""
    return list(ApiKey.select().order_by(ApiKey.id.desc()))

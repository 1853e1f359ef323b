"""Who is calling: `Authorization: Bearer <key>`. A missing, wrong or revoked key is a 401, a
key without the operation's scope a 403; either way nothing runs. The key's account is the
actor the domain sees (a manager named after the key)."""

import hashlib

from flask import g, request
from flask_limiter.util import get_remote_address

from portal.api.problems import ApiProblem
from portal.returns import api_keys

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="returns-portal"'}


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def rate_limit_key():
    """flask-limiter's key: the API key (its hash), or the client's address without one."""
    token = bearer_token()
    if token:
        return "api:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "api-anon:" + (get_remote_address() or "")


def require(scopes):
    """The calling key, which has one of `scopes`; ApiProblem 401/403 otherwise."""
    token = bearer_token()
    if token is None:
        raise ApiProblem(401, "Send an API key as 'Authorization: Bearer <key>'.",
                         headers=CHALLENGE)  # fmt: skip
    key = api_keys.authenticate(token)
    if key is None:
        raise ApiProblem(401, "This API key is not valid or has been revoked.", headers=CHALLENGE)
    if not set(scopes) & set(key.scopes or ()):
        raise ApiProblem(403, f"This API key lacks the scope this needs: {' or '.join(scopes)}. "
                              "Nothing was changed.")  # fmt: skip
    g.api_key = key
    return key


def actor():
    """The domain's actor for this request: the key's account."""
    return g.api_key.user

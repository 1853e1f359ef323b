"""The session cookie and the CSRF token: Flask's own signed cookie and flask-wtf's own token,
byte for byte, with their signing keys derived once per process. Flask and flask-wtf build a
new serializer for every request, and itsdangerous derives the key (a digest of the secret) on
every signature made or checked: ~15 us of each request for the cookie, ~20 us for the token.
The keys are derived again when SECRET_KEY, SECRET_KEY_FALLBACKS or WTF_CSRF_SECRET_KEY change."""

import hashlib
import os

from flask import current_app, g, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import Signer, URLSafeTimedSerializer

CSRF_SALT = "wtf-csrf-token"  # flask-wtf's
_csrf_serializers = {}


class KeptKeySessions(SecureCookieSessionInterface):
    _kept = (None, None)

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key)
        if self._kept[0] != keys:
            derived = [
                Signer(key, salt=self.salt, key_derivation=self.key_derivation,
                       digest_method=self.digest_method).derive_key()
                for key in keys
            ]  # fmt: skip
            serializer = URLSafeTimedSerializer(
                derived, salt=self.salt, serializer=self.serializer,
                signer_kwargs={"key_derivation": "none", "digest_method": self.digest_method},
            )  # fmt: skip
            self._kept = (keys, serializer)
        return self._kept[1]


def csrf_token():
    """flask-wtf's generate_csrf(): this request's token (signed now, of the session's raw
    token, made if the session has none), which flask-wtf's validation reads. Kept in `g`
    where flask-wtf keeps it, so its own csrf_token() in templates returns the same."""
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    token = g.get(field)
    if token is None:
        secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        serializer = _csrf_serializers.get(secret)
        if serializer is None:
            derived = Signer(secret, salt=CSRF_SALT).derive_key()  # flask-wtf's derivation
            serializer = _csrf_serializers[secret] = URLSafeTimedSerializer(
                derived, salt=CSRF_SALT, signer_kwargs={"key_derivation": "none"}
            )
        if not isinstance(session.get(field), str):
            session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
        token = serializer.dumps(session[field])
        setattr(g, field, token)
    return token

"""The session cookie: Flask's own signed cookie, byte for byte, with its signing keys derived
once per process. Flask builds a new serializer for every request, and itsdangerous derives
the key (an HMAC of the secret) on every signature made or checked: ~15 us of each request.
The keys are derived again when SECRET_KEY or SECRET_KEY_FALLBACKS change."""

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import Signer, URLSafeTimedSerializer


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

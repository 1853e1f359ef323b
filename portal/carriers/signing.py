"""Signed carrier status updates, as Standard Webhooks signs them: HMAC-SHA256 over
"{id}.{timestamp}.{body}" with the shared secret, sent base64-encoded as "v1,<signature>" in the
webhook-signature header (several, space-separated, while a secret is rotated), with
webhook-id and webhook-timestamp (Unix seconds). A secret written "whsec_<base64>" is decoded;
any other value is used as it is."""

import base64
import hashlib
import hmac
import time


class BadSignature(Exception):
    """The update is unsigned, badly signed or too old; str() says which, for the log."""


def _key(secret):
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def sign(secret, event_id, timestamp, body):
    mac = hmac.new(_key(secret), f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def verify(secret, headers, body, tolerance=300, at=None):
    """Check an update's signature and age. `headers` maps lower-case names to values."""
    if not secret:
        raise BadSignature("no CARRIER_WEBHOOK_SECRET is set: updates can't be checked")
    event_id = headers.get("webhook-id") or ""
    timestamp = headers.get("webhook-timestamp") or ""
    signatures = (headers.get("webhook-signature") or "").split()
    if not event_id or not timestamp or not signatures:
        raise BadSignature("the update is not signed")
    try:
        sent = int(timestamp)
    except ValueError:
        raise BadSignature("the timestamp is not a number") from None
    if abs((at if at is not None else time.time()) - sent) > tolerance:
        raise BadSignature("the timestamp is too old or in the future")
    expected = sign(secret, event_id, timestamp, body)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise BadSignature("the signature does not match")
    return event_id

"""Webhook endpoints (admins, audited) and what delivery needs of them: the secrets that sign,
the order of a return's events, the delivery log, and redelivery.

A secret is "whsec_" + base64 of 24 random bytes (Standard Webhooks' format), returned once by
add_endpoint() and rotate_secret() for the page to show; it is never in the audit log. After a
rotation the old secret keeps signing beside the new one for the overlap given (the
WEBHOOK_SECRET_OVERLAP_SECONDS setting), so a receiver can switch without losing an event."""

import base64
import datetime
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from portal.db import db
from portal.models import OutboxMessage, WebhookAttempt, WebhookEndpoint, now
from portal.outbox.messages import PENDING, enqueue, supersede_failed
from portal.returns import audit
from portal.returns.errors import DomainError, NotFound
from portal.returns.transitions import require_staff
from portal.returns.webhook_events import TYPES, dedupe_prefix

ADMINS = "Only admins can change webhook endpoints."
FIELDS = ("url", "description", "event_types", "active")
SECRET_PREFIX = "whsec_"


def new_secret():
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def clean_url(url):
    """An http(s) address with a host, no spaces and no password in it, at most 500 characters."""
    url = (url or "").strip()
    if not url:
        raise DomainError("Give the endpoint's URL, e.g. https://shop.example.com/hooks/returns.")
    if len(url) > 500 or any(c.isspace() for c in url):
        raise DomainError("The URL must be at most 500 characters, with no spaces.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise DomainError(f"“{url}” is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError("The URL must start with https:// (or http://) and name a host.")
    if parts.username or parts.password:
        raise DomainError("Leave user names and passwords out of the URL: deliveries are signed.")
    return url


def clean_types(event_types):
    chosen = [t for t in TYPES if t in set(event_types or ())]
    unknown = sorted(set(event_types or ()) - set(TYPES))
    if unknown:
        raise DomainError(f"Unknown event type: {', '.join(unknown)}.")
    if not chosen:
        raise DomainError("Choose at least one event to send to this endpoint.")
    return chosen


def _get(endpoint_id):
    try:
        endpoint = WebhookEndpoint.get_or_none(WebhookEndpoint.id == int(endpoint_id))
    except (TypeError, ValueError):
        endpoint = None
    if endpoint is None:
        raise NotFound("That webhook endpoint doesn't exist.")
    return endpoint


def all_endpoints():
    return list(WebhookEndpoint.select().order_by(WebhookEndpoint.id))


def add_endpoint(actor, *, url, event_types, description="", active=True):
    """A new endpoint and its secret (to be shown once): (endpoint, secret)."""
    require_staff(actor, "admin", ADMINS)
    url, event_types = clean_url(url), clean_types(event_types)
    description = " ".join((description or "").split())[:200]
    secret = new_secret()
    with db.atomic():
        endpoint = WebhookEndpoint.create(url=url, event_types=event_types, secret=secret,
                                          description=description, active=bool(active),
                                          created_by=actor)  # fmt: skip
        audit.record(actor, "webhook.added", f"webhook:{endpoint.id}",
                     after=audit.snapshot(endpoint, FIELDS))  # fmt: skip
    return endpoint, secret


def save_endpoint(actor, endpoint_id, *, url, event_types, description="", active=True):
    require_staff(actor, "admin", ADMINS)
    url, event_types = clean_url(url), clean_types(event_types)
    with db.atomic():
        endpoint = _get(endpoint_id)
        before = audit.snapshot(endpoint, FIELDS)
        endpoint.url, endpoint.event_types, endpoint.active = url, event_types, bool(active)
        endpoint.description = " ".join((description or "").split())[:200]
        endpoint.updated_at = now()
        endpoint.save()
        after = audit.snapshot(endpoint, FIELDS)
        if before != after:
            audit.record(actor, "webhook.changed", f"webhook:{endpoint.id}", before, after)
    return endpoint


def rotate_secret(actor, endpoint_id, overlap_seconds):
    """A new secret; the old one signs beside it for `overlap_seconds`. (endpoint, secret)."""
    require_staff(actor, "admin", ADMINS)
    secret = new_secret()
    with db.atomic():
        endpoint = _get(endpoint_id)
        at = now()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = at + datetime.timedelta(seconds=float(overlap_seconds))
        endpoint.secret, endpoint.updated_at = secret, at
        endpoint.save()
        audit.record(actor, "webhook.secret_rotated", f"webhook:{endpoint.id}",
                     after={"old_secret_signs_until": endpoint.previous_secret_until.isoformat(
                         timespec="seconds")})  # fmt: skip
    return endpoint, secret


# --- delivery ---------------------------------------------------------------------------------


def endpoint_for_delivery(endpoint_id):
    """The endpoint a message goes to, or None when it was deleted or deactivated."""
    return WebhookEndpoint.get_or_none(
        (WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.active == True)  # noqa: E712
    )


def signing_secrets(endpoint, at):
    """The secrets a delivery at `at` is signed with: the current one, and the previous one
    while its overlap lasts."""
    keys = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until
        and endpoint.previous_secret_until > at
    ):
        keys.append(endpoint.previous_secret)
    return keys


def older_in_flight(message):
    """Seconds to hold `message` back while an older event of its return is still pending
    (or being retried) for the same endpoint; None when it may go now."""
    endpoint_id = (message.payload or {}).get("endpoint_id")
    if not message.rma_id or endpoint_id is None:
        return None
    older = (
        OutboxMessage.select(OutboxMessage.available_at)
        .where(
            (OutboxMessage.kind == "webhook")
            & OutboxMessage.dedupe_key.startswith(dedupe_prefix(endpoint_id, message.rma_id))
            & (OutboxMessage.id < message.id)
            & (OutboxMessage.status == PENDING)
        )
        .order_by(OutboxMessage.id)
        .first()
    )
    if older is None:
        return None
    return max((older.available_at - now()).total_seconds(), 0.0) + 0.5


def record_attempt(endpoint_id, message_id, event_id, event_type, outcome, code, error, took_ms):
    return WebhookAttempt.create(endpoint=endpoint_id, message=message_id, event_id=event_id,
                                 event_type=event_type, outcome=outcome, response_code=code,
                                 error=(error or "")[:250], duration_ms=took_ms)  # fmt: skip


def redeliver(actor, endpoint_id, message_id):
    """Send an event again (same webhook-id: a receiver that has it can drop the copy): a fresh
    message; a failed original is superseded by it."""
    require_staff(actor, "admin", "Only admins can redeliver webhooks.")
    with db.atomic():
        endpoint = _get(endpoint_id)
        original = OutboxMessage.get_or_none(
            (OutboxMessage.id == message_id)
            & (OutboxMessage.kind == "webhook")
            & OutboxMessage.dedupe_key.startswith(f"webhook:{endpoint.id}:")
        )
        if original is None:
            raise NotFound("That delivery doesn't exist for this endpoint.")
        if original.status == PENDING:
            raise DomainError("That event is still on its way: it is retried on its own.")
        base = original.dedupe_key.split(":redeliver-")[0]
        tries = supersede_failed("webhook", base)
        message = enqueue("webhook", original.payload, f"{base}:redeliver-{tries}",
                          rma=original.rma_id)  # fmt: skip
        audit.record(
            actor,
            "webhook.redelivered",
            f"webhook:{endpoint.id}",
            after={"event_id": original.payload.get("event_id")},
        )
    return endpoint, message


# --- the endpoint's page (a read model) -------------------------------------------------------


@dataclass
class Delivery:
    message: OutboxMessage
    event_id: str
    event_type: str
    reference: str
    attempts: list  # [WebhookAttempt], oldest first


def deliveries(endpoint_id, limit=50):
    """The endpoint's latest events with each attempt made (three queries)."""
    endpoint = _get(endpoint_id)
    messages = list(
        OutboxMessage.select()
        .where(
            (OutboxMessage.kind == "webhook")
            & OutboxMessage.dedupe_key.startswith(f"webhook:{endpoint.id}:")
        )
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    tried = {}
    for attempt in (
        WebhookAttempt.select()
        .where(WebhookAttempt.message.in_([m.id for m in messages]))
        .order_by(WebhookAttempt.id)
    ):
        tried.setdefault(attempt.message_id, []).append(attempt)
    rows = []
    for m in messages:
        body = (m.payload or {}).get("payload") or {}
        reference = ((body.get("data") or {}).get("return") or {}).get("reference", "")
        rows.append(Delivery(m, m.payload.get("event_id", ""), m.payload.get("type", ""),
                             reference, tried.get(m.id, [])))  # fmt: skip
    return endpoint, rows

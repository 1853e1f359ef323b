"""Delivering a webhook message (the `webhook` handler): hold it back while an older event of
the same return is still on its way to the same endpoint, sign it as Standard Webhooks say
(the `standardwebhooks` library: webhook-id, webhook-timestamp, webhook-signature =
"v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>", one per secret, space-separated, while a
rotated secret's overlap lasts), POST it with a timeout, and log the attempt on its endpoint.

A 2xx answer delivers it. Anything else (another status, a redirect, a timeout, a refused
connection) is retried after the next delay of WEBHOOK_RETRY_SCHEDULE; after the last one the
message and its last attempt are `failed`, visible on the endpoint's page with "redeliver"."""

import datetime
import json
import time

import requests
from standardwebhooks.webhooks import Webhook

from portal.models import now
from portal.outbox.errors import GiveUp, RetryLater
from portal.returns import webhook_endpoints

USER_AGENT = "ReturnsPortal-Webhooks/1"


def body_of(payload):
    """The exact bytes sent (and signed): compact, keys sorted."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def signature(secrets, event_id, at, body):
    """The webhook-signature header: "v1,<sig>" per secret, space-separated."""
    return " ".join(Webhook(s).sign(event_id, at, body) for s in secrets)


def max_attempts(config):
    return len(config["WEBHOOK_RETRY_SCHEDULE"]) + 1


def deliver_webhook(message, config):
    payload = message.payload or {}
    endpoint = webhook_endpoints.endpoint_for_delivery(payload.get("endpoint_id"))
    if endpoint is None:
        raise GiveUp("the endpoint was deleted or deactivated")
    wait = webhook_endpoints.older_in_flight(message)
    if wait is not None:
        raise RetryLater("an older event of this return is still on its way to this endpoint",
                         delay=wait, counts=False)  # fmt: skip
    event_id, event_type = payload["event_id"], payload["type"]
    body = body_of(payload["payload"])
    at = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    secrets = webhook_endpoints.signing_secrets(endpoint, now())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(secrets, event_id, at, body),
    }
    started = time.monotonic()
    code, error = None, ""
    try:
        answer = requests.post(endpoint.url, data=body.encode(), headers=headers,
                               timeout=float(config["WEBHOOK_TIMEOUT"]),
                               allow_redirects=False)  # fmt: skip
        code = answer.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {answer.text[:200]}".strip()
        answer.close()
    except requests.Timeout:
        error = f"no answer within {config['WEBHOOK_TIMEOUT']} s"
    except requests.RequestException as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:300]
    took = int((time.monotonic() - started) * 1000)
    schedule = config["WEBHOOK_RETRY_SCHEDULE"]
    last = message.attempts > len(schedule)
    outcome = "delivered" if not error else ("failed" if last else "retry")
    webhook_endpoints.record_attempt(endpoint.id, message.id, event_id, event_type, outcome,
                                     code, error, took)  # fmt: skip
    if not error:
        return
    if last:
        raise GiveUp(f"{error} (after {message.attempts} attempts)")
    raise RetryLater(error, delay=float(schedule[message.attempts - 1]))

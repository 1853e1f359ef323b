"""Updates pushed to the portal by other systems: POST /webhooks/carrier, a carrier's status
update of a return parcel (in transit, delivered to the warehouse); POST /webhooks/stripe, the
payment gateway's events about refunds (portal.returns.gateway_events).

CSRF-exempt (no browser posts it) but signed as Standard Webhooks are (portal.carriers.signing:
HMAC-SHA256 over id.timestamp.body with CARRIER_WEBHOOK_SECRET, a timestamp within
CARRIER_WEBHOOK_TOLERANCE seconds). Each event id is applied once. Answers are JSON: 200
applied; 400 unreadable; 401 unsigned, badly signed or too old; 404 no return with that
tracking number; 409 a replay; 422 an unknown status. Anything but 200 changed nothing.

Stripe's events are verified with the official library (stripe.Webhook.construct_event, the
STRIPE_WEBHOOK_SECRET setting, STRIPE_WEBHOOK_TOLERANCE seconds): 400 for a bad signature or
an old timestamp (nothing changed, as Stripe expects); 200 for everything applied, already
applied (a replay), about a refund we don't know (logged), or not an event we act on."""

import json
import logging

from flask import Blueprint, current_app, jsonify, request

from portal.carriers.signing import BadSignature, verify
from portal.extensions import csrf
from portal.returns import gateway_events, shipping
from portal.returns.errors import Conflict, DomainError, NotFound

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def _answer(status, message, **extra):
    return jsonify({"ok": status == 200, "message": message, **extra}), status


@bp.route("/carrier", methods=["POST"])
@csrf.exempt
def carrier_update():
    body = request.get_data(cache=False)[: MAX_BODY + 1]
    if len(body) > MAX_BODY:
        return _answer(413, "The update is too large.")
    config = current_app.config
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        event_id = verify(config["CARRIER_WEBHOOK_SECRET"], headers, body,
                          tolerance=config["CARRIER_WEBHOOK_TOLERANCE"])  # fmt: skip
    except BadSignature as exc:
        log.warning("carrier update refused: %s", exc)
        return _answer(401, f"Refused: {exc}. Nothing changed.")
    try:
        update = json.loads(body)
        if not isinstance(update, dict):
            raise ValueError("not an object")
    except ValueError:
        return _answer(400, "The update is not a JSON object. Nothing changed.")
    try:
        rma = shipping.record_carrier_update(
            event_id, update.get("tracking_number"), update.get("status"), update,
        )  # fmt: skip
    except NotFound as exc:
        return _answer(404, f"{exc} Nothing changed.")
    except Conflict as exc:
        return _answer(409, str(exc))
    except DomainError as exc:
        return _answer(422, f"{exc} Nothing changed.")
    return _answer(200, "Applied.", reference=rma.reference)


@bp.route("/stripe", methods=["POST"])
@csrf.exempt
def stripe_event():
    body = request.get_data(cache=False)[: MAX_BODY + 1]
    if len(body) > MAX_BODY:
        return _answer(413, "The event is too large.")
    config = current_app.config
    secret = config.get("STRIPE_WEBHOOK_SECRET") or ""
    if not secret:
        log.warning("stripe event refused: STRIPE_WEBHOOK_SECRET is not set")
        return _answer(400, "Refused: no STRIPE_WEBHOOK_SECRET is set. Nothing changed.")
    import stripe  # ~20 MB: loaded by the first event, not by every web process

    try:
        event = stripe.Webhook.construct_event(
            body.decode("utf-8"), request.headers.get("Stripe-Signature", ""), secret,
            tolerance=int(config.get("STRIPE_WEBHOOK_TOLERANCE") or 300),
        )  # fmt: skip
    except stripe.SignatureVerificationError as exc:
        log.warning("stripe event refused: %s", exc)
        return _answer(400, f"Refused: {exc}. Nothing changed.")
    except (ValueError, UnicodeDecodeError):
        return _answer(400, "The event is not JSON. Nothing changed.")
    try:
        data = event["data"]["object"].to_dict()
        event_id, event_type = event["id"], event["type"]
    except (KeyError, AttributeError, TypeError):
        return _answer(400, "The event has no id, type or object. Nothing changed.")
    outcome = gateway_events.apply_stripe_event(event_id, event_type, data)
    return _answer(200, outcome)

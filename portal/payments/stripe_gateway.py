"""Refunds through Stripe with the official library. The refund's idempotency key goes in the
Idempotency-Key header, so Stripe moves the money once per key however often we ask.

Network errors, rate limits, 5xx answers and 409 (the same key still running) are transient
(retried later with the same key); card errors and invalid requests are permanent. The
library's own retries are off: the outbox retries with backoff and records every attempt.

Every refund carries the portal's refund id in its metadata (`refund_id`). Stripe forgets an
idempotency key after 24 hours: a retry past that window (`look_up`) first lists the payment's
refunds at Stripe and adopts the one made for this refund id, so the gateway never sees a
second one. A refund Stripe answers `pending` or `requires_action` is returned as pending
(GatewayRefund.status), never as a success: Stripe's refund.updated event completes it."""

import stripe

from portal.payments.base import (
    Gateway,
    GatewayRefund,
    PermanentGatewayError,
    TransientGatewayError,
)

TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError)
PERMANENT = (
    stripe.CardError,
    stripe.InvalidRequestError,
    stripe.AuthenticationError,
    stripe.PermissionError,
)
PENDING = ("pending", "requires_action")


class StripeGateway(Gateway):
    name = "stripe"

    def __init__(self, api_key, api_base=None, timeout=30):
        if not api_key:
            raise PermanentGatewayError("STRIPE_API_KEY is not set.")
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    def refund(self, payment, amount, currency, idempotency_key, *, order=None, method=None,
               refund_id=None, look_up=False):  # fmt: skip
        if payment is None:
            raise PermanentGatewayError("Stripe can only refund a Stripe payment.")
        if look_up and refund_id is not None:
            found = self.find(payment, refund_id)
            if found is not None:
                if found.amount != amount:
                    raise PermanentGatewayError(
                        f"Stripe refund {found.id} for refund {refund_id} is of {found.amount} "
                        f"cents, not {amount}: check it at Stripe."
                    )
                return _result(found, adopted=True)
        metadata = {"order_id": str(payment.order_id), "payment_id": str(payment.id)}
        if refund_id is not None:
            metadata["refund_id"] = str(refund_id)
        params = {"payment_intent": payment.reference, "amount": amount, "metadata": metadata}
        refund = _call(lambda: self.client.v1.refunds.create(
            params=params, options={"idempotency_key": idempotency_key}
        ))  # fmt: skip
        return _result(refund)

    def find(self, payment, refund_id):
        """The refund made at Stripe for the portal's `refund_id` on `payment`, or None."""
        page = _call(lambda: self.client.v1.refunds.list(
            params={"payment_intent": payment.reference, "limit": 100}
        ))  # fmt: skip
        for refund in page.auto_paging_iter():
            metadata = refund.metadata.to_dict() if refund.metadata else {}
            if metadata.get("refund_id") == str(refund_id):
                return refund
        return None


def _result(refund, adopted=False):
    if refund.status in ("failed", "canceled"):
        reason = getattr(refund, "failure_reason", None) or refund.status
        raise PermanentGatewayError(f"Stripe refund {refund.id} {refund.status}: {reason}")
    if refund.status in PENDING:
        reason = getattr(refund, "pending_reason", None) or ""
        if refund.status == "requires_action":
            action = getattr(refund, "next_action", None)
            reason = reason or getattr(action, "type", None) or "requires_action"
        return GatewayRefund(refund.id, "pending", refund.status, reason, adopted=adopted)
    return GatewayRefund(refund.id, "succeeded", refund.status, adopted=adopted)


def _call(request):
    try:
        return request()
    except stripe.IdempotencyError as exc:
        # 409: a request with this key is still running at Stripe: ask again later.
        # 400: the key was used with other parameters: a bug to look at, never a retry.
        if exc.http_status == 409:
            raise TransientGatewayError(
                f"Stripe is still busy with this key: {_text(exc)}"
            ) from exc
        raise PermanentGatewayError(f"Stripe refused the key: {_text(exc)}") from exc
    except TRANSIENT as exc:
        raise TransientGatewayError(f"Stripe unreachable or busy: {_text(exc)}") from exc
    except PERMANENT as exc:
        raise PermanentGatewayError(f"Stripe refused the refund: {_text(exc)}") from exc
    except stripe.StripeError as exc:  # APIError and anything unclassified
        status = exc.http_status or 0
        if status >= 500 or status in (0, 409):
            raise TransientGatewayError(f"Stripe error {status}: {_text(exc)}") from exc
        raise PermanentGatewayError(f"Stripe error {status}: {_text(exc)}") from exc


def _text(exc):
    return exc.user_message or str(exc) or exc.__class__.__name__

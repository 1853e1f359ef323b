"""Refunds through Stripe with the official library. The refund's idempotency key goes in the
Idempotency-Key header, so Stripe moves the money once per key however often we ask.

Network errors, rate limits, 5xx answers and 409 (the same key still running) are transient (retried later with the same key);
card errors and invalid requests are permanent. The library's own retries are off: the outbox
retries with backoff and records every attempt."""

import stripe

from portal.payments.base import Gateway, PermanentGatewayError, TransientGatewayError

TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError)
PERMANENT = (
    stripe.CardError,
    stripe.InvalidRequestError,
    stripe.AuthenticationError,
    stripe.PermissionError,
)


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

    def refund(self, payment, amount, currency, idempotency_key, *, order=None, method=None):
        if payment is None:
            raise PermanentGatewayError("Stripe can only refund a Stripe payment.")
        params = {
            "payment_intent": payment.reference,
            "amount": amount,
            "metadata": {"order_id": str(payment.order_id), "payment_id": str(payment.id)},
        }
        try:
            refund = self.client.v1.refunds.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
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
        if refund.status in ("failed", "canceled"):
            reason = getattr(refund, "failure_reason", None) or refund.status
            raise PermanentGatewayError(f"Stripe refund {refund.id} {refund.status}: {reason}")
        return refund.id


def _text(exc):
    return exc.user_message or str(exc) or exc.__class__.__name__

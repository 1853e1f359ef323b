"""The payment gateway interface: one call, refund(), and two kinds of error.

A gateway must be idempotent on `idempotency_key`: a second call with a key it has seen returns
the first call's reference and moves no money (rule 4). The refund worker relies on this when a
task is delivered twice or a worker dies after the gateway answered."""


class GatewayError(Exception):
    """The gateway did not refund. str(error) says why, for staff."""


class TransientGatewayError(GatewayError):
    """Try again later with the same idempotency key (network, rate limit, 5xx)."""


class PermanentGatewayError(GatewayError):
    """Retrying can't help (card closed, invalid request, more than was captured)."""


class GatewayRefund(str):
    """The gateway's reference for a refund (it is the reference, a str), with what the gateway
    said of it: `status` "succeeded", or "pending" while the gateway still works on it (Stripe:
    pending, requires_action), `gateway_status` in the gateway's own word, `reason` (why it is
    pending), and `adopted` when it was found at the gateway rather than created now."""

    def __new__(cls, reference, status="succeeded", gateway_status=None, reason="",
                adopted=False):  # fmt: skip
        made = super().__new__(cls, reference)
        made.status = status
        made.gateway_status = gateway_status or status
        made.reason = reason or ""
        made.adopted = adopted
        return made


class Gateway:
    name = "gateway"

    def refund(self, payment, amount, currency, idempotency_key, *, order=None, method=None,
               refund_id=None, look_up=False):  # fmt: skip
        """Refund `amount` cents of `payment` (None for store credit: then `order` and `method`
        say what it is for). Returns the gateway's reference for the refund (a str, or a
        GatewayRefund saying more). `refund_id` is the portal's refund; `look_up` asks the
        gateway to find a refund made for it before creating one (the idempotency key may
        have been forgotten)."""
        raise NotImplementedError

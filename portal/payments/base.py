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


class Gateway:
    name = "gateway"

    def refund(self, payment, amount, currency, idempotency_key, *, order=None, method=None):
        """Refund `amount` cents of `payment` (None for store credit: then `order` and `method`
        say what it is for). Returns the gateway's reference for the refund."""
        raise NotImplementedError

"""Payment gateways behind one interface (portal.payments.base.Gateway), chosen per payment.

Payment.gateway names the gateway that took the money (`ledger` or `stripe`); an empty value
falls back to the PAYMENT_GATEWAY setting. Store credit always goes through the built-in ledger.
Other gateways can be added with register(name, factory), factory(config) -> Gateway."""

from portal.payments.base import (
    Gateway,
    GatewayError,
    GatewayRefund,
    PermanentGatewayError,
    TransientGatewayError,
)


def _ledger(config):
    from portal.payments.ledger import LedgerGateway

    return LedgerGateway()


_stripe_gateways = {}


def _stripe(config):
    """One StripeGateway per process and settings, shared by the worker's threads: building a
    StripeClient per refund cost CPU, and its HTTP client keeps a session per thread, so each
    thread's connection to Stripe stays open between refunds (keep-alive) instead of a new
    TCP (and TLS) connection per call."""
    from portal.payments.stripe_gateway import StripeGateway

    settings = (config.get("STRIPE_API_KEY", ""), config.get("STRIPE_API_BASE") or None,
                float(config.get("STRIPE_TIMEOUT") or 30))  # fmt: skip
    gateway = _stripe_gateways.get(settings)
    if gateway is None:
        api_key, api_base, timeout = settings
        gateway = StripeGateway(api_key, api_base=api_base, timeout=timeout)
        _stripe_gateways[settings] = gateway
    return gateway


FACTORIES = {"ledger": _ledger, "stripe": _stripe}


def register(name, factory):
    FACTORIES[name] = factory


def gateway_name(payment, config):
    if payment is None:
        return "ledger"
    return payment.gateway or config.get("PAYMENT_GATEWAY") or "ledger"


# Gateways that are ours (no provider's rate limit to respect).
UNLIMITED = {"ledger"}


def gateway_for(payment, config):
    """The gateway that refunds `payment` (None: store credit). A provider's gateway is held to
    GATEWAY_RATE_LIMIT calls per second per account, arriving at most GATEWAY_RATE_JITTER
    after their slot (portal.payments.rate_limit)."""
    name = gateway_name(payment, config)
    factory = FACTORIES.get(name)
    if factory is None:
        raise PermanentGatewayError(f"Unknown payment gateway {name!r}.")
    gateway = factory(config)
    rate = float(config.get("GATEWAY_RATE_LIMIT") or 0)
    if rate <= 0 or name in UNLIMITED:
        return gateway
    from portal.payments.rate_limit import JITTER, RateLimited, account_key

    key = account_key(name, config.get(f"{name.upper()}_API_KEY", ""))
    jitter = config.get("GATEWAY_RATE_JITTER")
    jitter = JITTER if jitter is None else float(jitter)
    return RateLimited(gateway, key, rate, config.get("REDIS_URL"), jitter=jitter)


__all__ = [
    "FACTORIES",
    "Gateway",
    "GatewayError",
    "GatewayRefund",
    "PermanentGatewayError",
    "TransientGatewayError",
    "gateway_for",
    "gateway_name",
    "register",
]

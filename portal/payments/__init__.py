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


def _stripe(config):
    from portal.payments.stripe_gateway import StripeGateway

    return StripeGateway(
        config.get("STRIPE_API_KEY", ""),
        api_base=config.get("STRIPE_API_BASE") or None,
        timeout=float(config.get("STRIPE_TIMEOUT") or 30),
    )


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
    GATEWAY_RATE_LIMIT calls per second per account (portal.payments.rate_limit)."""
    name = gateway_name(payment, config)
    factory = FACTORIES.get(name)
    if factory is None:
        raise PermanentGatewayError(f"Unknown payment gateway {name!r}.")
    gateway = factory(config)
    rate = float(config.get("GATEWAY_RATE_LIMIT") or 0)
    if rate <= 0 or name in UNLIMITED:
        return gateway
    from portal.payments.rate_limit import RateLimited, account_key

    key = account_key(name, config.get(f"{name.upper()}_API_KEY", ""))
    return RateLimited(gateway, key, rate, config.get("REDIS_URL"))


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

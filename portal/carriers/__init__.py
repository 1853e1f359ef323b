"""Carriers behind one interface (portal.carriers.base.Carrier), like the payment gateways: the
built-in carrier makes its own label offline (the default), `http` calls an EasyPost/Shippo-style
label API. The CARRIER setting names the one in use; register(name, factory) adds others,
factory(config) -> Carrier."""

from portal.carriers.base import (
    Carrier,
    CarrierError,
    Label,
    PermanentCarrierError,
    Shipment,
    TransientCarrierError,
)


def _builtin(config):
    from portal.carriers.builtin import BuiltinCarrier

    return BuiltinCarrier()


def _http(config):
    from portal.carriers.http_api import HttpLabelCarrier

    return HttpLabelCarrier(config.get("CARRIER_API_BASE", ""), config.get("CARRIER_API_KEY", ""),
                            timeout=float(config.get("CARRIER_TIMEOUT") or 30))  # fmt: skip


FACTORIES = {"builtin": _builtin, "http": _http}


def register(name, factory):
    FACTORIES[name] = factory


def carrier_for(config):
    name = config.get("CARRIER") or "builtin"
    factory = FACTORIES.get(name)
    if factory is None:
        raise PermanentCarrierError(f"Unknown carrier {name!r} (CARRIER setting).")
    return factory(config)


__all__ = [
    "FACTORIES",
    "Carrier",
    "CarrierError",
    "Label",
    "PermanentCarrierError",
    "Shipment",
    "TransientCarrierError",
    "carrier_for",
    "register",
]

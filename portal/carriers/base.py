"""The carrier interface: one call, create_return_shipment(), and two kinds of error.

A carrier must be idempotent on the shipment's `idempotency_key`: asking twice for the same
return's label gives the same label (the worker asks again after a crash or a lost answer)."""

from dataclasses import dataclass, field


class CarrierError(Exception):
    """The carrier made no label. str(error) says why, for staff."""


class TransientCarrierError(CarrierError):
    """Try again later (network, rate limit, 5xx)."""


class PermanentCarrierError(CarrierError):
    """Retrying can't help (bad address, refused credentials, unknown carrier)."""


@dataclass(frozen=True)
class Shipment:
    reference: str
    idempotency_key: str
    sender: list  # address lines (the shopper's)
    sender_country: str
    recipient: list  # address lines (the store's return address)
    lines: list = field(default_factory=list)  # [(sku, title, quantity)]
    method: str = ""
    size: str = "a4"


@dataclass(frozen=True)
class Label:
    carrier: str  # the carrier's name as shown to people
    tracking_number: str
    pdf: bytes


class Carrier:
    name = "carrier"

    def create_return_shipment(self, shipment):
        """Make the return shipment and its label. Returns a Label."""
        raise NotImplementedError

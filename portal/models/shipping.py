"""The store's return shipping methods (issue 14). The labels made for returns and the carriers'
status updates are in portal.models.labels."""

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateTimeField,
    IntegerField,
)

from portal.db import BaseModel
from portal.models.accounts import now
from portal.models.orders import check

METHOD_KINDS = ("prepaid_label", "qr_dropoff", "ship_yourself")


class ReturnShippingMethod(BaseModel):
    """How a shopper sends a parcel back: a prepaid label, a QR code shown at a drop-off point,
    or shipping it themselves to the return address. Its price is charged to the shopper (taken
    from the refund), unless it is free for merchant-fault reasons and a line is one."""

    name = CharField(max_length=80)
    price = IntegerField(default=0, constraints=check("price >= 0"))  # cents
    free_for_merchant_fault = BooleanField(default=True)
    countries = CharField(default="")  # ISO 3166 alpha-2 codes, space-separated; "" = all
    kind = CharField(
        constraints=[SQL("CHECK (kind IN ('prepaid_label', 'qr_dropoff', 'ship_yourself'))")]
    )
    active = BooleanField(default=True)
    position = IntegerField(default=0)
    created_at = DateTimeField(default=now)

    @property
    def country_list(self):
        return self.countries.split()

    def serves(self, country):
        """Whether a parcel from `country` (ISO alpha-2, "" when unknown) can use this method."""
        codes = self.country_list
        return not codes or (bool(country) and country.upper() in codes)

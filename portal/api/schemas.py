"""The API's request and response bodies as pydantic v2 models: they validate what comes in
(unknown fields refused: extra="forbid") and describe what goes out; the OpenAPI document is
generated from them (portal/api/spec.py). The rules themselves stay in the domain and the
importer: these models only check shapes and types."""

import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_INT = 2_147_483_647  # 32-bit INTEGER columns on PostgreSQL
Cents = Field(ge=0, le=MAX_INT, description="Integer cents")
Text = Field(min_length=1, max_length=255)
Version = Field(
    default=None,
    ge=0,
    le=MAX_INT,
    description="The return's version this change is based on (or send If-Match); a 409 when "
    "the return moved on since.",
)


def _utc(value):
    """The portal keeps naive UTC times: answered as RFC 3339 with a zone (Z)."""
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


Time = Annotated[datetime.datetime, AfterValidator(_utc)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- problems -----------------------------------------------------------------------------------


class FieldError(Out):
    field: str
    message: str


class Problem(Out):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


# --- orders -------------------------------------------------------------------------------------


class ComponentIn(In):
    sku: str = Text
    title: str = Text
    quantity: int = Field(ge=1, le=10_000, description="Units per bundle")
    unit_price: int = Cents
    unit_tax: int = Field(default=0, ge=0, le=MAX_INT)
    final_sale: bool = False
    category: str = Field(default="", max_length=255)
    variant: dict[str, str] = Field(default_factory=dict, max_length=20)
    invoice: str | None = Field(default=None, max_length=255)
    variant_sku: str | None = Field(default=None, max_length=255)


class OrderLineIn(ComponentIn):
    quantity: int = Field(ge=1, le=10_000)
    components: list[ComponentIn] | None = Field(default=None, min_length=1, max_length=50)


class PaymentIn(In):
    method: Literal["card", "gift_card", "store_credit", "paypal", "bank_transfer"]
    gateway: str = Field(default="ledger", max_length=50)
    reference: str = Text
    amount: int = Field(ge=1, le=MAX_INT)


class InvoiceIn(In):
    number: str = Text
    kind: Literal["sale"] = "sale"
    issued_at: datetime.datetime | None = None


class AddressIn(In):
    name: str = Field(default="", max_length=255)
    lines: list[str] = Field(default_factory=list, max_length=5)
    city: str = Field(default="", max_length=255)
    postcode: str = Field(default="", max_length=255)
    country: str = Field(default="", max_length=2)


class OrderIn(In):
    """An order as the shop has it now (PUT creates it or replaces what the portal holds)."""

    email: str = Field(min_length=3, max_length=254)
    currency: str = Field(min_length=3, max_length=3)
    status: Literal["placed", "shipped", "delivered", "cancelled"] = "placed"
    placed_at: datetime.datetime
    delivered_at: datetime.datetime | None = None
    shipping_total: int = Field(default=0, ge=0, le=MAX_INT)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    payments: list[PaymentIn] = Field(default_factory=list, max_length=20)
    invoices: list[InvoiceIn] = Field(default_factory=list, max_length=20)
    shipping_address: AddressIn | None = None


class OrderLineOut(Out):
    id: int
    sku: str
    title: str
    quantity: int
    unit_price: int
    unit_tax: int
    final_sale: bool
    bundle_id: int | None
    invoice: str | None
    returned: int = Field(description="Units received back by returns")
    in_returns: int = Field(description="Units requested in open returns, not received yet")
    returnable: int = Field(description="Units that can be returned now")
    eligible: bool
    reason: str | None = Field(description="Why nothing can be returned (a code), or null")
    reason_text: str
    last_day: datetime.date | None = Field(description="Last day of the return window")


class PaymentOut(Out):
    id: int
    method: str
    gateway: str
    reference: str
    amount: int


class InvoiceOut(Out):
    number: str
    kind: str


class OrderOut(Out):
    number: str
    email: str
    currency: str
    status: str
    placed_at: Time
    delivered_at: Time | None
    shipping_total: int
    version: int
    lines: list[OrderLineOut]
    payments: list[PaymentOut]
    invoices: list[InvoiceOut]
    returns: list[str] = Field(description="References of the order's returns")


# --- returns ------------------------------------------------------------------------------------

STATUSES = Literal[
    "requested", "approved", "partially_received", "received", "completed", "rejected",
    "cancelled", "on_hold",
]  # fmt: skip


class ActionOut(Out):
    name: str = Field(
        description="The API call (approve, receive, ...) or, with no path, the staff page's action"
    )
    step: str = Field(description="The next action as the staff page names it (review, ...)")
    line_ids: list[int] = Field(description="The return lines it applies to")
    method: Literal["POST"] | None
    path: str | None = Field(description="Where to POST it in this API (null: staff pages only)")


class ReturnLineOut(Out):
    id: int
    order_line_id: int
    sku: str
    title: str
    reason: str
    requested: int
    received: int
    damaged: int
    restocked: int
    refunded: int = Field(description="Units covered by refunds")
    inspection: str


class RefundOut(Out):
    id: int
    amount: int
    currency: str
    method: str
    status: str = Field(
        description="awaiting_approval, pending, processing, at_gateway, succeeded, "
        "failed or cancelled"
    )
    last_error: str
    gateway_status: str = Field(
        description="What the gateway last said (Stripe: pending, "
        "requires_action, succeeded, failed, ...); empty before it"
    )
    gateway_reason: str = Field(description="The gateway's reason for a pending or failed refund")
    created_at: Time


class EventOut(Out):
    kind: str
    at: Time
    actor: str | None
    internal: bool
    payload: dict[str, Any]


class ReturnOut(Out):
    reference: str
    status: str
    version: int
    kind: str
    resolution: str
    order: str
    email: str
    created_at: Time
    updated_at: Time
    estimated_refund: int | None
    lines: list[ReturnLineOut]
    refunds: list[RefundOut]
    timeline: list[EventOut]
    actions: list[ActionOut]
    finish_blocker: str | None


class ReturnSummary(Out):
    id: int
    reference: str
    status: str
    version: int
    order: str
    email: str
    created_at: Time
    updated_at: Time


class ReturnPage(Out):
    items: list[ReturnSummary]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next page; null: last")


class ReturnQuery(In):
    status: STATUSES | None = None
    order: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=254)
    updated_since: datetime.datetime | None = None
    cursor: int | None = Field(default=None, ge=0, le=MAX_INT)
    limit: int = Field(default=20, ge=1, le=100)


class RequestedLineIn(In):
    order_line_id: int = Field(ge=1, le=MAX_INT)
    quantity: int = Field(ge=1, le=10_000)
    reason: str = Field(min_length=1, max_length=100, description="A return reason's code")
    note: str = Field(default="", max_length=1000)


class ReturnIn(In):
    order: str = Text
    lines: list[RequestedLineIn] = Field(min_length=1, max_length=200)
    resolution: Literal["refund", "store_credit"] = "refund"
    note: str = Field(default="", max_length=2000)
    on_behalf_of: Literal["shopper", "staff"] = Field(
        default="staff",
        description="shopper: the shopper's own request (the shop's storefront sends it; the "
        "shopper's rules, auto-approval); staff: staff create it for the shopper",
    )


class VersionIn(In):
    version: int | None = Version


class RejectIn(VersionIn):
    reason: str = Field(min_length=1, max_length=2000)


class CancelIn(VersionIn):
    reason: str = Field(default="", max_length=2000)


class HoldIn(VersionIn):
    note: str = Field(default="", max_length=2000)


class ReceiptIn(In):
    line_id: int = Field(ge=1, le=MAX_INT)
    received: int = Field(default=0, ge=0, le=10_000)
    damaged: int = Field(default=0, ge=0, le=10_000)
    missing: int = Field(default=0, ge=0, le=10_000)
    wrong_item: int = Field(default=0, ge=0, le=10_000)
    note: str = Field(default="", max_length=2000)


class ReceiveIn(VersionIn):
    lines: list[ReceiptIn] = Field(min_length=1, max_length=200)
    accept_on_receipt: bool = True


class DecisionIn(In):
    line_id: int = Field(ge=1, le=MAX_INT)
    decision: Literal["accepted", "rejected"]
    note: str = Field(default="", max_length=2000)


class InspectIn(VersionIn):
    lines: list[DecisionIn] = Field(min_length=1, max_length=200)


class RestockItemIn(In):
    line_id: int = Field(ge=1, le=MAX_INT)
    quantity: int = Field(default=0, ge=0, le=10_000)
    quarantine: int = Field(default=0, ge=0, le=10_000)


class RestockIn(VersionIn):
    lines: list[RestockItemIn] = Field(min_length=1, max_length=200)
    location: str | None = Field(default=None, max_length=100,
                                 description="A sellable location's code (default: the store's)")  # fmt: skip
    quarantine_location: str | None = Field(default=None, max_length=100)


class OverrideIn(In):
    line_id: int = Field(ge=1, le=MAX_INT)
    amount: int = Cents
    note: str = Field(min_length=1, max_length=500)


class RefundIn(VersionIn):
    refund_shipping: bool | None = Field(
        default=None, description="Refund the original shipping (null: the store's rule)"
    )
    additional: int = Field(default=0, ge=-MAX_INT, le=MAX_INT)
    additional_note: str = Field(default="", max_length=500)
    store_credit: bool = False
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=200)


class EmailIn(VersionIn):
    subject: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=5000)

"""Returns (RMAs), their lines, photos, reasons, the store's policy and the timeline."""

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal.db import BaseModel, JSONField
from portal.models.accounts import User, now
from portal.models.inventory import InventoryLocation
from portal.models.orders import Order, OrderLine, check
from portal.models.shipping import ReturnShippingMethod


class ReturnReason(BaseModel):
    code = CharField(unique=True)
    label = CharField()
    label_de = CharField(default="")  # the German label; empty: the English one is shown
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="CASCADE")
    merchant_fault = BooleanField(default=False)  # defective, wrong item, arrived damaged
    requires_note = BooleanField(default=False)
    requires_photo = BooleanField(default=False)
    # A claim for this reason keeps the item (missing, or not worth sending back): no parcel.
    keep_item = BooleanField(default=False)
    active = BooleanField(default=True)
    position = IntegerField(default=0)


class ReturnPolicy(BaseModel):
    """The store's return settings: one row (id 1)."""

    returns_enabled = BooleanField(default=True)
    window_days = IntegerField(default=30, constraints=check("window_days >= 0"))
    # Restocking fee for shopper-choice reasons, in basis points (1000 = 10%).
    restocking_fee_bps = IntegerField(
        default=0, constraints=check("restocking_fee_bps BETWEEN 0 AND 10000")
    )
    return_shipping_fee = IntegerField(default=0, constraints=check("return_shipping_fee >= 0"))
    # never | always | merchant_fault | under_amount (estimated refund <= auto_approve_max)
    auto_approve = CharField(default="never")
    auto_approve_max = IntegerField(default=0)
    reference_pattern = CharField(default="RMA-{year}-{seq:05d}")
    require_responsible = BooleanField(default=False)
    allow_edit_completed = BooleanField(default=False)
    refund_approval_threshold = IntegerField(default=0)  # 0: no second approval needed
    # An additional value above this (cents) waits for a second manager; None: the order's
    # original shipping total.
    additional_approval_limit = IntegerField(
        null=True, constraints=check("additional_approval_limit >= 0")
    )
    require_return_invoice = BooleanField(default=False)
    expire_unshipped_days = IntegerField(default=30)  # approved but never received; 0: never
    return_address = TextField(default="Returns Department\n1 Warehouse Road\nSpringfield")
    # The store's time zone (a tz database name): the return window counts days in it.
    timezone = CharField(default="UTC")
    # Off: the store keeps no stock here, so restocking is never a next action.
    inventory_tracking = BooleanField(default=True)
    default_location = ForeignKeyField(InventoryLocation, null=True, on_delete="SET NULL",
                                       backref="default_for")  # fmt: skip
    default_quarantine_location = ForeignKeyField(
        InventoryLocation, null=True, on_delete="SET NULL", backref="quarantine_default_for"
    )
    # Returns staff create for a shopper start approved (else requested, like a shopper's).
    staff_returns_approved = BooleanField(default=True)
    # Exchanges (another variant instead of a refund) and claims (issue 13).
    exchanges_enabled = BooleanField(default=True)
    exchange_any_product = BooleanField(default=False)  # "shop the catalogue"
    exchange_bonus = IntegerField(default=0, constraints=check("exchange_bonus >= 0"))
    exchange_absorb_up_to = IntegerField(default=0, constraints=check("exchange_absorb_up_to >= 0"))
    exchange_stock_buffer = IntegerField(default=0, constraints=check("exchange_stock_buffer >= 0"))
    exchange_restocking_fee = BooleanField(default=False)
    exchange_return_shipping = BooleanField(default=False)
    exchange_ship_early = BooleanField(default=False)  # ship before the item is back
    claim_keep_item_below = IntegerField(default=0, constraints=check("claim_keep_item_below >= 0"))
    # The EU withdrawal function (Directive 2023/2673, portal.returns.withdrawal): its period in
    # days from delivery, independent of the return window; the standard delivery cost refunded
    # at most (None: the shipping the order paid); whether the shopper bears the cost of sending
    # the goods back, and how much; the goods excluded by law (SKUs and categories, one a line).
    withdrawal_days = IntegerField(default=14, constraints=check("withdrawal_days >= 14"))
    withdrawal_standard_delivery = IntegerField(
        null=True, constraints=check("withdrawal_standard_delivery >= 0")
    )
    withdrawal_shopper_pays_return = BooleanField(default=False)
    withdrawal_return_cost = IntegerField(
        default=0, constraints=check("withdrawal_return_cost >= 0")
    )
    withdrawal_excluded_skus = TextField(default="")
    withdrawal_excluded_categories = TextField(default="")
    updated_at = DateTimeField(default=now)

    @classmethod
    def current(cls):
        """The policy row, created with the defaults on first use (by whichever of two racing
        requests gets there first: the other reads it)."""
        policy = cls.get_or_none(cls.id == 1)
        if policy is None:
            cls.insert(id=1).on_conflict_ignore().execute()
            policy = cls.get(cls.id == 1)
        return policy


class Return(BaseModel):
    reference = CharField(unique=True)
    order = ForeignKeyField(Order, backref="returns", on_delete="CASCADE")
    requested_by = ForeignKeyField(User, null=True, backref="returns", on_delete="SET NULL")
    email = CharField(index=True)
    status = CharField()  # its life: portal.returns.states; indexed with created_at (Meta)
    held_from = CharField(null=True)  # the state an on_hold return resumes to
    resolution = CharField(
        default="refund", constraints=check("resolution IN ('refund', 'store_credit', 'exchange')")
    )
    responsible = ForeignKeyField(User, null=True, backref="responsible_for", on_delete="SET NULL")
    shopper_note = TextField(default="")
    rejection_reason = TextField(default="")
    created_at = DateTimeField(default=now, index=True)
    updated_at = DateTimeField(default=now)
    approved_at = DateTimeField(null=True)
    completed_at = DateTimeField(null=True)
    target_date = DateField(null=True)
    # Policy snapshot taken at request time: later policy changes never change this return's money.
    currency = CharField(max_length=3)
    policy_window_days = IntegerField()
    policy_restocking_fee_bps = IntegerField()
    policy_return_shipping_fee = IntegerField()
    return_invoice_number = CharField(null=True, unique=True)
    # The refund estimated when it was requested (every unit back as described): the queue
    # shows it until the refund itself exists.
    estimated_refund = IntegerField(null=True)
    version = IntegerField(default=1)
    # How the parcel comes back (issue 14): the method chosen, snapshot with its price (in
    # policy_return_shipping_fee) and whether it is free for merchant-fault reasons; the
    # carrier and tracking number from its label, or typed in by the shopper.
    shipping_method = ForeignKeyField(ReturnShippingMethod, null=True, on_delete="SET NULL")
    shipping_method_name = CharField(default="")
    shipping_method_kind = CharField(default="")  # "" (none chosen) or a METHOD_KINDS value
    policy_return_shipping_free_merchant_fault = BooleanField(default=True)
    carrier = CharField(default="")
    tracking_number = CharField(default="", index=True)
    # A claim (a problem on the store's side) or a return; exchange terms snapshot.
    kind = CharField(
        default="return", constraints=check("kind IN ('return', 'claim', 'withdrawal')")
    )
    # A withdrawal's original delivery cost to refund (its share when only part of the order
    # is withdrawn), snapshot at request.
    withdrawal_shipping = IntegerField(default=0, constraints=check("withdrawal_shipping >= 0"))
    policy_exchange_restocking_fee = BooleanField(default=False)
    policy_exchange_return_shipping = BooleanField(default=False)
    ship_early = BooleanField(default=False)
    # The language the return was asked for in ("en", "de"; None before migration 0017): the
    # shopper's emails use it when their address has no account (a guest).
    locale = CharField(null=True)

    class Meta:
        # The queue lists one status newest first and counts returns per status; both read
        # this index alone at any size (docs/performance.md). Claims have a tab of their own.
        indexes = (
            (("status", "created_at"), False),
            (("kind", "status", "created_at"), False),
        )


class ReturnLine(BaseModel):
    rma = ForeignKeyField(Return, backref="lines", on_delete="CASCADE")
    order_line = ForeignKeyField(OrderLine, backref="return_lines", on_delete="CASCADE")
    quantity = IntegerField(constraints=check("quantity > 0"))  # requested
    reason = ForeignKeyField(ReturnReason, on_delete="RESTRICT")
    note = TextField(default="")
    received_quantity = IntegerField(default=0)
    damaged_quantity = IntegerField(default=0)
    missing_quantity = IntegerField(default=0, constraints=check("missing_quantity >= 0"))
    wrong_item_quantity = IntegerField(default=0, constraints=check("wrong_item_quantity >= 0"))
    restocked_quantity = IntegerField(default=0)
    quarantined_quantity = IntegerField(default=0, constraints=check("quarantined_quantity >= 0"))
    inspection = CharField(
        default="pending", constraints=check("inspection IN ('pending', 'accepted', 'rejected')")
    )
    inspection_note = TextField(default="")
    refund_amount = IntegerField(null=True)  # set when a refund is prepared
    override_note = TextField(default="")
    # A claim's line whose goods stay with the shopper: counted received at approval, for
    # settlement only (nothing arrives, nothing is restocked).
    kept = BooleanField(default=False)

    class Meta:
        indexes = ((("rma", "order_line"), True),)
        constraints = [
            SQL("CHECK (damaged_quantity >= 0)"),
            SQL("CHECK (damaged_quantity <= received_quantity)"),
            SQL("CHECK (received_quantity <= quantity)"),
            SQL("CHECK (restocked_quantity >= 0)"),
            SQL("CHECK (restocked_quantity <= received_quantity - damaged_quantity)"),
        ]


class ReturnExtraLine(BaseModel):
    """A non-stock line staff add to a return (InvenTree's extra line items): a repair fee
    charged (negative), a goodwill credit or a return-label cost refunded (positive). It enters
    the next refund as its own breakdown row."""

    rma = ForeignKeyField(Return, backref="extra_lines", on_delete="CASCADE")
    description = CharField(max_length=200)
    amount = IntegerField(constraints=check("amount <> 0"))  # signed cents: + to the shopper
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=now)
    refund_batch = CharField(null=True, index=True)  # the refund that settled it


class ReturnPhoto(BaseModel):
    line = ForeignKeyField(ReturnLine, backref="photos", on_delete="CASCADE")
    stored_name = CharField(unique=True)  # random; files live outside static/
    content_type = CharField()
    size = IntegerField()
    created_at = DateTimeField(default=now)


class DraftPhoto(BaseModel):
    """A photo chosen on a return request that came back with an error (or was reviewed): kept
    under the form's random draft token, so the shopper needn't choose it again. The request
    takes it over (as a ReturnPhoto with the same file) when it is submitted."""

    token = CharField(index=True)
    order_line = ForeignKeyField(OrderLine, on_delete="CASCADE")
    stored_name = CharField(unique=True)
    content_type = CharField()
    size = IntegerField()
    original_name = CharField(default="")
    created_at = DateTimeField(default=now, index=True)


class ReturnEvent(BaseModel):
    """The timeline and audit log. Every state change writes one, in the same transaction."""

    rma = ForeignKeyField(Return, backref="events", on_delete="CASCADE")
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")  # None: the system
    kind = CharField()
    payload = JSONField(default=dict)
    internal = BooleanField(default=False)  # staff-only (internal notes)
    created_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("rma", "created_at"), False),)


class ReturnStatusCount(BaseModel):
    """How many returns are in each status. Database triggers on `return` (migration 0004) keep
    it exact in the writing transaction, so the queue's tabs read a few rows instead of
    counting every return. No code writes it."""

    status = CharField(primary_key=True)
    count = IntegerField(default=0)


class Counter(BaseModel):
    """Named sequences (e.g. RMA reference numbers per year), incremented under a write lock."""

    name = CharField(unique=True)
    value = IntegerField(default=0)

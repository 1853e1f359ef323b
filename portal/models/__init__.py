"""Every Peewee table of the portal. ALL_MODELS is the schema the migrations must produce."""

from portal.models.accounts import ROLE_RANK, ROLES, User, now
from portal.models.api import ApiKey, IdempotentRequest
from portal.models.audit import AuditEntry
from portal.models.cache import CacheGeneration
from portal.models.catalogue import Product, Variant
from portal.models.exchanges import ExchangeOrder, ExchangeOrderLine, Replacement
from portal.models.inventory import InventoryLocation, StockLevel, StockMovement
from portal.models.labels import CalendarToken, CarrierEvent, ReturnLabel
from portal.models.orders import Invoice, Order, OrderLine, Payment
from portal.models.outbox import OutboxMessage
from portal.models.refunds import LedgerTransaction, Refund, StoreCredit
from portal.models.returns import (
    Counter,
    DraftPhoto,
    Return,
    ReturnEvent,
    ReturnExtraLine,
    ReturnLine,
    ReturnPhoto,
    ReturnPolicy,
    ReturnReason,
    ReturnStatusCount,
)
from portal.models.security import AccountToken, RecoveryCode, RememberToken
from portal.models.shipping import METHOD_KINDS, ReturnShippingMethod
from portal.models.store import StoreLook
from portal.models.webhooks import GatewayEvent, WebhookAttempt, WebhookEndpoint

ALL_MODELS = [
    User,
    Product,
    Variant,
    Order,
    OrderLine,
    Payment,
    Invoice,
    InventoryLocation,
    StockLevel,
    StockMovement,
    ReturnReason,
    ReturnPolicy,
    Return,
    ReturnLine,
    ReturnExtraLine,
    ReturnPhoto,
    DraftPhoto,
    ReturnEvent,
    ReturnStatusCount,
    Counter,
    Refund,
    StoreCredit,
    LedgerTransaction,
    OutboxMessage,
    AuditEntry,
    ReturnShippingMethod,
    ReturnLabel,
    CarrierEvent,
    CalendarToken,
    Replacement,
    ExchangeOrder,
    ExchangeOrderLine,
    AccountToken,
    RecoveryCode,
    RememberToken,
    StoreLook,
    WebhookEndpoint,
    WebhookAttempt,
    GatewayEvent,
    ApiKey,
    IdempotentRequest,
    CacheGeneration,
]

__all__ = [m.__name__ for m in ALL_MODELS] + [
    "ALL_MODELS",
    "METHOD_KINDS",
    "ROLES",
    "ROLE_RANK",
    "now",
]

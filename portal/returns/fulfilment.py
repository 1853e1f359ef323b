"""What the fulfilment list shows (staff): exchange orders by status, oldest first, each with
its return, order, items and the stock of its SKUs per sellable location. A fixed number of
queries whatever the number of rows."""

from peewee import fn

from portal.models import ExchangeOrder, InventoryLocation, Order, Return, StockLevel
from portal.pagination import Page
from portal.returns import exchange_states, exchanges

TABS = (
    (exchange_states.READY, "To ship"),
    (exchange_states.AWAITING_PAYMENT, "Awaiting payment"),
    (exchange_states.SHIPPED, "Shipped"),
    (exchange_states.DELIVERED, "Delivered"),
    (exchange_states.CANCELLED, "Cancelled"),
)
TAB_NAMES = {name for name, _ in TABS}


def counts():
    """{status: exchange orders in it} (one query)."""
    found = dict(
        ExchangeOrder.select(ExchangeOrder.status, fn.COUNT(ExchangeOrder.id))
        .group_by(ExchangeOrder.status)
        .tuples()
    )
    return {name: found.get(name, 0) for name, _ in TABS}


def page_of(status, number, per_page, total=None):
    """One page of exchange orders in `status` (to ship and awaiting payment: oldest first;
    the others newest first), each with `.rma` (and its order), `.items` and `.stock`
    ({sku: [(location, units)]})."""
    if status not in TAB_NAMES:
        status = exchange_states.READY
    base = ExchangeOrder.select().where(ExchangeOrder.status == status)
    total = base.count() if total is None else total
    pages = max(1, -(-total // per_page))
    number = min(max(number, 1), pages)
    oldest_first = status in exchange_states.OPEN
    order_by = (ExchangeOrder.created_at.asc() if oldest_first else ExchangeOrder.created_at.desc(),
                ExchangeOrder.id.asc() if oldest_first else ExchangeOrder.id.desc())  # fmt: skip
    orders = list(
        ExchangeOrder.select(ExchangeOrder, Return, Order)
        .join(Return)
        .join(Order)
        .where(ExchangeOrder.status == status)
        .order_by(*order_by)
        .paginate(number, per_page)
    )
    exchanges.with_items(orders)
    for order in orders:
        order.stock = {}
    if orders:
        skus = {i.replacement.variant.sku for o in orders for i in o.items}
        levels = (
            StockLevel.select(StockLevel, InventoryLocation)
            .join(InventoryLocation)
            .where(
                StockLevel.sku.in_(list(skus))
                & (InventoryLocation.kind == "sellable")
                & (InventoryLocation.active == True)  # noqa: E712
            )
            .order_by(InventoryLocation.name)
        )
        stock = {}
        for level in levels:
            stock.setdefault(level.sku, []).append((level.location, level.quantity))
        for order in orders:
            order.stock = {i.replacement.variant.sku: stock.get(i.replacement.variant.sku, [])
                           for i in order.items}  # fmt: skip
    return Page(items=orders, number=number, per_page=per_page, total=total), status

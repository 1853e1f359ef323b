"""The shopper's order history: one page of their orders, newest first, with what the list
shows of each (number, status, date, the first lines' titles and pictures) and how many units
can still be returned and until when. Everything comes from one statement of a fixed shape,
its SQL built once per process (portal.prebuilt.prebuilt_tuples), as plain values: the list reads a
few columns of some sixty lines, and model objects cost far more than the rows."""

from dataclasses import dataclass
from datetime import timedelta

from peewee import JOIN, fn

from portal.models import Order, OrderLine, Product, Variant, now
from portal.pagination import Page
from portal.prebuilt import prebuilt_tuples
from portal.returns.eligibility import store_date, terms_of
from portal.returns.quantities import taken_query

SHOWN_LINES = 3  # the titles (and pictures) a card shows; more are an ellipsis


@dataclass(frozen=True)
class ListedOrder:
    id: int
    number: str
    placed_at: object
    status: str
    line_count: int
    shown: list  # [(title, picture URL or None)] of its first SHOWN_LINES lines
    returnable: int  # units still returnable
    until: object  # the last day of the latest return window still open (None: no window)

    @property
    def more(self):
        return self.line_count > len(self.shown)


def _build(customer_id, limit, offset, number_like=None, title_like=None):
    """The page's statement: its orders, their lines (with the catalogue's pictures), what
    returns hold of those lines; the count of all matching orders."""
    matching = Order.customer == customer_id
    if number_like is not None:
        titles = OrderLine.select(OrderLine.order).where(OrderLine.title**title_like)
        matching &= (Order.number**number_like) | Order.id.in_(titles)
    newest = (Order.placed_at.desc(), Order.id.desc())
    page_ids = Order.select(Order.id).where(matching).order_by(*newest).limit(limit).offset(offset)
    in_page = OrderLine.order.in_(page_ids)
    return [
        Order.select(Order.id, Order.number, Order.placed_at, Order.status, Order.delivered_at)
        .where(matching)
        .order_by(*newest)
        .limit(limit)
        .offset(offset),
        OrderLine.select(OrderLine.id, OrderLine.order, OrderLine.title, OrderLine.quantity,
                         OrderLine.final_sale, OrderLine.invoice_number, OrderLine.delivered_at,
                         OrderLine.replaces, OrderLine.bundle, OrderLine.image_url,
                         Variant.image_url.alias("variant_image"),
                         Product.image_url.alias("product_image"))
        .join(Variant, JOIN.LEFT_OUTER, on=OrderLine.product_variant == Variant.id)
        .join(Product, JOIN.LEFT_OUTER, on=Variant.product == Product.id)
        .where(in_page),  # in id order once read (sorting them in SQL cost SQLite more)
        taken_query(OrderLine.select(OrderLine.id).where(in_page)),
    ], [Order.select(fn.COUNT(Order.id)).where(matching)]  # fmt: skip


def order_history(customer_id, search, number, per_page, policy, at=None):
    """Page `number` of the orders of `customer_id` (`search`: part of an order number or of
    a product's name, '' for all), as a pagination.Page of ListedOrder, under `policy` (the
    store's ReturnPolicy: portal.returns.pickers.return_policy)."""
    values = {"customer_id": customer_id, "limit": per_page, "offset": (number - 1) * per_page}
    name = "order-history"
    if search:
        name = "order-history:search"
        values.update(number_like=f"%{search.lstrip('#')}%", title_like=f"%{search}%")
    orders, lines, taken_rows, total = prebuilt_tuples(name, _build, **values)
    terms = terms_of(policy)
    today = store_date(at or now(), terms.timezone)
    taken = dict(taken_rows)
    lines.sort()  # by id (unique): each order's lines in id order
    by_order = {}
    for line in lines:
        by_order.setdefault(line[1], []).append(line)
    items, last_days = [], {}
    for order_id, order_number, placed_at, status, delivered_at in orders:
        own = by_order.get(order_id, ())
        returnable, until = summary(own, delivered_at, taken, terms, today, last_days)
        shown = [(line[2], line[9] or line[10] or line[11] or None) for line in own[:SHOWN_LINES]]
        items.append(ListedOrder(order_id, order_number, placed_at, status, len(own), shown,
                                 returnable, until))  # fmt: skip
    return Page(items=items, number=number, per_page=per_page, total=total)


def summary(lines, delivered_at, taken, terms, today, last_days):
    """eligibility.order_summary() of one order's `lines` (the rows _build reads, `taken`:
    {line id: units taken}, `delivered_at`: the order's) as (units, until), the last day of
    each delivery worked out once per page and `terms` in `last_days`
    (tests/unit/test_order_history_summary.py holds it equal to order_summary of the lines'
    facts)."""
    if not terms.returns_enabled:
        return 0, None
    bundles = {line[8] for line in lines if line[8]}
    units, until = 0, None
    for line_id, _o, _t, ordered, final_sale, invoice, line_delivered, replaces, *_rest in lines:
        delivered = line_delivered if replaces else delivered_at
        if delivered is None or final_sale or not invoice or line_id in bundles:
            continue
        held = int(taken.get(line_id) or 0)
        if held >= ordered:
            continue
        day = last_days.get(delivered)
        if day is None:
            day = store_date(delivered, terms.timezone) + timedelta(days=terms.window_days)
            last_days[delivered] = day
        if today > day:
            continue
        units += ordered - held
        if until is None or day > until:
            until = day
    return units, until

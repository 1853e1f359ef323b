"""The catalogue: products and variants, the stock a variant can be exchanged from, the
exchange options a shopper sees for an order line, and catalogue records from the import.

A variant's stock is the StockLevel rows of its SKU in active sellable locations (what restocking
writes). What an exchange may take is that stock, less the units reserved for other replacements
(Replacement.held), less the store's minimum-stock buffer for exchanges."""

from dataclasses import dataclass

from peewee import fn

from portal.db import db, locked
from portal.models import (
    InventoryLocation,
    Product,
    Replacement,
    StockLevel,
    StockMovement,
    Variant,
    now,
)
from portal.returns.errors import DomainError
from portal.returns.exchange_money import Price, replacement_price
from portal.returns.money import format_money

MAX_OPTIONS = 200  # variants offered per line when any product may be chosen


def _on_hand(sku_column):
    return (
        StockLevel.select(fn.COALESCE(fn.SUM(StockLevel.quantity), 0))
        .join(InventoryLocation)
        .where(
            (StockLevel.sku == sku_column)
            & (InventoryLocation.kind == "sellable")
            & (InventoryLocation.active == True)  # noqa: E712
        )
    )


def _held(variant_column):
    return Replacement.select(fn.COALESCE(fn.SUM(Replacement.held), 0)).where(
        Replacement.variant == variant_column
    )


def stock(variant_ids):
    """{variant_id: (on hand, held)} in one statement (one snapshot of both)."""
    ids = list(variant_ids)
    if not ids:
        return {}
    query = Variant.select(
        Variant.id, _on_hand(Variant.sku).alias("on_hand"), _held(Variant.id).alias("held")
    ).where(Variant.id.in_(ids))
    return {vid: (int(on_hand), int(held)) for vid, on_hand, held in query.tuples()}


def available(variant_ids, buffer=0):
    """{variant_id: units an exchange may still take} (never below 0)."""
    return {
        vid: max(on_hand - held - buffer, 0) for vid, (on_hand, held) in stock(variant_ids).items()
    }


def lock_variants(variant_ids):
    """Lock the variants a request or a shipment reserves or takes stock of (PostgreSQL: SELECT
    ... FOR UPDATE, in id order; SQLite's BEGIN IMMEDIATE already serialises writers), so two
    shoppers can't both get the last unit."""
    ids = sorted({int(i) for i in variant_ids if i is not None})
    if not ids:
        return {}
    rows = locked(Variant.select().where(Variant.id.in_(ids)).order_by(Variant.id))
    return {v.id: v for v in rows}


# --- what a shopper may choose ------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """A variant a shopper may get instead of money for one order line."""

    variant: Variant
    product: Product
    price: Price  # what one unit costs this shopper
    available: int  # units an exchange may take now
    same_product: bool

    @property
    def in_stock(self):
        return self.available > 0

    def label(self, currency):
        name = variant_name(self.variant, self.product, self.same_product)
        stock = f"{self.available} in stock" if self.in_stock else "out of stock"
        return f"{name} · {format_money(self.price.total, currency)} · {stock}"


def variant_name(variant, product, same_product=True):
    """How a variant is named to a shopper: its options (L / White) beside its own product, with
    the product's title otherwise; a product without options is its title."""
    if not variant.options:
        return product.title
    return variant.title if same_product else f"{product.title} — {variant.title}"


def paid_price(line):
    return Price(line.unit_price, line.unit_tax)


def catalogue_price(variant):
    return None if variant is None else Price(variant.price, variant.tax)


def line_variant(line, variants):
    return variants.get(line.product_variant_id) if line.product_variant_id else None


def exchange_options(lines, policy):
    """{order_line_id: [Option]} for the order lines a shopper may exchange: the other active
    variants of the line's product (out of stock ones too, so the shopper sees why not), or,
    when the store lets shoppers shop the catalogue, every active variant in stock. A few
    queries whatever the number of lines."""
    if not (policy.exchanges_enabled and policy.inventory_tracking):
        return {}
    own_ids = {line.product_variant_id for line in lines if line.product_variant_id}
    own = (
        {v.id: v for v in Variant.select().where(Variant.id.in_(list(own_ids)))} if own_ids else {}
    )
    product_ids = {v.product_id for v in own.values()}
    query = (
        Variant.select(Variant, Product)
        .join(Product)
        .where((Variant.active == True) & (Product.active == True))  # noqa: E712
        .order_by(Product.title, Product.id, Variant.position, Variant.id)
    )
    if not policy.exchange_any_product:
        if not product_ids:
            return {}
        query = query.where(Variant.product.in_(list(product_ids)))
    candidates = list(query.limit(MAX_OPTIONS * 5))
    free = available([v.id for v in candidates], policy.exchange_stock_buffer)
    options = {}
    for line in lines:
        mine = line_variant(line, own)
        if mine is None and not policy.exchange_any_product:
            continue
        found = []
        for variant in candidates:
            if mine is not None and variant.id == mine.id:
                continue
            same = mine is not None and variant.product_id == mine.product_id
            if not same and not policy.exchange_any_product:
                continue
            if not same and free.get(variant.id, 0) <= 0:
                continue  # other products: only what can be had
            price = replacement_price(paid_price(line), catalogue_price(mine),
                                      catalogue_price(variant), same)  # fmt: skip
            found.append(Option(variant, variant.product, price, free.get(variant.id, 0), same))
        found.sort(key=lambda o: not o.same_product)
        if found:
            options[line.id] = found[:MAX_OPTIONS]
    return options


def claim_options(lines, policy):
    """{order_line_id: [Option]}: a claim's replacement is one more of the line's own variant
    (the store's fault: no minimum-stock buffer), at what the shopper paid."""
    if not policy.inventory_tracking:
        return {}
    own_ids = {line.product_variant_id for line in lines if line.product_variant_id}
    if not own_ids:
        return {}
    own = {v.id: v for v in Variant.select(Variant, Product).join(Product)
           .where(Variant.id.in_(list(own_ids)))}  # fmt: skip
    free = {vid: max(on_hand - held, 0) for vid, (on_hand, held) in stock(own).items()}
    return {
        line.id: [Option(own[line.product_variant_id], own[line.product_variant_id].product,
                         paid_price(line), free.get(line.product_variant_id, 0), True)]
        for line in lines
        if line.product_variant_id in own
    }  # fmt: skip


# --- catalogue records from the import ------------------------------------------------------------


def save_product(record, actor=None):
    """Create or update a product and its variants from a parsed import record (importer.py),
    in one transaction; stock given per location code is set to that level, through a
    StockMovement of the difference. Returns the Product."""
    with db.atomic():
        product = Product.get_or_none(Product.code == record["code"])
        if product is None:
            product = Product.create(code=record["code"], title=record["title"],
                                     image_url=record["image_url"], active=record["active"])  # fmt: skip
        else:
            product.title, product.image_url = record["title"], record["image_url"]
            product.active, product.updated_at = record["active"], now()
            product.save()
        for position, raw in enumerate(record["variants"]):
            variant = Variant.get_or_none(Variant.sku == raw["sku"])
            values = {k: raw[k] for k in ("title", "options", "price", "tax", "image_url",
                                          "active")}  # fmt: skip
            if variant is None:
                variant = Variant.create(product=product, sku=raw["sku"], position=position,
                                         **values)  # fmt: skip
            elif variant.product_id != product.id:
                other = Product.get_by_id(variant.product_id)
                raise DomainError(
                    f"variant {raw['sku']} already belongs to product {other.code}; a SKU is "
                    "one variant of one product."
                )
            else:
                Variant.update(position=position, **values).where(
                    Variant.id == variant.id
                ).execute()
            lock_variants([variant.id])
            for location, quantity in raw["stock"]:
                _set_stock(location, raw["sku"], quantity, actor)
        return product


def _set_stock(location, sku, quantity, actor):
    StockLevel.insert(location=location, sku=sku, quantity=0).on_conflict_ignore().execute()
    level = StockLevel.get((StockLevel.location == location) & (StockLevel.sku == sku))
    delta = quantity - level.quantity
    if delta:
        StockMovement.create(location=location, sku=sku, quantity=delta, reason="import",
                             actor=actor)  # fmt: skip
        StockLevel.update(quantity=quantity).where(StockLevel.id == level.id).execute()


def images_for(lines):
    """{order line id: picture URL}: the line's own image_url where the shop sent one, else its
    catalogue variant's, else that variant's product's (one query for all the lines)."""
    images = {line.id: line.image_url for line in lines if line.image_url}
    wanted = {line.product_variant_id for line in lines
              if line.id not in images and line.product_variant_id}  # fmt: skip
    if wanted:
        found = {
            v.id: v.image_url or v.product.image_url
            for v in Variant.select(Variant.id, Variant.image_url, Product.image_url)
            .join(Product)
            .where(Variant.id.in_(list(wanted)))
        }
        for line in lines:
            if line.id not in images and found.get(line.product_variant_id):
                images[line.id] = found[line.product_variant_id]
    return images

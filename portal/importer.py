"""Order import: JSON lines of orders with lines, payments and invoices, and of catalogue
products with their variants and stock (docs/import-format.md).

Each record is validated whole before anything is written, and written in its own transaction:
a bad record is reported with its line number and leaves nothing behind.
"""

import datetime
import json
from dataclasses import dataclass, field

from peewee import DatabaseError

from portal.db import db, locked
from portal.models import InventoryLocation, Invoice, Order, OrderLine, Payment, User, Variant
from portal.payments import FACTORIES as GATEWAYS
from portal.returns.catalogue import save_product
from portal.returns.errors import DomainError

CURRENCIES = {"USD", "EUR", "GBP", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "JPY", "PLN"}
STATUSES = {"placed", "shipped", "delivered", "cancelled"}
PAYMENT_METHODS = {"card", "gift_card", "store_credit", "paypal", "bank_transfer"}
# Whole numbers are stored in 32-bit INTEGER columns on PostgreSQL: refuse anything larger here.
MAX_INT = 2_147_483_647


class RecordError(ValueError):
    """A record that can't be imported; the message says why, for a person."""


@dataclass
class ImportReport:
    imported: int = 0
    errors: list = field(default_factory=list)  # (line number, message)
    products: int = 0  # catalogue products created or updated


def _require(obj, key, kind, where):
    if key not in obj or obj[key] is None:
        raise RecordError(f"{where}: '{key}' is missing.")
    value = obj[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise RecordError(f"{where}: '{key}' must be a whole number of cents, got {value!r}.")
    if kind is int and abs(value) > MAX_INT:
        raise RecordError(f"{where}: '{key}' is too large.")
    if kind is str and (not isinstance(value, str) or not value.strip()):
        raise RecordError(f"{where}: '{key}' must be a non-empty string.")
    return value.strip() if kind is str else value


def _timestamp(value, where, key):
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{where}: '{key}' must be an ISO 8601 timestamp.")
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"{where}: '{key}' is not an ISO 8601 timestamp: {value!r}.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def _cents(value, where, key):
    """A whole, non-negative number of cents (an optional field that defaults to 0)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{where}: '{key}' must be a whole number of cents, got {value!r}.")
    if value < 0:
        raise RecordError(f"{where}: '{key}' can't be negative.")
    if value > MAX_INT:
        raise RecordError(f"{where}: '{key}' is too large.")
    return value


def _flag(obj, key, where):
    value = obj.get(key, False)
    if not isinstance(value, bool):  # "false" would otherwise read as true
        raise RecordError(f"{where}: '{key}' must be true or false, got {value!r}.")
    return value


def _bool(obj, key, where, default):
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise RecordError(f"{where}: '{key}' must be true or false, got {value!r}.")
    return value


def _optional_text(obj, key, where):
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{where}: '{key}' must be a string.")
    return value.strip()


def _list(obj, key, where):
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{where}: '{key}' must be a list.")
    return value


def _line(raw, lw, invoice_numbers, default_invoice=None):
    if not isinstance(raw, dict):
        raise RecordError(f"{lw}: must be an object.")
    quantity = _require(raw, "quantity", int, lw)
    if quantity <= 0:
        raise RecordError(f"{lw}: 'quantity' must be at least 1.")
    variant = raw.get("variant") or {}
    if not isinstance(variant, dict):
        raise RecordError(f"{lw}: 'variant' must be an object of attributes.")
    invoice = raw.get("invoice", default_invoice)
    if invoice is not None and invoice not in invoice_numbers:
        raise RecordError(f"{lw}: invoice {invoice!r} is not among the order's invoices.")
    return {
        "sku": _require(raw, "sku", str, lw),
        "title": _require(raw, "title", str, lw),
        "quantity": quantity,
        "unit_price": _cents(_require(raw, "unit_price", int, lw), lw, "unit_price"),
        "unit_tax": _cents(raw.get("unit_tax", 0), lw, "unit_tax"),
        "final_sale": _flag(raw, "final_sale", lw),
        "category": _optional_text(raw, "category", lw),
        "variant": {str(k): str(v) for k, v in variant.items()},
        "invoice_number": invoice,
        "variant_sku": _optional_text(raw, "variant_sku", lw) or None,
        "image_url": _image_url(raw, lw),
    }


def _image_url(raw, where):
    """A line's picture: an absolute http(s) address, or "" (pages show it in an <img>)."""
    url = _optional_text(raw, "image_url", where).strip()
    if url and not url.lower().startswith(("https://", "http://")):
        raise RecordError(f"{where}: 'image_url' must start with https:// or http://.")
    if len(url) > 255:
        raise RecordError(f"{where}: 'image_url' is longer than 255 characters.")
    return url


def _components(raw, bundle, lw, invoice_numbers):
    """A bundle's parts. Each part's `quantity` is per bundle; its unit_price and unit_tax are
    the shop's allocation of the bundle's price, so the parts of one bundle add up to the
    bundle's unit price and tax exactly (the portal never guesses an allocation)."""
    if not isinstance(raw, list) or not raw:
        raise RecordError(f"{lw}: 'components' must be a non-empty list.")
    parts = []
    for j, item in enumerate(raw, 1):
        part = _line(item, f"{lw}, component {j}", invoice_numbers, bundle["invoice_number"])
        if "components" in item:
            raise RecordError(f"{lw}, component {j}: a component can't have components.")
        parts.append(part)
    price = sum(p["quantity"] * p["unit_price"] for p in parts)
    tax = sum(p["quantity"] * p["unit_tax"] for p in parts)
    if (price, tax) != (bundle["unit_price"], bundle["unit_tax"]):
        raise RecordError(
            f"{lw}: the components' prices add up to {price} cents and tax {tax} cents per "
            f"bundle, but the bundle costs {bundle['unit_price']} and {bundle['unit_tax']}."
        )
    for part in parts:  # stored per order: a bundle of 2 with 3 socks each holds 6 socks
        part["quantity"] *= bundle["quantity"]
        part["final_sale"] = part["final_sale"] or bundle["final_sale"]
    return parts


def _shipping_address(obj, where):
    """The optional shipping address: where a return parcel comes from; its country decides
    which return shipping methods the shopper can choose."""
    raw = obj.get("shipping_address")
    if raw is None:
        return {}
    aw = f"{where}, shipping_address"
    if not isinstance(raw, dict):
        raise RecordError(f"{aw}: must be an object.")
    lines = raw.get("lines", [])
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise RecordError(f"{aw}: 'lines' must be a list of strings.")
    country = _optional_text(raw, "country", aw).upper()
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise RecordError(f"{aw}: 'country' must be an ISO 3166 alpha-2 code like US or DE.")
    address = {
        "ship_name": _optional_text(raw, "name", aw),
        "ship_lines": "\n".join(x.strip() for x in lines if x.strip()),
        "ship_city": _optional_text(raw, "city", aw),
        "ship_postcode": _optional_text(raw, "postcode", aw),
        "ship_country": country,
    }
    if any(len(v) > 255 for v in address.values()):
        raise RecordError(f"{aw}: a part is longer than 255 characters.")
    return address


def parse_order(obj):
    """Validate one decoded record; returns a dict ready for write_order()."""
    if not isinstance(obj, dict):
        raise RecordError("a record must be a JSON object.")
    number = _require(obj, "number", str, "order")
    where = f"order {number}"
    email = User.normalize_email(_require(obj, "email", str, where))
    if "@" not in email:
        raise RecordError(f"{where}: 'email' is not an email address.")
    currency = _require(obj, "currency", str, where).upper()
    if currency not in CURRENCIES:
        raise RecordError(f"{where}: unknown currency {currency!r}.")
    status = obj.get("status", "placed")
    if not isinstance(status, str) or status not in STATUSES:
        raise RecordError(f"{where}: status must be one of {', '.join(sorted(STATUSES))}.")
    placed_at = _timestamp(_require(obj, "placed_at", str, where), where, "placed_at")
    delivered_at = _timestamp(obj.get("delivered_at"), where, "delivered_at")
    if delivered_at and delivered_at < placed_at:
        raise RecordError(f"{where}: delivered_at is before placed_at.")
    shipping = _cents(obj.get("shipping_total", 0), where, "shipping_total")

    invoices = []
    for i, raw in enumerate(_list(obj, "invoices", where), 1):
        iw = f"{where}, invoice {i}"
        if not isinstance(raw, dict):
            raise RecordError(f"{iw}: must be an object.")
        kind = raw.get("kind", "sale")
        if kind != "sale":
            raise RecordError(f"{iw}: only sale invoices are imported.")
        invoices.append(
            {
                "number": _require(raw, "number", str, iw),
                "kind": kind,
                "issued_at": _timestamp(raw.get("issued_at"), iw, "issued_at") or placed_at,
            }
        )
    invoice_numbers = [inv["number"] for inv in invoices]
    if len(set(invoice_numbers)) != len(invoice_numbers):
        raise RecordError(f"{where}: invoice numbers repeat.")

    lines = []
    raw_lines = obj.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise RecordError(f"{where}: 'lines' must be a non-empty list.")
    for i, raw in enumerate(raw_lines, 1):
        lw = f"{where}, line {i}"
        line = _line(raw, lw, invoice_numbers)
        components = raw.get("components")
        if components is not None:
            line["components"] = _components(components, line, lw, invoice_numbers)
        lines.append(line)

    payments = []
    for i, raw in enumerate(_list(obj, "payments", where), 1):
        pw = f"{where}, payment {i}"
        if not isinstance(raw, dict):
            raise RecordError(f"{pw}: must be an object.")
        method = _require(raw, "method", str, pw)
        if method not in PAYMENT_METHODS:
            raise RecordError(f"{pw}: unknown method {method!r}.")
        amount = _require(raw, "amount", int, pw)
        if amount <= 0:
            raise RecordError(f"{pw}: 'amount' must be positive.")
        gateway = _optional_text(raw, "gateway", pw) or "ledger"
        if gateway not in GATEWAYS:
            known = ", ".join(sorted(GATEWAYS))
            raise RecordError(f"{pw}: unknown gateway {gateway!r} (known: {known}).")
        payments.append(
            {
                "method": method,
                "gateway": gateway,
                "reference": _require(raw, "reference", str, pw),
                "amount": amount,
                "position": i,
            }
        )
    total = shipping + sum(ln["quantity"] * (ln["unit_price"] + ln["unit_tax"]) for ln in lines)
    captured = sum(p["amount"] for p in payments)
    if captured != total:
        raise RecordError(
            f"{where}: payments capture {captured} cents but the order totals {total} cents."
        )
    return {
        "number": number,
        "email": email,
        "currency": currency,
        "status": status,
        "placed_at": placed_at,
        "delivered_at": delivered_at,
        "shipping_total": shipping,
        "lines": lines,
        "payments": payments,
        "invoices": invoices,
        "shipping_address": _shipping_address(obj, where),
    }


def _catalogue_variants(record):
    """{sku: variant id} of the catalogue variants the order's lines sold: a line's
    `variant_sku`, else the variant with the line's own SKU (if the catalogue has one)."""
    lines = [ln for line in record["lines"] for ln in [line, *(line.get("components") or [])]]
    wanted = {ln.get("variant_sku") or ln["sku"] for ln in lines}
    found = dict(Variant.select(Variant.sku, Variant.id).where(Variant.sku.in_(list(wanted)))
                 .tuples())  # fmt: skip
    for ln in lines:
        if ln.get("variant_sku") and ln["variant_sku"] not in found:
            raise RecordError(
                f"order {record['number']}: variant_sku {ln['variant_sku']!r} is not in the "
                "catalogue (import its product first)."
            )
    return found


def _line_row(line, variants):
    row = {k: v for k, v in line.items() if k not in ("components", "variant_sku")}
    row["product_variant"] = variants.get(line.get("variant_sku") or line["sku"])
    return row


def _order_fields(record, customer):
    return {
        "customer": customer,
        "email": record["email"],
        "currency": record["currency"],
        "status": record["status"],
        "placed_at": record["placed_at"],
        "delivered_at": record["delivered_at"],
        "shipping_total": record["shipping_total"],
        **record.get("shipping_address", {}),
    }


def _check_invoice_numbers(record, order_id=None):
    numbers = [inv["number"] for inv in record["invoices"]] or [""]
    taken = Invoice.select(Invoice.number).where(Invoice.number.in_(numbers))
    if order_id is not None:
        taken = taken.where(Invoice.order != order_id)
    if taken.exists():
        raise RecordError(f"order {record['number']}: an invoice number is already used.")


def _insert_lines(order, lines, variants, bundle=None):
    for line in lines:
        row = OrderLine.create(order=order, bundle=bundle, **_line_row(line, variants))
        _insert_lines(order, line.get("components") or [], variants, bundle=row)


def save_order(record, replace=False):
    """Save one parsed order in one transaction: create it, or (with `replace`, the API's PUT)
    bring an existing one up to date (order_updates.py). Both the import and the API call this.
    Raises RecordError if it can't, and then nothing was written."""
    with db.atomic():
        existing = locked(Order.select().where(Order.number == record["number"])).first()
        if existing is not None and not replace:
            raise RecordError(f"order {record['number']}: already imported.")
        _check_invoice_numbers(record, existing.id if existing else None)
        customer = User.get_or_none(User.email == record["email"])
        variants = _catalogue_variants(record)
        if existing is not None:
            from portal.order_updates import update_order

            return update_order(existing, record, _order_fields(record, customer), variants,
                                _line_row)  # fmt: skip
        order = Order.create(number=record["number"], **_order_fields(record, customer))
        for inv in record["invoices"]:
            Invoice.create(order=order, **inv)
        _insert_lines(order, record["lines"], variants)
        for payment in record["payments"]:
            Payment.create(order=order, **payment)
    return order


def write_order(record):
    """Insert one parsed order (the import: an order already there is refused)."""
    return save_order(record)


def parse_product(obj):
    """Validate one catalogue record ("type": "product"); returns a dict for write_product()."""
    code = _require(obj, "code", str, "product")
    where = f"product {code}"
    raw_variants = obj.get("variants")
    if not isinstance(raw_variants, list) or not raw_variants:
        raise RecordError(f"{where}: 'variants' must be a non-empty list.")
    variants, skus = [], set()
    for i, raw in enumerate(raw_variants, 1):
        vw = f"{where}, variant {i}"
        if not isinstance(raw, dict):
            raise RecordError(f"{vw}: must be an object.")
        sku = _require(raw, "sku", str, vw)
        if sku in skus:
            raise RecordError(f"{vw}: SKU {sku} is listed twice.")
        skus.add(sku)
        options = raw.get("options") or {}
        if not isinstance(options, dict):
            raise RecordError(f'{vw}: \'options\' must be an object, e.g. {{"size": "M"}}.')
        stock = raw.get("stock") or {}
        if not isinstance(stock, dict):
            raise RecordError(f"{vw}: 'stock' must be an object of location code to units.")
        levels = []
        for location, units in stock.items():
            if isinstance(units, bool) or not isinstance(units, int) or not 0 <= units <= MAX_INT:
                raise RecordError(f"{vw}: stock at {location} must be a whole number of units.")
            levels.append((str(location).strip().upper(), units))
        options = {str(k): str(v) for k, v in options.items()}
        variants.append({
            "sku": sku,
            "title": _optional_text(raw, "title", vw) or " / ".join(options.values()) or sku,
            "options": options,
            "price": _cents(_require(raw, "price", int, vw), vw, "price"),
            "tax": _cents(raw.get("tax", 0), vw, "tax"),
            "image_url": _optional_text(raw, "image_url", vw),
            "active": _bool(raw, "active", vw, default=True),
            "stock": levels,
        })  # fmt: skip
    active = _bool(obj, "active", where, default=True)
    return {
        "code": code,
        "title": _require(obj, "title", str, where),
        "image_url": _optional_text(obj, "image_url", where),
        "active": active,
        "variants": variants,
    }


def write_product(record):
    """Create or update a catalogue product, its variants and their stock, in one transaction.
    Raises RecordError if it can't."""
    codes = {code for variant in record["variants"] for code, _ in variant["stock"]}
    found = {
        loc.code: loc
        for loc in InventoryLocation.select().where(InventoryLocation.code.in_(list(codes) or [""]))
    }
    for variant in record["variants"]:
        for code, _ in variant["stock"]:
            location = found.get(code)
            if location is None or location.kind != "sellable":
                raise RecordError(
                    f"product {record['code']}, variant {variant['sku']}: {code} is not a "
                    "sellable inventory location (add it under Settings, Locations)."
                )
        variant["stock"] = [(found[code], units) for code, units in variant["stock"]]
    try:
        return save_product(record)
    except DomainError as exc:
        raise RecordError(f"product {record['code']}: {exc}") from None


def import_lines(lines):
    """Import an iterable of JSON-lines text; returns an ImportReport."""
    report = ImportReport()
    for lineno, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RecordError(f"not valid JSON ({exc.msg}).") from None
            kind = obj.get("type", "order") if isinstance(obj, dict) else "order"
            if kind == "product":
                record = parse_product(obj)
                write_product(record)
                report.products += 1
            elif kind == "order":
                record = parse_order(obj)
                save_order(record)
                report.imported += 1
            else:
                raise RecordError(f"'type' must be \"order\" (the default) or \"product\", got "
                                  f"{kind!r}.")  # fmt: skip
        except RecordError as exc:
            report.errors.append((lineno, str(exc)))
        except DatabaseError as exc:  # e.g. a value too long for its column on PostgreSQL
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            what = f"product {record['code']}" if "code" in record else f"order {record['number']}"
            report.errors.append((lineno, f"{what}: rejected by the database: {first_line}"))
    return report

"""Demo data: a small but realistic store, deterministic for a given seed.

Orders and the catalogue go through the same importer the shop platform uses, so demo data obeys
the same rules. The catalogue has sizes and colours with stock, so exchanges and claims can be
tried at once.
"""

import datetime
import random

from portal.carriers.builtin import BuiltinCarrier
from portal.db import db
from portal.importer import parse_order, parse_product, write_order, write_product
from portal.models import (
    InventoryLocation,
    Order,
    OrderLine,
    ReturnPolicy,
    ReturnReason,
    StockLevel,
    User,
    Variant,
    now,
)
from portal.models.accounts import DEFAULT_HASH_METHOD
from portal.returns import catalogue, receiving, requests, review, shipping
from portal.returns.accounts import create_user

DEMO_PASSWORD = "demo-pass-1234"

STAFF = [
    ("agent@example.com", "Alex Agent", "agent"),
    ("manager@example.com", "Morgan Manager", "manager"),
    ("manager2@example.com", "Maria Manager", "manager"),
    ("admin@example.com", "Ada Admin", "admin"),
]
SHOPPERS = [
    ("shopper@example.com", "Sam Shopper"),
    ("shopper2@example.com", "Jo Shopper"),
    ("lee@example.com", "Lee Park"),
    ("priya@example.com", "Priya Rao"),
    ("tom@example.com", "Tom Berg"),
    ("ana@example.com", "Ana Silva"),
]

# sku, title, category, price (cents, tax excluded), variants, final sale
CATALOG = [
    (
        "TEE-CLASSIC",
        "Classic cotton tee",
        "apparel",
        2500,
        {"size": "SMLX", "colour": "White Black Navy"},
        False,
    ),
    ("HOODIE-ZIP", "Zip hoodie", "apparel", 6900, {"size": "SML", "colour": "Grey Forest"}, False),
    ("JEANS-SLIM", "Slim jeans", "apparel", 8900, {"size": "28 30 32 34"}, False),
    ("SOCK-3PK", "Merino socks (3 pack)", "apparel", 1800, {}, True),
    ("RUN-SHOE", "Trail running shoe", "footwear", 12900, {"size": "40 41 42 43 44"}, False),
    ("SANDAL", "Leather sandal", "footwear", 5900, {"size": "38 39 40 41"}, False),
    ("BAG-TOTE", "Canvas tote bag", "accessories", 3200, {}, False),
    ("CAP-WOOL", "Wool cap", "accessories", 2900, {}, False),
    ("SUNGLASS", "Polarised sunglasses", "accessories", 9900, {}, False),
    ("MUG-STONE", "Stoneware mug", "home", 1600, {}, False),
    ("LAMP-DESK", "Desk lamp", "home", 7400, {}, False),
    ("THROW-WOOL", "Wool throw", "home", 11900, {}, False),
    ("EARBUDS", "Wireless earbuds", "electronics", 14900, {}, False),
    ("CHARGER", "USB-C charger 65W", "electronics", 3900, {}, False),
    ("GIFT-WRAP", "Gift wrapping", "services", 500, {}, True),
    ("CANDLE-CLR", "Scented candle (clearance)", "home", 900, {}, True),
]

# Variants that cost more than their product's list price (option value -> extra cents).
PREMIUM = {("HOODIE-ZIP", "Forest"): 1000}

# A bundle: the shop allocates its price over its parts (they add up to the bundle's price).
GIFT_SET = {
    "sku": "GIFT-SET-WEEKEND",
    "title": "Weekend gift set",
    "category": "bundles",
    "quantity": 1,
    "unit_price": 5000,
    "unit_tax": 1000,
    "components": [
        {
            "sku": "MUG-STONE",
            "title": "Gift set mug",
            "quantity": 2,
            "unit_price": 1000,
            "unit_tax": 200,
        },
        {
            "sku": "CANDLE-GIFT",
            "title": "Gift set candle",
            "quantity": 1,
            "unit_price": 3000,
            "unit_tax": 600,
        },
    ],
}

# name, price (cents), kind, countries ("" = all), free for merchant-fault reasons
# The first one a parcel's country can use is preselected on the request form.
SHIPPING_METHODS = [
    ("Ship it yourself", 0, "ship_yourself", "", True),
    ("Prepaid label", 495, "prepaid_label", "US CA", True),
    ("QR drop-off", 350, "qr_dropoff", "US", True),
]
NAMES = dict(SHOPPERS)
STREETS = ["Elm Street", "Maple Avenue", "Harbour Road", "Station Lane", "Mill Road"]

REASONS = [
    # code, label, parent code, merchant fault, requires note, requires photo
    ("changed_mind", "I changed my mind", None, False, False, False),
    ("fit", "It doesn't fit", None, False, False, False),
    ("fit_small", "Too small", "fit", False, False, False),
    ("fit_large", "Too large", "fit", False, False, False),
    ("not_as_described", "Not as described", None, True, True, False),
    ("damaged", "Arrived damaged", None, True, False, True),
    ("defective", "Defective or doesn't work", None, True, True, False),
    ("wrong_item", "Wrong item sent", None, True, False, False),
    ("other", "Other", None, False, True, False),
    ("missing", "Missing from the parcel", None, True, True, False),
]
# Claims for these reasons keep the item: there is nothing to send back.
KEEP_ITEM = {"missing"}
GERMAN_LABELS = {
    "changed_mind": "Ich habe es mir anders überlegt",
    "fit": "Passt nicht",
    "fit_small": "Zu klein",
    "fit_large": "Zu groß",
    "not_as_described": "Nicht wie beschrieben",
    "damaged": "Beschädigt angekommen",
    "defective": "Defekt oder funktioniert nicht",
    "wrong_item": "Falscher Artikel geliefert",
    "other": "Sonstiges",
    "missing": "Fehlt im Paket",
}


def _options(variants):
    """Every combination of a product's option values, in a stable order."""
    combos = [{}]
    for key, values in variants.items():
        values = values.split() if " " in values else list(values)
        combos = [{**combo, key: value} for combo in combos for value in values]
    return combos


def variant_sku(sku, options):
    return sku + "".join(f"-{value.upper()}" for value in options.values())


def variant_price(sku, price, options):
    return price + sum(PREMIUM.get((sku, value), 0) for value in options.values())


def product_records(rng, location_code):
    """The demo catalogue as import records: one product per CATALOG entry, a variant per
    combination of its options, with stock in `location_code`."""
    records = []
    for sku, title, _category, price, variants, _final in CATALOG:
        records.append({
            "type": "product", "code": sku, "title": title,
            "variants": [
                {"sku": variant_sku(sku, options), "options": options,
                 "price": variant_price(sku, price, options),
                 "tax": variant_price(sku, price, options) * 2 // 10,
                 "stock": {location_code: rng.randint(0, 12)}}
                for options in _options(variants)
            ],
        })  # fmt: skip
    return records


def _order_record(rng, number, email, placed_at, today, catalog=CATALOG, line_count=None):
    lines = []
    for product in rng.sample(catalog, line_count or rng.choice([1, 1, 2, 2, 3, 4])):
        sku, title, category, price, variants, final_sale = product
        variant = {
            k: rng.choice(v.split()) if " " in v else rng.choice(list(v))
            for k, v in variants.items()
        }
        price = variant_price(sku, price, variant)
        # Some lines carry an allocated discount: what the shopper paid per unit.
        paid = price - (price * rng.choice([0, 0, 0, 10, 20]) // 100)
        lines.append(
            {
                "sku": variant_sku(sku, variant),
                "title": title,
                "category": category,
                "quantity": rng.choice([1, 1, 1, 2, 3]),
                "unit_price": paid,
                "unit_tax": paid * 2 // 10,
                "final_sale": final_sale,
                "variant": variant,
            }
        )
    age = (today - placed_at).days
    if age > 6:
        status, delivered_at = "delivered", placed_at + datetime.timedelta(days=rng.randint(2, 6))
    elif age > 2:
        status, delivered_at = "shipped", None
    else:
        status, delivered_at = "placed", None
    invoices = []
    if status != "placed":
        invoices = [{"number": f"INV-{number}", "kind": "sale", "issued_at": placed_at.isoformat()}]
        for line in lines:
            line["invoice"] = invoices[0]["number"]
    shipping = rng.choice([0, 495, 795])
    total = shipping + sum(ln["quantity"] * (ln["unit_price"] + ln["unit_tax"]) for ln in lines)
    payments = [{"method": "card", "reference": f"ch_{number}", "amount": total}]
    if total > 3000 and rng.random() < 0.25:
        gift = rng.choice([1000, 2000, 2500])
        payments = [
            {"method": "card", "reference": f"ch_{number}", "amount": total - gift},
            {"method": "gift_card", "reference": f"gc_{number}", "amount": gift},
        ]
    return {
        "number": str(number),
        "email": email,
        "shipping_address": {
            "name": NAMES.get(email, "Guest Shopper"),
            # From the number, not `rng`: the same seed keeps giving the same orders as before.
            "lines": [f"{number % 197 + 1} {STREETS[number % len(STREETS)]}"],
            "city": "Toronto" if number % 10 == 3 else "Springfield",
            "postcode": "M5V 2T6" if number % 10 == 3 else f"6270{number % 10}",
            "country": "CA" if number % 10 == 3 else "US",
        },
        "currency": "USD",
        "status": status,
        "placed_at": placed_at.isoformat(),
        "delivered_at": delivered_at.isoformat() if delivered_at else None,
        "shipping_total": shipping,
        "lines": lines,
        "payments": payments,
        "invoices": invoices,
    }


def seed_demo(orders=300, seed=7, today=None, hash_method=DEFAULT_HASH_METHOD):
    """Fill an empty database with the demo store. Returns a summary dict."""
    if User.select().exists():
        raise RuntimeError("The database already has accounts; demo data is only seeded once.")
    rng = random.Random(seed)
    today = today or now()
    for email, name, role in STAFF:
        create_user(email, DEMO_PASSWORD, name, role, hash_method)
    shoppers = [
        create_user(email, DEMO_PASSWORD, name, hash_method=hash_method) for email, name in SHOPPERS
    ]
    guests = [f"guest{i}@example.net" for i in range(1, 6)]

    with db.atomic():
        ReturnPolicy.current()
        by_code = {}
        for position, (code, label, parent, fault, note, photo) in enumerate(REASONS):
            by_code[code] = ReturnReason.create(
                code=code,
                label=label,
                label_de=GERMAN_LABELS.get(code, ""),
                parent=by_code.get(parent),
                merchant_fault=fault,
                requires_note=note,
                requires_photo=photo,
                keep_item=code in KEEP_ITEM,
                position=position,
            )
        main = InventoryLocation.create(code="MAIN", name="Main warehouse")
        InventoryLocation.create(code="STORE-1", name="Downtown store")
        damaged = InventoryLocation.create(code="QUARANTINE", name="Damaged goods",
                                           kind="quarantine")  # fmt: skip
        ReturnPolicy.update(default_location=main, default_quarantine_location=damaged).execute()
    manager = User.get(User.email == "manager@example.com")
    for position, (name, price, kind, countries, free) in enumerate(SHIPPING_METHODS):
        shipping.save_method(manager, name=name, price=price, kind=kind, countries=countries,
                             free_for_merchant_fault=free, position=position)  # fmt: skip
    for record in product_records(rng, main.code):
        write_product(parse_product(record))

    emails = [u.email for u in shoppers]
    weights = [30, 20, 12, 12, 10, 8]
    start = 100000
    records = []
    for i in range(orders):
        placed_at = today - datetime.timedelta(
            days=rng.randint(0, 89), hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
        )
        email = rng.choice(guests) if rng.random() < 0.1 else rng.choices(emails, weights)[0]
        records.append(
            _order_record(rng, start + i, email, placed_at.replace(microsecond=0), today)
        )
    # The two demo shoppers always have a recent delivered multi-line order to return.
    for j, email in enumerate(["shopper@example.com", "shopper2@example.com"]):
        returnable = [p for p in CATALOG if not p[5]]
        placed_at = (today - datetime.timedelta(days=8)).replace(microsecond=0)
        rec = _order_record(rng, start + orders + j, email, placed_at, today, returnable, 3)
        if j == 0:  # a size M tee and a grey hoodie at list price: ready to exchange
            rec["lines"][:2] = [_demo_line("TEE-CLASSIC", {"size": "M", "colour": "White"}, rec),
                                _demo_line("HOODIE-ZIP", {"size": "M", "colour": "Grey"}, rec)]  # fmt: skip
        rec["lines"][0]["quantity"] = 3
        rec["lines"].append(dict(GIFT_SET, invoice=rec["lines"][0].get("invoice")))
        rec["payments"][0]["amount"] = (
            rec["shipping_total"]
            + sum(ln["quantity"] * (ln["unit_price"] + ln["unit_tax"]) for ln in rec["lines"])
            - sum(p["amount"] for p in rec["payments"][1:])
        )
        records.append(rec)
    with db.atomic():
        for record in records:
            write_order(parse_order(record))
        skus = {line["sku"] for record in records for line in record["lines"]}
        catalogued = {sku for (sku,) in Variant.select(Variant.sku).tuples()}
        for sku in sorted(skus - catalogued):
            StockLevel.create(location=main, sku=sku, quantity=rng.randint(0, 40))
        # Enough of the demo shopper's exchange options in stock to try them.
        for sku in ("TEE-CLASSIC-L-WHITE", "HOODIE-ZIP-M-FOREST"):
            StockLevel.update(quantity=StockLevel.quantity + 5).where(
                (StockLevel.location == main) & (StockLevel.sku == sku)
            ).execute()
    returns = seed_returns(rng, today, exclude={rec["number"] for rec in records[-2:]})
    returns += seed_exchanges(rng, today, exclude={rec["number"] for rec in records[-2:]})
    return {"orders": len(records), "shoppers": len(shoppers), "staff": len(STAFF),
            "returns": returns}  # fmt: skip


def _demo_line(sku, options, record):
    """A line of the demo shopper's recent order: one catalogue variant at its list price."""
    product = next(p for p in CATALOG if p[0] == sku)
    price = variant_price(sku, product[3], options)
    return {"sku": variant_sku(sku, options), "title": product[1], "category": product[2],
            "quantity": 1, "unit_price": price, "unit_tax": price * 2 // 10,
            "final_sale": False, "variant": dict(options),
            "invoice": record["lines"][0].get("invoice")}  # fmt: skip


def _returnable_orders(today, exclude):
    """Shoppers' orders delivered within the return window, but those in `exclude`."""
    window = ReturnPolicy.current().window_days
    return Order.select().where(
        Order.customer.is_null(False)
        & (Order.delivered_at >= today - datetime.timedelta(days=window - 1))
        & Order.number.not_in(list(exclude) or [""])
    )


def seed_returns(rng, today, exclude=(), count=14):
    """A queue to work: returns made through the same domain calls shoppers and staff use,
    left in several states (requested, approved, partially received, received), sent back with
    each of the store's shipping methods in turn; approved ones have their labels (made here
    with the built-in carrier, as the worker would)."""

    manager = User.get(User.email == "manager@example.com")
    agent = User.get(User.email == "agent@example.com")
    reasons = [r for r in ReturnReason.select() if not r.requires_photo and not r.children]
    made = 0
    for order in _returnable_orders(today, exclude).order_by(Order.placed_at.desc()):
        lines = [ln for ln in order.lines.order_by(OrderLine.id) if not ln.final_sale]
        if not lines or made >= count:
            continue
        line = lines[0]
        reason = rng.choice(reasons)
        note = "Demo: please check the seams." if reason.requires_note else ""
        selection = requests.Selection(line.id, rng.randint(1, line.quantity), reason.id, note)
        methods = shipping.methods_for(order)
        method = methods[made % len(methods)] if methods else None
        rma = requests.request_return(order, order.customer, order.email, [selection],
                                      shipping_method_id=method.id if method else None)  # fmt: skip
        stage = made % 4  # 0 requested, 1 approved, 2 partially received, 3 received
        if stage >= 1:
            review.approve(rma, manager)
            if shipping.needs_label(rma):
                shipping.create_label(rma.id, BuiltinCarrier())
        if stage >= 2:
            return_line = rma.lines.get()
            units = return_line.quantity if stage == 3 else max(return_line.quantity - 1, 0)
            if units:
                receiving.receive(rma, agent, {return_line.id: (units, 0)})
        made += 1
    return made


def seed_exchanges(rng, today, exclude=()):
    """An exchange waiting for review, an exchange received and ready to ship, and a claim for
    an item missing from the parcel with its replacement ready to ship (Fulfilment)."""
    manager = User.get(User.email == "manager@example.com")
    agent = User.get(User.email == "agent@example.com")
    policy = ReturnPolicy.current()
    fit = ReturnReason.get(ReturnReason.code == "fit_large")
    missing = ReturnReason.get(ReturnReason.code == "missing")
    made = 0
    for order in _returnable_orders(today, exclude).order_by(Order.placed_at):
        lines = [ln for ln in order.lines.order_by(OrderLine.id)
                 if not ln.final_sale and ln.product_variant_id and ln.bundle_id is None]  # fmt: skip
        eligible = {e.line.id: e.returnable for e in requests.eligibility.for_order(order)}
        lines = [ln for ln in lines if eligible.get(ln.id, 0) >= 1]
        if not lines:
            continue
        line = lines[0]
        if made < 2:
            options = [o for o in catalogue.exchange_options([line], policy).get(line.id, [])
                       if o.in_stock and o.same_product]  # fmt: skip
            if not options:
                continue
            swap = requests.Selection(line.id, 1, fit.id, "", (), options[0].variant.id)
            method = next(iter(shipping.methods_for(order)), None)
            rma = requests.request_return(order, order.customer, order.email, [swap],
                                          shipping_method_id=method.id if method else None)  # fmt: skip
            if made == 1:
                review.approve(rma, manager)
                receiving.receive(rma, agent, {rma.lines.get().id: (1, 0)})
        else:
            options = catalogue.claim_options([line], policy).get(line.id, [])
            if not (options and options[0].in_stock):
                continue
            claim = requests.Selection(line.id, 1, missing.id, "Demo: it wasn't in the box.", (),
                                       line.product_variant_id)  # fmt: skip
            rma = requests.request_return(order, order.customer, order.email, [claim],
                                          kind="claim")  # fmt: skip
            review.approve(rma, manager)
        made += 1
        if made == 3:
            break
    return made

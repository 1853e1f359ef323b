"""Test data builders, all in one module (the `make` fixture is this module). They write through
the same code paths the app uses (the importer, accounts, the timeline, the outbox).

- people, orders, reasons, policy, locations: user, staff, order, reason, policy, location
- the shopper's store (a delivered order with a tee, a cap and final-sale socks, the demo's
  reasons): TEE, CAP, SOCKS, reasons, shop, png, counts
- returns written straight to the tables, for the merchant side (independent of the shopper's
  request code), and a ready-made store with staff: create_return, store, line_of, fresh
- returns and refunds for the refund worker, the Refund row and its outbox message in one
  transaction as the merchant side writes them: paid_order, make_return, make_refund,
  one_refund, refunds_for

Helpers that read pages or build form posts are in tests/pages.py."""

import datetime
import io
import itertools
import uuid
from types import SimpleNamespace

from PIL import Image

from portal.db import db
from portal.importer import parse_order, parse_product, write_order, write_product
from portal.models import (
    Counter,
    InventoryLocation,
    Order,
    OrderLine,
    OutboxMessage,
    Payment,
    Refund,
    Return,
    ReturnEvent,
    ReturnLine,
    ReturnPhoto,
    ReturnPolicy,
    ReturnReason,
    ReturnShippingMethod,
    User,
    now,
)
from portal.outbox.messages import enqueue
from portal.returns import timeline
from portal.returns.accounts import create_user
from portal.returns.review import approval_changes
from portal.seed import KEEP_ITEM, REASONS

PASSWORD = "test-pass-1234"
# One cheap hash per factory user keeps the suite fast; production uses scrypt.
HASH_METHOD = "pbkdf2:sha256:1000"
_numbers = itertools.count(1)


# --- people, orders, reasons, policy, locations -------------------------------------------------


def user(email=None, role="shopper", name="", password=PASSWORD):
    email = email or f"user{next(_numbers)}@example.com"
    return create_user(email, password, name, role, HASH_METHOD)


def staff(role="manager", email=None):
    return user(email=email or f"{role}{next(_numbers)}@example.com", role=role)


def order(customer=None, email=None, lines=None, days_ago=10, delivered=True, shipping=500,
          payments=None, number=None, invoiced=True, currency="USD", country=None):  # fmt: skip
    """An order with sensible defaults; lines are dicts (sku, quantity, unit_price, unit_tax, ...).
    `country`: a shipping address in that country (ISO alpha-2); None: no address."""
    placed_at = now().replace(microsecond=0) - datetime.timedelta(days=days_ago)
    number = number or f"T{next(_numbers):06d}"
    email = email or (customer.email if customer else "guest@example.com")
    lines = [
        dict(line) for line in (lines or [{"sku": "SKU-1", "quantity": 2, "unit_price": 1000}])
    ]
    for i, line in enumerate(lines, 1):
        line.setdefault("sku", f"SKU-{i}")
        line.setdefault("title", f"Item {i}")
        line.setdefault("quantity", 1)
        line.setdefault("unit_price", 1000)
        line.setdefault("unit_tax", 0)
        if invoiced:
            line.setdefault("invoice", f"INV-{number}")
    total = shipping + sum(ln["quantity"] * (ln["unit_price"] + ln["unit_tax"]) for ln in lines)
    if payments is None:
        payments = [{"method": "card", "reference": f"ch_{number}", "amount": total}]
    record = {
        "number": number,
        "email": email,
        "currency": currency,
        "status": "delivered" if delivered else "shipped",
        "placed_at": placed_at.isoformat(),
        "delivered_at": (placed_at + datetime.timedelta(days=2)).isoformat() if delivered else None,
        "shipping_total": shipping,
        "lines": lines,
        "payments": payments,
        "invoices": [{"number": f"INV-{number}", "kind": "sale"}] if invoiced else [],
    }
    if country is not None:
        record["shipping_address"] = {"name": "Sam Shopper", "lines": ["12 Elm Street"],
                                      "city": "Springfield", "postcode": "62701",
                                      "country": country}  # fmt: skip
    return write_order(parse_order(record))


ALL_SCOPES = ("orders:write", "returns:read", "returns:write", "refunds:write")


def api_key(scopes=ALL_SCOPES, name=None, admin=None):
    """An API key made as an admin makes one: (ApiKey, the bearer token)."""
    from portal.returns.api_keys import create_key

    made = create_key(admin or staff("admin"), name or f"Shop {next(_numbers)}", scopes)
    return made.key, made.token


def reason(code=None, label="Changed my mind", merchant_fault=False, parent=None, **flags):
    code = code or f"reason{next(_numbers)}"
    return ReturnReason.create(
        code=code, label=label, merchant_fault=merchant_fault, parent=parent, **flags
    )


_new_reason = reason  # for builders whose `reason` argument hides the function


def policy(**values):
    p = ReturnPolicy.current()
    for key, value in values.items():
        setattr(p, key, value)
    p.save()
    return p


def method(name="Prepaid label", price=495, kind="prepaid_label", countries="",
           free_for_merchant_fault=True, position=0):  # fmt: skip
    """A return shipping method (issue 14)."""
    return ReturnShippingMethod.create(name=name, price=price, kind=kind, countries=countries,
                                       free_for_merchant_fault=free_for_merchant_fault,
                                       position=position)  # fmt: skip


def location(code="MAIN", kind="sellable"):
    return InventoryLocation.create(code=code, name=code.title(), kind=kind)


def product(code, variants, title=None, location=None, active=True):
    """A catalogue product through the import: variants are (sku, options, price, tax, stock)
    with stock in `location` (a code, created as a sellable location when missing)."""
    if (
        location is not None
        and not InventoryLocation.select().where(InventoryLocation.code == location).exists()
    ):
        InventoryLocation.create(code=location, name=location.title())
    record = {
        "type": "product", "code": code, "title": title or code.title(), "active": active,
        "variants": [
            {"sku": sku, "options": options, "price": price, "tax": tax,
             **({"stock": {location: units}} if location and units is not None else {})}
            for sku, options, price, tax, units in variants
        ],
    }  # fmt: skip
    return write_product(parse_product(record))


# --- the shopper's store ------------------------------------------------------------------------

TEE = {"sku": "TEE-M", "title": "Classic tee", "quantity": 3, "unit_price": 2000, "unit_tax": 400}
CAP = {"sku": "CAP", "title": "Wool cap", "quantity": 1, "unit_price": 1500}
SOCKS = {
    "sku": "SOCKS",
    "title": "Wool socks",
    "quantity": 1,
    "unit_price": 900,
    "final_sale": True,
}


def reasons():
    """The demo store's reasons (seed.REASONS), by code."""
    by_code = {}
    for position, (code, label, parent, fault, note, photo) in enumerate(REASONS):
        by_code[code] = reason(code, label, merchant_fault=fault, parent=by_code.get(parent),
                               requires_note=note, requires_photo=photo, position=position,
                               keep_item=code in KEEP_ITEM)  # fmt: skip
    return by_code


def shop(email="sam@example.com", number="R-1001"):
    """A shopper with a delivered order: a tee (3), a cap (1) and final-sale socks (1).
    Returns (user, order, {sku: order line})."""
    shopper = user(email, name="Sam")
    placed = order(customer=shopper, lines=[TEE, CAP, SOCKS], number=number, shipping=500)
    lines = {line.sku: line for line in placed.lines.order_by(OrderLine.id)}
    return shopper, placed, lines


def png(size=(24, 24), colour="red", noise=False):
    image = Image.new("RGB", size, colour)
    if noise:
        image = Image.effect_noise(size, 90).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def counts():
    """Row counts of everything a return request writes."""
    tables = (Return, ReturnLine, ReturnPhoto, ReturnEvent, OutboxMessage, Counter)
    result = {model.__name__: model.select().count() for model in tables}
    result["order_versions"] = sum(o.version for o in Order.select(Order.version))
    return result


# --- returns for the merchant side --------------------------------------------------------------


def create_return(order, lines=None, reason=None, status="requested", reference=None,
                  resolution="refund", note=""):  # fmt: skip
    """A return on `order`: Return + ReturnLine rows with the policy snapshot, a reference and a
    "requested" ReturnEvent. lines: [(order_line, quantity, reason_or_None), ...] (default: every
    line in full, with `reason`)."""
    current = ReturnPolicy.current()
    order_lines = list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id))
    if lines is None:
        lines = [(ol, ol.quantity, None) for ol in order_lines]
    reason = reason or _new_reason()
    with db.atomic():
        rma = Return.create(
            reference=reference or f"RMA-T-{next(_numbers):05d}",
            order=order,
            requested_by=order.customer_id,
            email=order.email,
            status=status,
            resolution=resolution,
            shopper_note=note,
            currency=order.currency,
            policy_window_days=current.window_days,
            policy_restocking_fee_bps=current.restocking_fee_bps,
            policy_return_shipping_fee=current.return_shipping_fee,
        )
        for order_line, quantity, line_reason in lines:
            ReturnLine.create(rma=rma, order_line=order_line, quantity=quantity,
                              reason=line_reason or reason)  # fmt: skip
        actor = User.get_or_none(User.id == order.customer_id) if order.customer_id else None
        timeline.record(rma, "requested", actor)
    return rma


def store(quantity=3, unit_price=1000, unit_tax=0, shipping=500, payments=None, lines=None):
    """Staff (agent, two managers, admin), a shopper with a delivered order, reasons and
    locations. Returns a namespace."""
    shopper = user(f"shopper{next(_numbers)}@example.com", name="Sam Shopper")
    placed = order(
        customer=shopper,
        lines=lines or [{"sku": "TEE-M", "title": "Classic tee", "quantity": quantity,
                         "unit_price": unit_price, "unit_tax": unit_tax}],
        shipping=shipping,
        payments=payments,
    )  # fmt: skip
    return SimpleNamespace(
        shopper=shopper,
        order=placed,
        agent=staff("agent"),
        manager=staff("manager"),
        manager2=staff("manager"),
        admin=staff("admin"),
        changed_mind=reason(code=f"changed_mind{next(_numbers)}", label="Changed my mind"),
        defective=reason(
            code=f"defective{next(_numbers)}", label="Defective", merchant_fault=True
        ),  # fmt: skip
        main=location(f"MAIN{next(_numbers)}"),
        quarantine=location(f"QUAR{next(_numbers)}", kind="quarantine"),
    )


# --- a store with a catalogue, for exchanges and claims -------------------------------------------

CAT_TEE = {"sku": "TEE-M", "title": "Classic tee", "quantity": 2, "unit_price": 2500,
           "unit_tax": 500}  # fmt: skip
CAT_HOODIE = {"sku": "HOOD-GREY", "title": "Zip hoodie", "quantity": 1, "unit_price": 6900,
              "unit_tax": 1380}  # fmt: skip
CAT_MUG = {"sku": "MUG", "title": "Mug", "quantity": 1, "unit_price": 1000}


def catalogue_store():
    """A tee in M, L (2 in stock) and XL (none), a hoodie in grey and a dearer forest green, a
    cap of another product, staff, the demo's reasons, and a shopper (sam@example.com) with a
    delivered order R-2001: 2 tees M, a grey hoodie, a mug (not in the catalogue)."""
    from portal.models import Variant

    main = location("MAIN")
    policy(default_location=main.id)
    product("TEE", [("TEE-M", {"size": "M"}, 2500, 500, 5), ("TEE-L", {"size": "L"}, 2500, 500, 2),
                    ("TEE-XL", {"size": "XL"}, 2500, 500, 0)],
            title="Classic tee", location="MAIN")  # fmt: skip
    product("HOODIE", [("HOOD-GREY", {"colour": "Grey"}, 6900, 1380, 3),
                       ("HOOD-FOREST", {"colour": "Forest"}, 7900, 1580, 3)],
            title="Zip hoodie", location="MAIN")  # fmt: skip
    product("CAP", [("CAP-1", {}, 1500, 0, 4)], title="Wool cap", location="MAIN")
    shopper = user("sam@example.com", name="Sam")
    placed = order(customer=shopper, lines=[CAT_TEE, CAT_HOODIE, CAT_MUG], shipping=500,
                   number="R-2001")  # fmt: skip
    lines = {ln.sku: ln for ln in placed.lines.order_by(OrderLine.id)}
    return SimpleNamespace(
        shopper=shopper, order=placed, lines=lines, v={v.sku: v for v in Variant.select()},
        main=main, reasons=reasons(), manager=staff("manager"), manager2=staff("manager"),
        agent=staff("agent"),
    )  # fmt: skip


def line_of(rma):
    return ReturnLine.select().where(ReturnLine.rma == rma.id).order_by(ReturnLine.id).first()


def fresh(rma):
    return Return.get_by_id(rma.id)


# --- returns and refunds for the refund worker --------------------------------------------------


def paid_order(amount, gateway=None, method="card", reference=None, customer=None):
    """An order of one unit at `amount` cents, no shipping, paid in full by one payment (through
    `gateway`, or the store's default gateway when None; `reference` is the gateway's id of the
    payment, e.g. a Stripe payment intent). Returns (order, payment)."""
    payments = None
    if reference is not None or gateway is not None:
        payments = [{"method": method, "reference": reference or f"pi_{next(_numbers)}",
                     "amount": amount, **({"gateway": gateway} if gateway else {})}]  # fmt: skip
    placed = order(customer=customer, lines=[{"quantity": 1, "unit_price": amount}], shipping=0,
                   payments=payments)  # fmt: skip
    return placed, Payment.get(Payment.order == placed.id)


def make_return(order, status="received", approved_at=None, reference=None):
    """A return on `order` (no lines: the refund worker only needs the return and its order),
    with the target date approval gives it under the store's policy."""
    approved_at = approved_at if approved_at is not None else now()
    return Return.create(
        target_date=approval_changes(ReturnPolicy.current(), approved_at)["target_date"],
        reference=reference or f"RMA-T-{next(_numbers):05d}",
        order=order,
        requested_by=order.customer_id,
        email=order.email,
        status=status,
        currency=order.currency,
        policy_window_days=30,
        policy_restocking_fee_bps=0,
        policy_return_shipping_fee=0,
        approved_at=approved_at,
    )


def make_refund(rma, amount, payment=None, method=None, status="pending", key=None):
    """A refund of `amount` cents; a pending one gets its outbox message (call inside
    db.atomic(): the message is published after commit)."""
    key = key or str(uuid.uuid4())
    refund = Refund.create(
        rma=rma,
        payment=payment,
        method=method or (payment.method if payment is not None else "store_credit"),
        amount=amount,
        currency=rma.currency,
        status=status,
        idempotency_key=key,
        breakdown={"items": amount, "total": amount},
    )
    if status == "pending":
        enqueue("refund", {"refund_id": refund.id}, f"refund:{key}", rma=rma)
    return refund


def one_refund(order, payment, amount=1500, method=None):
    """A return on `order` with one pending refund of `amount`, committed (so its outbox message
    is published). Returns (rma, refund)."""
    with db.atomic():
        rma = make_return(order)
        refund = make_refund(rma, amount, payment=payment, method=method)
    return rma, refund


def refunds_for(order, count, amount, payment=None, method=None, per_return=10):
    """`count` pending refunds on `order`, `per_return` per return, created in one transaction."""
    payment = payment or Payment.get(Payment.order == order.id)
    made = []
    with db.atomic():
        rma = None
        for i in range(count):
            if i % per_return == 0:
                rma = make_return(order)
            made.append(make_refund(rma, amount, payment=payment, method=method))
    return made

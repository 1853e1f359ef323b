"""Test data builders. They write through the same code paths the app uses (importer, seed)."""

import datetime
import itertools

from portal.importer import parse_order, write_order
from portal.models import InventoryLocation, ReturnPolicy, ReturnReason, User, now
from portal.returns.accounts import create_user

PASSWORD = "test-pass-1234"
# One cheap hash per factory user keeps the suite fast; production uses scrypt.
HASH_METHOD = "pbkdf2:sha256:1000"
_numbers = itertools.count(1)


def user(email=None, role="shopper", name="", password=PASSWORD):
    email = email or f"user{next(_numbers)}@example.com"
    return create_user(email, password, name, role, HASH_METHOD)


def order(customer=None, email=None, lines=None, days_ago=10, delivered=True, shipping=500,
          payments=None, number=None, invoiced=True, currency="USD"):  # fmt: skip
    """An order with sensible defaults; lines are dicts (sku, quantity, unit_price, unit_tax, ...)."""
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
    return write_order(parse_order(record))


def reason(code=None, label="Changed my mind", merchant_fault=False, parent=None, **flags):
    code = code or f"reason{next(_numbers)}"
    return ReturnReason.create(
        code=code, label=label, merchant_fault=merchant_fault, parent=parent, **flags
    )


def policy(**values):
    p = ReturnPolicy.current()
    for key, value in values.items():
        setattr(p, key, value)
    p.save()
    return p


def location(code="MAIN", kind="sellable"):
    return InventoryLocation.create(code=code, name=code.title(), kind=kind)


def staff(role="manager", email=None):
    return user(email=email or f"{role}{next(_numbers)}@example.com", role=role)


__all__ = ["PASSWORD", "User", "user", "order", "reason", "policy", "location", "staff"]

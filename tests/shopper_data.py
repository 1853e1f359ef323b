"""Test data and small helpers for the shopper tests (tests/integration/test_shopper_*.py,
tests/browser/test_shopper_return.py)."""

import html as htmllib
import io
import re

from PIL import Image

from portal.models import (
    Counter,
    Order,
    OrderLine,
    OutboxMessage,
    Return,
    ReturnEvent,
    ReturnLine,
    ReturnPhoto,
)
from portal.seed import REASONS

TEE = {"sku": "TEE-M", "title": "Classic tee", "quantity": 3, "unit_price": 2000, "unit_tax": 400}
CAP = {"sku": "CAP", "title": "Wool cap", "quantity": 1, "unit_price": 1500}
SOCKS = {
    "sku": "SOCKS",
    "title": "Wool socks",
    "quantity": 1,
    "unit_price": 900,
    "final_sale": True,
}


def reasons(make):
    """The demo store's reasons (seed.REASONS), by code."""
    by_code = {}
    for position, (code, label, parent, fault, note, photo) in enumerate(REASONS):
        by_code[code] = make.reason(code, label, merchant_fault=fault, parent=by_code.get(parent),
                                    requires_note=note, requires_photo=photo, position=position)  # fmt: skip
    return by_code


def shop(make, email="sam@example.com", number="R-1001"):
    """A shopper with a delivered order: a tee (3), a cap (1) and final-sale socks (1)."""
    user = make.user(email, name="Sam")
    order = make.order(customer=user, lines=[TEE, CAP, SOCKS], number=number, shipping=500)
    lines = {line.sku: line for line in order.lines.order_by(OrderLine.id)}
    return user, order, lines


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


def line_indexes(html):
    """{order_line_id: form index} from the request form's hidden inputs."""
    pairs = re.findall(r'name="lines-(\d+)-order_line_id" type="hidden" value="(\d+)"', html)
    return {int(line_id): int(index) for index, line_id in pairs}


def request_data(indexes, picks, step="review", resolution="refund", note=""):
    """Form fields for the request: picks = {order_line_id: (quantity, reason_id, note)}."""
    data = {"step": step, "resolution": resolution, "shopper_note": note}
    for line_id, index in indexes.items():
        quantity, reason_id, line_note = picks.get(line_id, (0, "", ""))
        data[f"lines-{index}-order_line_id"] = str(line_id)
        data[f"lines-{index}-quantity"] = str(quantity)
        data[f"lines-{index}-reason"] = str(reason_id)
        data[f"lines-{index}-note"] = line_note
    return data


def reviewed_digest(html):
    match = re.search(r'name="reviewed" value="([0-9a-f]+)"', html)
    return match.group(1) if match else None


def errors(html):
    """Every error message on a page (field errors and the summary), as plain text."""
    found = re.findall(r'<p class="error"[^>]*>(.*?)</p>', html, re.S)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    if summary:
        found += re.findall(r"<li>(.*?)</li>", summary.group(0), re.S)
    return [htmllib.unescape(re.sub(r"\s+", " ", m).strip()) for m in found]

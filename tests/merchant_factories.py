"""Returns written straight to the tables, for the merchant tests (independent of the shopper's
request code): Return + ReturnLine rows with the policy snapshot, a reference and a "requested"
ReturnEvent, plus a ready-made store (staff, reasons, locations, an order)."""

import itertools
from types import SimpleNamespace

from portal.db import db
from portal.models import OrderLine, Return, ReturnLine, ReturnPolicy, User
from portal.returns import timeline
from tests import factories

_refs = itertools.count(1)


def create_return(order, lines=None, reason=None, status="requested", reference=None,
                  resolution="refund", note=""):  # fmt: skip
    """A return on `order`. lines: [(order_line, quantity, reason_or_None), ...] (default: every
    line in full, with `reason`)."""
    policy = ReturnPolicy.current()
    order_lines = list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id))
    if lines is None:
        lines = [(ol, ol.quantity, None) for ol in order_lines]
    reason = reason or factories.reason()
    with db.atomic():
        rma = Return.create(
            reference=reference or f"RMA-T-{next(_refs):05d}",
            order=order,
            requested_by=order.customer_id,
            email=order.email,
            status=status,
            resolution=resolution,
            shopper_note=note,
            currency=order.currency,
            policy_window_days=policy.window_days,
            policy_restocking_fee_bps=policy.restocking_fee_bps,
            policy_return_shipping_fee=policy.return_shipping_fee,
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
    shopper = factories.user(f"shopper{next(_refs)}@example.com", name="Sam Shopper")
    order = factories.order(
        customer=shopper,
        lines=lines or [{"sku": "TEE-M", "title": "Classic tee", "quantity": quantity,
                         "unit_price": unit_price, "unit_tax": unit_tax}],
        shipping=shipping,
        payments=payments,
    )  # fmt: skip
    return SimpleNamespace(
        shopper=shopper,
        order=order,
        agent=factories.staff("agent"),
        manager=factories.staff("manager"),
        manager2=factories.staff("manager"),
        admin=factories.staff("admin"),
        changed_mind=factories.reason(code=f"changed_mind{next(_refs)}", label="Changed my mind"),
        defective=factories.reason(
            code=f"defective{next(_refs)}", label="Defective", merchant_fault=True
        ),  # fmt: skip
        main=factories.location(f"MAIN{next(_refs)}"),
        quarantine=factories.location(f"QUAR{next(_refs)}", kind="quarantine"),
    )


def line_of(rma):
    return ReturnLine.select().where(ReturnLine.rma == rma.id).order_by(ReturnLine.id).first()


def fresh(rma):
    return Return.get_by_id(rma.id)


def form_data(rma_reference, prefix, fields=None):
    """POST data for an action form on the detail page, with the return's current version."""
    version = Return.get(Return.reference == rma_reference).version
    data = {f"{prefix}-version": str(version)}
    for key, value in (fields or {}).items():
        data[f"{prefix}-{key}"] = str(value)
    return data


def act(client, reference, action, fields=None, htmx=False, prefix=None):
    """Post an action form of the merchant detail page, as the browser would."""
    headers = {"HX-Request": "true"} if htmx else {}
    url = f"/merchant/returns/{reference}/{action}"
    return client.post(url, data=form_data(reference, prefix or action, fields), headers=headers)


def receive_fields(rma, units, damaged=0):
    """{line: units} or one number for a one-line return."""
    lines = list(ReturnLine.select().where(ReturnLine.rma == rma.id).order_by(ReturnLine.id))
    units = units if isinstance(units, dict) else {lines[0].id: units}
    damaged = damaged if isinstance(damaged, dict) else {lines[0].id: damaged}
    fields = {"accept_on_receipt": "y"}
    for i, line in enumerate(lines):
        fields[f"lines-{i}-line_id"] = line.id
        fields[f"lines-{i}-received"] = units.get(line.id, 0)
        fields[f"lines-{i}-damaged"] = damaged.get(line.id, 0)
    return fields

"""Refunds and returns for worker tests, written the way the merchant side writes them: the
Refund row and its outbox message in one transaction (portal.outbox.enqueue)."""

import itertools
import uuid

from portal.db import db
from portal.models import Payment, Refund, Return, now
from portal.outbox.messages import enqueue

_numbers = itertools.count(1)


def make_return(order, status="received", approved_at=None, reference=None):
    """A return on `order` (no lines: the refund worker only needs the return and its order)."""
    return Return.create(
        reference=reference or f"RMA-T-{next(_numbers):05d}",
        order=order,
        requested_by=order.customer_id,
        email=order.email,
        status=status,
        currency=order.currency,
        policy_window_days=30,
        policy_restocking_fee_bps=0,
        policy_return_shipping_fee=0,
        approved_at=approved_at if approved_at is not None else now(),
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

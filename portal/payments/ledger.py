"""The built-in payment gateway: a book of refunds (original payment, gift card, store credit).

One LedgerTransaction per idempotency key, ever (a unique index): a key seen before returns its
first reference and writes nothing, even when two workers call at the same moment. A refund
larger than what is left of the payment in the book is refused, like a real gateway would."""

import uuid

from peewee import IntegrityError, fn

from portal.db import db, is_postgres, locked
from portal.models import LedgerTransaction, Payment
from portal.payments.base import Gateway, PermanentGatewayError

PREFIX = {"card": "card", "gift_card": "gift", "store_credit": "credit"}


class LedgerGateway(Gateway):
    name = "ledger"

    def refund(self, payment, amount, currency, idempotency_key, *, order=None, method=None,
               refund_id=None, look_up=False):  # fmt: skip
        # The book never forgets a key: nothing to look up.
        if amount <= 0:
            raise PermanentGatewayError("A refund must be more than zero.")
        seen = _existing(idempotency_key, amount)
        if seen:
            return seen
        order_id = payment.order_id if payment is not None else getattr(order, "id", order)
        method = payment.method if payment is not None else (method or "store_credit")
        reference = f"ldg_{PREFIX.get(method, 'pay')}_{uuid.uuid4().hex[:20]}"
        try:
            with db.atomic():
                if payment is not None:
                    _check_room(payment, amount)
                LedgerTransaction.create(
                    idempotency_key=idempotency_key,
                    order=order_id,
                    payment=payment,
                    method=method,
                    amount=amount,
                    currency=currency,
                    reference=reference,
                )
        except IntegrityError:  # another worker wrote this key first: theirs stands
            seen = _existing(idempotency_key, amount)
            if seen:
                return seen
            raise
        return reference


def _existing(idempotency_key, amount):
    row = LedgerTransaction.get_or_none(LedgerTransaction.idempotency_key == idempotency_key)
    if row is None:
        return None
    if row.amount != amount:
        raise PermanentGatewayError(
            f"Idempotency key {idempotency_key} was used for {row.amount} cents, not {amount}."
        )
    return row.reference


def _check_room(payment, amount):
    if is_postgres():  # serialise refunds of one payment; SQLite's BEGIN IMMEDIATE already does
        locked(Payment.select(Payment.id).where(Payment.id == payment.id)).get()
    refunded = (
        LedgerTransaction.select(fn.COALESCE(fn.SUM(LedgerTransaction.amount), 0))
        .where(LedgerTransaction.payment == payment.id)
        .scalar()
    )
    if refunded + amount > payment.amount:
        raise PermanentGatewayError(
            f"Refusing to refund {amount} cents: {payment.amount - refunded} cents are left "
            f"of payment {payment.reference}."
        )

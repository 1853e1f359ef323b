"""Refund arithmetic: one pure function and its split across payments. Integer cents only.

items       = sum of accepted quantity x (unit_price + unit_tax), per refund line (an exchange
              line refunds nothing of it: Solidus's exchange items refund 0)
restocking  = restocking fee % x items of shopper-choice lines (rounded per line); on exchange
              lines only when the return's terms say so (default off)
return_ship = the price of the return shipping method chosen (the policy's single fee for a
              return without one), snapshot on the return; 0 when the method is free for
              merchant-fault reasons and a line is merchant-fault; a return of exchange lines
              only pays it when the return's terms say so (default off)
shipping    = original shipping (merchant-fault, or staff choice), at most once per order
extra       = sum of the return's extra lines (InvenTree): + a credit, - a charge
exchange    = sum of quantity x (paid - replacement) over exchange lines, where positive (a
              dearer replacement is an amount due, exchange_money.py, never taken from here)
additional  = staff-entered additional value
total       = items - restocking - return_ship + shipping + extra + exchange + additional,
              never below 0 (a charge can't take more than the refund) and
              capped at what is still refundable on the order
"""

from dataclasses import dataclass, field

from portal.returns.errors import DomainError
from portal.returns.money import percent_of, scale


@dataclass(frozen=True)
class RefundLine:
    quantity: int  # accepted (or, for an estimate, requested) units
    unit_price: int
    unit_tax: int
    merchant_fault: bool
    line_refundable: int | None = None  # what this order line can still refund (earlier returns)
    override: int | None = None  # staff-set amount for this line
    replacement: int | None = None  # an exchange line: its replacement's unit price with tax


@dataclass(frozen=True)
class RefundTerms:
    restocking_fee_bps: int
    return_shipping_fee: int
    shipping_total: int = 0
    # The method is free when a line is the store's fault (the policy's single fee always is).
    return_shipping_free_merchant_fault: bool = True
    shipping_already_refunded: bool = False
    refund_shipping: bool | None = None  # None: refund it when any line is merchant-fault
    additional: int = 0
    extra: int = 0  # the extra lines settled by this refund, signed
    order_refundable: int | None = None  # captured minus refunds already committed
    exchange_restocking_fee: bool = False  # the restocking fee applies to exchange lines too
    exchange_return_shipping: bool = False  # a return of exchange lines pays return shipping


@dataclass(frozen=True)
class LineAmount:
    items: int
    restocking: int
    amount: int  # what the line refunds: items - restocking, or the override, within its cap
    overridden: bool = False
    exchange: int = 0  # an exchange line's difference refunded (a cheaper replacement)
    unpaid_fee: int = 0  # an exchange line's fee beyond its difference: taken from the total


@dataclass(frozen=True)
class RefundBreakdown:
    lines: tuple
    items: int
    restocking: int
    return_shipping: int
    shipping: int
    additional: int
    subtotal: int  # before the cap
    total: int
    capped_by: str = ""  # why total < subtotal, in words
    extra: int = 0
    exchange: int = 0

    def as_dict(self):
        return {
            "items": self.items,
            "restocking": self.restocking,
            "return_shipping": self.return_shipping,
            "shipping": self.shipping,
            "extra": self.extra,
            "exchange": self.exchange,
            "additional": self.additional,
            "subtotal": self.subtotal,
            "total": self.total,
            "capped_by": self.capped_by,
            "lines": [line.amount for line in self.lines],
        }


def _check(line):
    if line.quantity < 0 or line.unit_price < 0 or line.unit_tax < 0:
        raise DomainError("Quantities and prices can't be negative.")
    if line.replacement is not None and line.replacement < 0:
        raise DomainError("A replacement's price can't be negative.")


def _override(line, cap):
    if line.override < 0:
        raise DomainError("A line's refund can't be negative.")
    if line.override > cap:
        raise DomainError("A line's refund can't exceed what its units were billed.")
    return line.override


def _line_amount(line, bps, exchange_fee=False):
    _check(line)
    billed = line.quantity * (line.unit_price + line.unit_tax)
    if line.replacement is not None:
        return _exchange_amount(line, billed, bps if exchange_fee else 0)
    items = billed
    restocking = 0 if line.merchant_fault else percent_of(items, bps)
    amount, overridden = items - restocking, False
    if line.override is not None:
        amount, overridden = _override(line, items), True
    if line.line_refundable is not None:
        amount = min(amount, max(line.line_refundable, 0))
    return LineAmount(items=items, restocking=items - amount if overridden else restocking,
                      amount=amount, overridden=overridden)  # fmt: skip


def _exchange_amount(line, billed, bps):
    """An exchange line refunds only its replacement's difference, when positive."""
    exchange = max(line.quantity * (line.unit_price + line.unit_tax - line.replacement), 0)
    if line.line_refundable is not None:
        exchange = min(exchange, max(line.line_refundable, 0))
    if line.override is not None:
        amount = _override(line, exchange)
        return LineAmount(items=0, restocking=exchange - amount, amount=amount, overridden=True,
                          exchange=exchange)  # fmt: skip
    restocking = 0 if line.merchant_fault else percent_of(billed, bps)
    amount = max(exchange - restocking, 0)
    return LineAmount(items=0, restocking=restocking, amount=amount, exchange=exchange,
                      unpaid_fee=restocking - (exchange - amount))  # fmt: skip


def calculate_refund(lines, terms):
    """The refund breakdown for `lines` under `terms`. Pure: no database, no clock."""
    if terms.additional < 0:
        raise DomainError("The additional value can't be negative.")
    amounts = tuple(
        _line_amount(line, terms.restocking_fee_bps, terms.exchange_restocking_fee)
        for line in lines
    )
    merchant_fault = any(line.merchant_fault for line in lines if line.quantity)
    items = sum(a.items for a in amounts)
    restocking = sum(a.restocking for a in amounts)
    line_total = sum(a.amount for a in amounts)
    refund_units = any(line.quantity and line.replacement is None for line in lines)
    exchange_units = any(line.quantity and line.replacement is not None for line in lines)
    pays_shipping = refund_units or (exchange_units and terms.exchange_return_shipping)
    free = merchant_fault and terms.return_shipping_free_merchant_fault
    if free or line_total == 0 or not pays_shipping:
        return_shipping = 0
    else:
        return_shipping = min(terms.return_shipping_fee, line_total)
    wants_shipping = merchant_fault if terms.refund_shipping is None else terms.refund_shipping
    shipping = terms.shipping_total if wants_shipping and not terms.shipping_already_refunded else 0
    unpaid_fees = sum(a.unpaid_fee for a in amounts)
    subtotal = (line_total - unpaid_fees - return_shipping + shipping + terms.extra
                + terms.additional)  # fmt: skip
    total, capped_by = subtotal, ""
    if total < 0:
        total = 0
        capped_by = "The charges are more than the refund: nothing is refunded."
    if terms.order_refundable is not None and total > terms.order_refundable:
        total = max(terms.order_refundable, 0)
        capped_by = (
            "Capped at what is still refundable on this order "
            "(the payments captured, less refunds already made or pending)."
        )
    return RefundBreakdown(
        lines=amounts,
        items=items,
        restocking=restocking,
        return_shipping=return_shipping,
        shipping=shipping,
        additional=terms.additional,
        extra=terms.extra,
        exchange=sum(a.exchange for a in amounts),
        subtotal=subtotal,
        total=total,
        capped_by=capped_by,
    )


@dataclass(frozen=True)
class PaymentRoom:
    payment_id: int
    method: str
    position: int
    refundable: int  # captured minus committed refunds on this payment


@dataclass(frozen=True)
class Allocation:
    payment_id: int | None  # None: store credit
    method: str
    amount: int


@dataclass
class Split:
    allocations: list = field(default_factory=list)

    @property
    def total(self):
        return sum(a.amount for a in self.allocations)


def split_refund(total, payments, store_credit=False):
    """Allocate `total` across payments: original card first, then gift card (or store credit)."""
    if total < 0:
        raise DomainError("A refund can't be negative.")
    if store_credit:
        return Split([Allocation(None, "store_credit", total)] if total else [])
    ordered = sorted(payments, key=lambda p: (p.method == "gift_card", p.position, p.payment_id))
    remaining, split = total, Split()
    for payment in ordered:
        if remaining == 0:
            break
        take = min(remaining, max(payment.refundable, 0))
        if take:
            split.allocations.append(Allocation(payment.payment_id, payment.method, take))
            remaining -= take
    if remaining:
        raise DomainError("The refund is larger than what the order's payments can still refund.")
    return split


# --- Withdrawal (EU Directive 2023/2673; portal.returns.withdrawal) -----------------------------


def withdrawal_delivery(shipping_paid, standard_cost, goods_withdrawn, goods_total):
    """The original delivery cost a withdrawal refunds: what the order paid for shipping, at most
    the standard delivery cost (`standard_cost` None: what was paid is standard); all of it when
    the whole order is withdrawn, else the withdrawn goods' share of it, rounded half-up."""
    if min(shipping_paid, goods_withdrawn, goods_total) < 0 or (standard_cost or 0) < 0:
        raise DomainError("Amounts can't be negative.")
    full = shipping_paid if standard_cost is None else min(shipping_paid, standard_cost)
    if goods_total == 0 or goods_withdrawn >= goods_total:
        return full
    return scale(full, goods_withdrawn, goods_total)


def withdrawal_terms(delivery, return_cost=0, shipping_already_refunded=False,
                     order_refundable=None, extra=0, additional=0):  # fmt: skip
    """The refund terms of a withdrawal: the full price of the goods (no restocking fee), the
    `delivery` share (withdrawal_delivery), and the cost of sending the goods back taken only
    when the store's terms say the shopper bears it (`return_cost`, else 0)."""
    return RefundTerms(
        restocking_fee_bps=0,
        return_shipping_fee=return_cost,
        shipping_total=delivery,
        return_shipping_free_merchant_fault=True,
        shipping_already_refunded=shipping_already_refunded,
        refund_shipping=True,
        additional=additional,
        extra=extra,
        order_refundable=order_refundable,
    )

"""Refund arithmetic: one pure function and its split across payments. Integer cents only.

items       = sum of accepted quantity x (unit_price + unit_tax), per line
restocking  = restocking fee % x items of shopper-choice lines (rounded per line)
return_ship = the price of the return shipping method chosen (the policy's single fee for a
              return without one), snapshot on the return; 0 when the method is free for
              merchant-fault reasons and a line is merchant-fault
shipping    = original shipping (merchant-fault, or staff choice), at most once per order
extra       = sum of the return's extra lines (InvenTree): + a credit, - a charge
additional  = staff-entered additional value
total       = items - restocking - return_ship + shipping + extra + additional,
              never below 0 (a charge can't take more than the refund) and
              capped at what is still refundable on the order
"""

from dataclasses import dataclass, field

from portal.returns.errors import DomainError
from portal.returns.money import percent_of


@dataclass(frozen=True)
class RefundLine:
    quantity: int  # accepted (or, for an estimate, requested) units
    unit_price: int
    unit_tax: int
    merchant_fault: bool
    line_refundable: int | None = None  # what this order line can still refund (earlier returns)
    override: int | None = None  # staff-set amount for this line


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


@dataclass(frozen=True)
class LineAmount:
    items: int
    restocking: int
    amount: int  # what the line refunds: items - restocking, or the override, within its cap
    overridden: bool = False


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

    def as_dict(self):
        return {
            "items": self.items,
            "restocking": self.restocking,
            "return_shipping": self.return_shipping,
            "shipping": self.shipping,
            "extra": self.extra,
            "additional": self.additional,
            "subtotal": self.subtotal,
            "total": self.total,
            "capped_by": self.capped_by,
            "lines": [line.amount for line in self.lines],
        }


def _line_amount(line, bps):
    if line.quantity < 0 or line.unit_price < 0 or line.unit_tax < 0:
        raise DomainError("Quantities and prices can't be negative.")
    items = line.quantity * (line.unit_price + line.unit_tax)
    restocking = 0 if line.merchant_fault else percent_of(items, bps)
    amount, overridden = items - restocking, False
    if line.override is not None:
        if line.override < 0:
            raise DomainError("A line's refund can't be negative.")
        if line.override > items:
            raise DomainError("A line's refund can't exceed what its units were billed.")
        amount, overridden = line.override, True
    if line.line_refundable is not None:
        amount = min(amount, max(line.line_refundable, 0))
    return LineAmount(items=items, restocking=items - amount if overridden else restocking,
                      amount=amount, overridden=overridden)  # fmt: skip


def calculate_refund(lines, terms):
    """The refund breakdown for `lines` under `terms`. Pure: no database, no clock."""
    if terms.additional < 0:
        raise DomainError("The additional value can't be negative.")
    amounts = tuple(_line_amount(line, terms.restocking_fee_bps) for line in lines)
    merchant_fault = any(line.merchant_fault for line in lines if line.quantity)
    items = sum(a.items for a in amounts)
    restocking = sum(a.restocking for a in amounts)
    line_total = sum(a.amount for a in amounts)
    free = merchant_fault and terms.return_shipping_free_merchant_fault
    return_shipping = 0 if free or line_total == 0 else terms.return_shipping_fee
    return_shipping = min(return_shipping, line_total)
    wants_shipping = merchant_fault if terms.refund_shipping is None else terms.refund_shipping
    shipping = terms.shipping_total if wants_shipping and not terms.shipping_already_refunded else 0
    subtotal = line_total - return_shipping + shipping + terms.extra + terms.additional
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

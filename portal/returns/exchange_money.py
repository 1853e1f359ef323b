"""Exchange money: what a replacement costs the shopper, and how its difference with what was
paid splits into money refunded, bonus credit, what the store absorbs and what is due. Pure:
integer cents, no database, no clock.

Per exchange line, difference = quantity x (paid per returned unit - replacement per unit),
prices with tax:

- a cheaper replacement: the difference is refunded (the refund calculation's "exchange" row,
  with the return's refund);
- a dearer one: the difference is owed by the shopper, never taken from the refund of other
  lines. The return's exchange bonus covers it first (credit: it is never paid out as money, and
  whatever is left of it is not kept), then what the store absorbs (up to its "we absorb up to"
  setting), and the rest is due: the replacement ships once it is paid.

So, per line and in total: refunded - (credited + absorbed + due) = difference, every part is
zero or more, refunded is at most what was paid and due at most what the replacement costs.
"""

from dataclasses import dataclass

from portal.returns.errors import DomainError
from portal.returns.money import scale


@dataclass(frozen=True)
class ExchangeLine:
    quantity: int
    paid: int  # paid per returned unit, tax included (after the shop's allocated discounts)
    replacement: int  # the replacement's price per unit for this shopper, tax included


@dataclass(frozen=True)
class LineSplit:
    difference: int  # quantity x (paid - replacement): + the shopper gets money back
    refunded: int
    credited: int
    absorbed: int
    due: int


@dataclass(frozen=True)
class ExchangeSplit:
    lines: tuple  # LineSplit per ExchangeLine, in order
    bonus: int  # the bonus on offer
    absorb_up_to: int

    @property
    def difference(self):
        return sum(line.difference for line in self.lines)

    @property
    def refunded(self):
        return sum(line.refunded for line in self.lines)

    @property
    def credited(self):
        return sum(line.credited for line in self.lines)

    @property
    def absorbed(self):
        return sum(line.absorbed for line in self.lines)

    @property
    def due(self):
        return sum(line.due for line in self.lines)

    @property
    def bonus_unused(self):
        return self.bonus - self.credited


def _whole(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(f"{what} must be a whole number of zero or more.")
    return value


def split_exchange(lines, bonus=0, absorb_up_to=0):
    """The money of a return's exchange lines: bonus first, then what the store absorbs, then
    due, applied to the dearer lines in order."""
    bonus_left = _whole(bonus, "The exchange bonus")
    absorb_left = _whole(absorb_up_to, "What the store absorbs")
    splits = []
    for line in lines:
        quantity = _whole(line.quantity, "A quantity")
        paid = _whole(line.paid, "A price paid")
        replacement = _whole(line.replacement, "A replacement's price")
        difference = quantity * (paid - replacement)
        owed = max(-difference, 0)
        credited = min(bonus_left, owed)
        bonus_left -= credited
        absorbed = min(absorb_left, owed - credited)
        absorb_left -= absorbed
        splits.append(LineSplit(difference=difference, refunded=max(difference, 0),
                                credited=credited, absorbed=absorbed,
                                due=owed - credited - absorbed))  # fmt: skip
    return ExchangeSplit(tuple(splits), bonus, absorb_up_to)


@dataclass(frozen=True)
class Price:
    price: int  # per unit, tax excluded
    tax: int

    @property
    def total(self):
        return self.price + self.tax


def replacement_price(paid, returned, chosen, same_product):
    """What one unit of the `chosen` variant costs the shopper who paid `paid` (a Price) for a
    unit of the `returned` variant (its catalogue Price, or None when the order line isn't in
    the catalogue).

    Another product ("shop the catalogue") costs its catalogue price. A variant of the same
    product keeps the shopper's deal: what they paid, scaled by the two variants' catalogue
    prices, so a size swap at the same list price is even however much discount the order had
    (and a dearer size costs its share more)."""
    if not same_product or returned is None or returned.total == 0:
        return Price(chosen.price, chosen.tax)
    if chosen.total == returned.total:
        return Price(paid.price, paid.tax)
    total = scale(paid.total, chosen.total, returned.total)
    tax = scale(total, chosen.tax, chosen.total) if chosen.total else 0
    return Price(total - tax, tax)

"""The return invoice (credit note) number of a return (VTEX: it never equals a sale invoice's
number). Staff may enter one with the refund (refunding._return_invoice); when the first refund
succeeds without one, the portal issues the next number of its own pattern."""

from portal.db import db, is_postgres
from portal.models import Counter, Invoice, Return, now
from portal.returns import timeline

PATTERN = "CN-{year}-{seq:05d}"


def _take(name):
    """The counter's next value. On PostgreSQL one statement, an UPDATE ... RETURNING, whose row
    lock every other issuer waits for until this transaction commits (so the numbers have no
    gaps): the fewer statements after it, the shorter they wait. An upsert there (INSERT ... ON
    CONFLICT) under that contention took most of a refund's time. The first number of a year
    (no row yet), and SQLite (writers are serialised already), take the upsert."""
    if is_postgres():
        taken = (
            Counter.update(value=Counter.value + 1)
            .where(Counter.name == name)
            .returning(Counter.value)
            .tuples()
            .execute()
        )
        for (value,) in taken:
            return value
    (
        Counter.insert(name=name, value=1)
        .on_conflict(conflict_target=[Counter.name], update={Counter.value: Counter.value + 1})
        .execute()
    )
    return Counter.select(Counter.value).where(Counter.name == name).scalar()


def _next_number(at):
    name = f"return-invoice:{at.year}"
    for _ in range(1000):
        number = PATTERN.format(year=at.year, seq=_take(name))
        if not Invoice.select().where(Invoice.number == number).exists():
            return number
    raise RuntimeError("no free return invoice number is left")


def issue(rma_id, at=None):
    """Give the return a return invoice number if it has none (its own transaction, after the
    refund's: no lock on the refund is held). A compare-and-set on the empty number: two workers
    at once issue one number. Returns the return's number."""
    at = at or now()
    with db.atomic():
        rma = Return.get_by_id(rma_id)
        if rma.return_invoice_number:
            return rma.return_invoice_number
        number = _next_number(at)
        updated = (
            Return.update(return_invoice_number=number)
            .where((Return.id == rma.id) & Return.return_invoice_number.is_null())
            .execute()
        )
        if not updated:  # another worker issued one a moment ago: theirs stands
            return Return.get_by_id(rma_id).return_invoice_number
        Invoice.create(order=rma.order_id, number=number, kind="return", issued_at=at)
        timeline.record(rma, "return_invoice_issued", None, number=number)
        return number

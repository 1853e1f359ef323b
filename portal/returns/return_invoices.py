"""The return invoice (credit note) number of a return (VTEX: it never equals a sale invoice's
number). Staff may enter one with the refund (refunding._return_invoice); when the first refund
succeeds without one, the portal issues the next number of its own pattern."""

from portal.db import db, is_postgres, locked
from portal.models import Counter, Invoice, Return, now
from portal.prebuilt import prebuilt_rows
from portal.returns import timeline

PATTERN = "CN-{year}-{seq:05d}"


def _take(name):
    """The counter's next value (the year's first: no row yet; and SQLite, whose writers are
    serialised already): an upsert, then the value."""
    (
        Counter.insert(name=name, value=1)
        .on_conflict(conflict_target=[Counter.name], update={Counter.value: Counter.value + 1})
        .execute()
    )
    return Counter.select(Counter.value).where(Counter.name == name).scalar()


# PostgreSQL: the next number and everything written with it in ONE statement. Taking the
# counter locks its row until the transaction commits (so the numbers have no gaps), and every
# other worker issuing a number waits for it: with one statement and the commit after the
# lock instead of seven (an upsert, a select, the checks and the three writes, each a round trip
# through a busy worker), refunds on the bench went from 42 to over 80 per second. Empty
# `written` and a `taken` number: that number is in use (staff entered it), or the return got
# one meanwhile; no `taken`: the year has no counter row yet.
ISSUE_SQL = """
WITH taken AS (
    UPDATE counter SET value = value + 1 WHERE name = %(name)s RETURNING value
), numbered AS (
    SELECT %(prefix)s || CASE WHEN value < 100000 THEN lpad(value::text, 5, '0')
                              ELSE value::text END AS number
    FROM taken
), written AS (
    UPDATE "return" SET return_invoice_number = numbered.number FROM numbered
    WHERE "return".id = %(rma)s AND "return".return_invoice_number IS NULL
      AND NOT EXISTS (SELECT 1 FROM invoice WHERE invoice.number = numbered.number)
    RETURNING numbered.number
), invoiced AS (
    INSERT INTO invoice (order_id, number, kind, issued_at)
    SELECT %(order)s, number, 'return', %(at)s FROM written
    RETURNING number
), recorded AS (
    INSERT INTO return_event (rma_id, actor_id, kind, payload, internal, created_at)
    SELECT %(rma)s, NULL, 'return_invoice_issued', '{"number": "' || number || '"}', false,
           %(recorded_at)s
    FROM invoiced
)
SELECT (SELECT number FROM numbered), (SELECT number FROM invoiced)
"""


def _issue_postgres(rma, at):
    """(the number issued or None, whether the counter had a row): one statement per try."""
    for _ in range(1000):
        params = {"name": f"return-invoice:{at.year}", "prefix": f"CN-{at.year}-", "rma": rma.id,
                  "order": rma.order_id, "at": at, "recorded_at": now()}  # fmt: skip
        taken, issued = db.execute_sql(ISSUE_SQL, params).fetchone()
        if issued or taken is None:
            return issued, taken is not None
        current = Return.select(Return.return_invoice_number).where(Return.id == rma.id).scalar()
        if current:  # another worker issued one a moment ago: theirs stands
            return current, True
    raise RuntimeError("no free return invoice number is left")


def _next_number(at):
    name = f"return-invoice:{at.year}"
    for _ in range(1000):
        number = PATTERN.format(year=at.year, seq=_take(name))
        if not Invoice.select().where(Invoice.number == number).exists():
            return number
    raise RuntimeError("no free return invoice number is left")


def _locked_return(rma_id):
    """What issuing reads of the return (its row locked on PostgreSQL), built once per process."""
    return locked(
        Return.select(Return.id, Return.order, Return.return_invoice_number)
        .where(Return.id == rma_id)
        .limit(1)
    )


def issue(rma_id, at=None):
    """Give the return a return invoice number if it has none (its own transaction, after the
    refund's: no lock on the refund is held). A compare-and-set on the empty number: two workers
    at once issue one number. Returns the return's number."""
    at = at or now()
    with db.atomic():
        # The return's row first (PostgreSQL): a second worker issuing for the same return
        # waits here and then finds the number, instead of taking (and wasting) one.
        found = prebuilt_rows("return-locked-for-invoice", _locked_return, rma_id=rma_id)
        if not found:
            raise Return.DoesNotExist(f"no return {rma_id}")
        rma = found[0]
        if rma.return_invoice_number:
            return rma.return_invoice_number
        if is_postgres():
            number, counted = _issue_postgres(rma, at)
            if counted:
                return number
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

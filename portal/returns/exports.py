"""Exports of the returns: CSV rows of the queue (its filters and tab) and the ICS calendar of
their target dates. Both stream: the returns are read in chunks by id (keyset pagination, a
fixed number of queries per chunk), so 100,000 rows never sit in memory at once
(bench/export_memory.py measures it)."""

import datetime

from peewee import fn

from portal.models import Order, Refund, Return, ReturnLine, now
from portal.returns import queue, refund_states, states

CHUNK = 1000
EXPORT_HEADER = ("reference", "order", "email", "status", "requested_at", "units", "received",
                 "refund_cents", "refund_kind", "currency")  # fmt: skip


def export_values(rows):
    """CSV values of returns (Return rows): units and refunds read in two queries."""
    by_id = {rma.id: rma for rma in rows}
    if not by_id:
        return
    units = {rma_id: [0, 0] for rma_id in by_id}
    for rma_id, qty, received in (
        ReturnLine.select(ReturnLine.rma, ReturnLine.quantity, ReturnLine.received_quantity)
        .where(ReturnLine.rma.in_(list(by_id)))
        .tuples()
    ):
        units[rma_id][0] += qty
        units[rma_id][1] += received
    refunded = {}
    for rma_id, amount in (
        Refund.select(Refund.rma, fn.SUM(Refund.amount))
        .where(Refund.rma.in_(list(by_id)) & (Refund.status != refund_states.CANCELLED))
        .group_by(Refund.rma)
        .tuples()
    ):
        refunded[rma_id] = int(amount)
    numbers = {rma.id: getattr(rma, "order_number", None) for rma in rows}
    missing = {rma.order_id for rma in rows if numbers[rma.id] is None}
    if missing:
        found = dict(Order.select(Order.id, Order.number).where(Order.id.in_(list(missing)))
                     .tuples())  # fmt: skip
        numbers.update(
            {rma.id: found.get(rma.order_id, "") for rma in rows if rma.order_id in missing}
        )
    for rma in rows:
        amount = refunded.get(rma.id)
        kind = "actual" if amount is not None else "estimated"
        if amount is None:
            amount = rma.estimated_refund
        yield (rma.reference, numbers[rma.id], rma.email, rma.status, rma.created_at.isoformat(),
               *units[rma.id], "" if amount is None else amount, kind, rma.currency)  # fmt: skip


def chunks(query, size=CHUNK):
    """`query`'s rows (Return.id among its columns) a chunk at a time, by ascending id."""
    last = 0
    while True:
        rows = list(query.where(Return.id > last).order_by(Return.id).limit(size))
        if not rows:
            return
        yield rows
        last = rows[-1].id


def queue_rows(filters, size=CHUNK):
    """The CSV of the queue as shown (its filters and tab), header first, in chunks of `size`."""
    base = Return.select(Return, Order.number.alias("order_number")).join(Order)
    yield EXPORT_HEADER
    for rows in chunks(queue.matching(filters, base).objects(), size):
        yield from export_values(rows)


# --- the calendar of target dates -----------------------------------------------------------------

OPEN_STATUSES = (states.REQUESTED, states.APPROVED, states.PARTIALLY_RECEIVED, states.RECEIVED,
                 states.ON_HOLD)  # fmt: skip


def _escape(text):
    return (str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r", "").replace("\n", "\\n"))  # fmt: skip


def _fold(line):
    """RFC 5545: lines of at most 75 octets, continued with a space."""
    data = line.encode()
    parts = []
    while len(data) > 75:
        cut = 75 if not parts else 74
        while cut and (data[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
    parts.append(data)
    return b"\r\n ".join(parts).decode() + "\r\n"


def calendar_lines(public_url, include_completed=False, size=CHUNK):
    """The ICS feed of returns' target dates (the day a parcel is due back), as text lines:
    open returns, and completed ones only with `include_completed` (InvenTree's rule)."""
    wanted = OPEN_STATUSES + ((states.COMPLETED,) if include_completed else ())
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    yield from map(_fold, ("BEGIN:VCALENDAR", "VERSION:2.0",
                           "PRODID:-//Returns Portal//Return target dates//EN",
                           "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
                           "X-WR-CALNAME:Returns due back"))  # fmt: skip
    query = (
        Return.select(Return.id, Return.reference, Return.status, Return.target_date,
                      Return.email, Order.number.alias("order_number"))
        .join(Order)
        .where(Return.target_date.is_null(False) & Return.status.in_(wanted))
        .objects()
    )  # fmt: skip
    for rows in chunks(query, size):
        for rma in rows:
            day = rma.target_date
            label = states.LABELS.get(rma.status, rma.status)
            for line in (
                "BEGIN:VEVENT",
                f"UID:return-{rma.id}@returns-portal",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + datetime.timedelta(days=1):%Y%m%d}",
                f"SUMMARY:{_escape(f'{rma.reference} due back ({label})')}",
                f"DESCRIPTION:{_escape(f'Order #{rma.order_number}, {rma.email}. {label}.')}",
                f"URL:{public_url.rstrip('/')}/merchant/returns/{rma.reference}",
                "END:VEVENT",
            ):
                yield _fold(line)
    yield _fold("END:VCALENDAR")

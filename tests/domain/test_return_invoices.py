"""Return invoice (credit note) numbers: the year's first from an empty counter, the next ones
from its row (on PostgreSQL an UPDATE ... RETURNING), a number staff already used skipped, and
a return keeps the number it has. On SQLite and PostgreSQL."""

import datetime
import threading

import pytest

from portal.db import db
from portal.models import Counter, Invoice, Return, ReturnEvent
from portal.returns import return_invoices
from tests import factories

AT = datetime.datetime(2026, 3, 4, 12, 0)


def _return():
    order, _payment = factories.paid_order(1000)
    return factories.make_return(order)


def test_numbers_follow_each_other_and_skip_one_in_use(any_app):
    with any_app.app_context():
        first, second, third = _return(), _return(), _return()
        assert return_invoices.issue(first.id, at=AT) == "CN-2026-00001"
        assert return_invoices.issue(second.id, at=AT) == "CN-2026-00002"
        Invoice.create(order=third.order_id, number="CN-2026-00003", kind="return", issued_at=AT)
        assert return_invoices.issue(third.id, at=AT) == "CN-2026-00004"
        assert return_invoices.issue(first.id, at=AT) == "CN-2026-00001"  # kept, none taken
        assert Counter.get(Counter.name == "return-invoice:2026").value == 4
        assert Return.get_by_id(third.id).return_invoice_number == "CN-2026-00004"
        issued = ReturnEvent.select().where(ReturnEvent.kind == "return_invoice_issued")
        assert sorted(e.payload["number"] for e in issued) == [
            "CN-2026-00001", "CN-2026-00002", "CN-2026-00004"
        ]  # fmt: skip
        assert return_invoices.issue(_return().id, at=AT.replace(year=2027)) == "CN-2027-00001"


@pytest.mark.postgres
def test_workers_issuing_at_once_on_postgres_get_one_number_each_without_gaps(pg_app):
    """Twelve threads at once, two of them per return: each return gets one number, one
    invoice and one event; the numbers are 1 to 6 of the year, in use once each."""
    with pg_app.app_context():
        return_invoices.issue(_return().id, at=AT)  # the year's counter row exists
        returns = [_return().id for _ in range(6)]
    barrier = threading.Barrier(12)
    issued, failures = [], []

    def run(rma_id):
        with pg_app.app_context(), db.connection_context():
            barrier.wait(timeout=60)
            try:
                issued.append((rma_id, return_invoices.issue(rma_id, at=AT)))
            except Exception as exc:  # a deadlock or a unique violation would surface here
                failures.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in returns * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    with pg_app.app_context():
        numbers = {r: Return.get_by_id(r).return_invoice_number for r in returns}
        assert sorted(issued) == sorted((r, numbers[r]) for r in returns * 2)
        invoices = [i.number for i in Invoice.select().where(Invoice.kind == "return")]
        assert sorted(invoices) == [f"CN-2026-{n:05d}" for n in range(1, 8)]
        events = ReturnEvent.select().where(ReturnEvent.kind == "return_invoice_issued")
        assert sorted(e.rma_id for e in events if e.rma_id in numbers) == sorted(returns)

"""Return invoice (credit note) numbers: the year's first from an empty counter, the next ones
from its row (on PostgreSQL an UPDATE ... RETURNING), a number staff already used skipped, and
a return keeps the number it has. On SQLite and PostgreSQL."""

import datetime

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

"""The refund worker on PostgreSQL, where the refund row lock is SELECT ... FOR UPDATE: many
threads delivering and executing the same refunds at once, and a real worker doing a batch."""

import collections
import threading

import pytest

from portal.db import db
from portal.models import LedgerTransaction, OutboxMessage, Payment, Refund
from portal.outbox.delivery import deliver
from portal.returns.refund_execution import execute_refund
from tests import refund_factories as rf
from tests.workers import wait_until

pytestmark = pytest.mark.postgres
LEDGER = {"PAYMENT_GATEWAY": "ledger"}


@pytest.fixture
def app(pg_app):
    return pg_app


def order_with_payment(make, captured=1_000_000):
    order = make.order(lines=[{"quantity": 1, "unit_price": captured}], shipping=0)
    return order, Payment.get(Payment.order == order.id)


def test_threads_racing_on_the_same_refunds_book_each_once(app, make):
    with app.app_context():
        order, payment = order_with_payment(make)
        refunds = rf.refunds_for(order, 5, 1000, payment=payment)
        messages = {m.payload["refund_id"]: m.id for m in OutboxMessage.select()}
    outcomes = collections.Counter()
    barrier = threading.Barrier(20)

    def race(refund):
        with app.app_context(), db.connection_context():
            barrier.wait(timeout=60)
            for fn in (lambda: deliver(messages[refund.id], app.config),
                       lambda: execute_refund(refund.id, LEDGER)):  # fmt: skip
                try:
                    outcomes[fn()] += 1
                except Exception as exc:
                    outcomes[exc.__class__.__name__] += 1

    threads = [threading.Thread(target=race, args=(r,)) for r in refunds for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with app.app_context():
        assert {r.status for r in Refund.select()} == {"succeeded"}
        book = collections.Counter(t.idempotency_key for t in LedgerTransaction.select())
        assert book == {r.idempotency_key: 1 for r in refunds}
        assert all(r.attempts == 1 for r in Refund.select())
    assert outcomes["succeeded"] + outcomes["sent"] == 5, outcomes


def test_a_worker_on_postgres_carries_out_a_batch_once(app, make, celery_worker):
    with app.app_context():
        order, payment = order_with_payment(make)
        refunds = rf.refunds_for(order, 50, 700, payment=payment)
        wait_until(lambda: Refund.select().where(Refund.status == "succeeded").count() == 50,
                   60, 0.2, "50 refunds")  # fmt: skip
        book = collections.Counter(t.idempotency_key for t in LedgerTransaction.select())
        assert book == {r.idempotency_key: 1 for r in refunds}

"""The refund worker on PostgreSQL, where the refund row lock is SELECT ... FOR UPDATE: a real
worker doing a batch. (Many threads racing on the same refunds, without a worker, are in
tests/domain/test_refund_concurrency.py.)"""

import collections

import pytest

from portal.models import LedgerTransaction, Refund
from tests import factories
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres
LEDGER = {"PAYMENT_GATEWAY": "ledger"}


@pytest.fixture
def app(pg_app):
    return pg_app


def order_with_payment(make, captured=1_000_000):
    return make.paid_order(captured)


def test_a_worker_on_postgres_carries_out_a_batch_once(app, make, celery_worker):
    with app.app_context():
        order, payment = order_with_payment(make)
        refunds = factories.refunds_for(order, 50, 700, payment=payment)
        wait_until(lambda: Refund.select().where(Refund.status == "succeeded").count() == 50,
                   60, 0.2, "50 refunds")  # fmt: skip
        book = collections.Counter(t.idempotency_key for t in LedgerTransaction.select())
        assert book == {r.idempotency_key: 1 for r in refunds}

"""Many threads delivering and executing the same refunds at once, with no worker: the outbox
claim and the refund's row lock (SELECT ... FOR UPDATE on PostgreSQL) let one of them reach the
gateway, once per idempotency key. The worker doing the same is tests/workers."""

import collections
import threading

import pytest

from portal.db import db
from portal.models import LedgerTransaction, OutboxMessage, Refund
from portal.outbox.delivery import deliver
from portal.returns.refund_execution import execute_refund
from tests.apps import close_db, make_app
from tests.fake_stripe import API_KEY

LEDGER = {"PAYMENT_GATEWAY": "ledger"}


@pytest.fixture
def app(tmp_path, fake_stripe):
    """The app with the local Stripe as its gateway (the delivering threads read its config)."""
    app = make_app(tmp_path, STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_stripe.url,
                   STRIPE_TIMEOUT=10, OUTBOX_BACKOFF_BASE=0.05, OUTBOX_MAX_ATTEMPTS=4)  # fmt: skip
    yield app
    close_db()


def test_the_same_refund_delivered_many_times_at_once_reaches_the_gateway_once(ctx, make,
                                                                              fake_stripe):  # fmt: skip
    """No worker: eight threads deliver the same outbox message at once, and eight
    more call execute_refund directly (skipping the outbox claim) on a second refund. The
    gateway (a slow local Stripe) sees one request per idempotency key."""
    order, payment = make.paid_order(100_000, "stripe", reference="pi_test_42")
    fake_stripe.delay = 0.3
    _, first = make.one_refund(order, payment, amount=1000)
    _, second = make.one_refund(order, payment, amount=2000)
    message = OutboxMessage.get(OutboxMessage.payload == {"refund_id": first.id})
    config = ctx.config
    outcomes = collections.Counter()
    barrier = threading.Barrier(16)

    def run(fn):
        with ctx.app_context(), db.connection_context():
            barrier.wait(timeout=60)
            try:
                outcomes[fn()] += 1
            except Exception as exc:  # RefundBusy: the other thread has it
                outcomes[exc.__class__.__name__] += 1

    threads = [
        threading.Thread(target=run, args=(lambda: deliver(message.id, config),)) for _ in range(8)
    ]
    threads += [
        threading.Thread(target=run, args=(lambda: execute_refund(second.id, config),))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert (
        Refund.get_by_id(first.id).status == "succeeded"
        and Refund.get_by_id(second.id).status == "succeeded"
    )
    assert fake_stripe.requests_per_key() == {first.idempotency_key: 1, second.idempotency_key: 1}
    assert fake_stripe.executions_per_key() == {first.idempotency_key: 1,
                                                second.idempotency_key: 1}  # fmt: skip
    assert outcomes["sent"] == 1 and outcomes["skipped"] == 7
    assert outcomes["succeeded"] == 1 and outcomes["RefundBusy"] + outcomes["nothing to do"] == 7
    assert Refund.get_by_id(first.id).attempts == 1 and Refund.get_by_id(second.id).attempts == 1


@pytest.mark.postgres
def test_threads_racing_on_the_same_refunds_book_each_once(pg_app, make):
    app = pg_app
    with app.app_context():
        order, payment = make.paid_order(1_000_000)
        refunds = make.refunds_for(order, 5, 1000, payment=payment)
        messages = {m.payload["refund_id"]: m.id for m in OutboxMessage.select()}
    outcomes = collections.Counter()
    counting = threading.Lock()  # Counter's += is not atomic across 20 threads
    barrier = threading.Barrier(20)

    def race(refund):
        with app.app_context(), db.connection_context():
            barrier.wait(timeout=60)
            for fn in (lambda: deliver(messages[refund.id], app.config),
                       lambda: execute_refund(refund.id, LEDGER)):  # fmt: skip
                try:
                    outcome = fn()
                except Exception as exc:
                    outcome = exc.__class__.__name__
                with counting:
                    outcomes[outcome] += 1

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
    # Each refund was carried out exactly once (the book and the attempts above). A delivery
    # whose handler finds its refund already carried out by a direct call ("nothing to do")
    # is "sent" too, so sent + succeeded is at least 5, not always exactly 5.
    assert outcomes["succeeded"] <= 5 and outcomes["succeeded"] + outcomes["sent"] >= 5, outcomes
    assert sum(outcomes.values()) == 40
    assert set(outcomes) <= {"succeeded", "sent", "skipped", "retry", "nothing to do",
                             "RefundBusy"}, outcomes  # fmt: skip

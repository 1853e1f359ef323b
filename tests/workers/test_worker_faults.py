"""Faults with real worker PROCESSES (`celery -A tests.worker_app:celery_app worker`), a real
beat, a real Redis and a local Stripe endpoint: two workers racing on the same refunds, and a
worker SIGKILLed in the middle of a refund. Timings (lease, stale timeout, sweep) are short."""

import pytest

from portal.db import db
from portal.models import (
    LedgerTransaction,
    OutboxMessage,
    Refund,
    ReturnEvent,
)
from tests import factories, hold_gateway
from tests.apps import make_app
from tests.fake_stripe import API_KEY
from tests.processes import Processes, wait_for_log
from tests.waiting import queued_tasks, wait_until

pytestmark = pytest.mark.slow  # worker processes started, raced and killed: ~5 s each


@pytest.fixture
def timings():
    """Overridden per test where needed."""
    return {
        "OUTBOX_LEASE_SECONDS": 2,
        "REFUND_STALE_SECONDS": 3,
        "REFUND_LEASE_SECONDS": 2,
        "OUTBOX_SWEEP_SECONDS": 1,
        "OUTBOX_SWEEP_GRACE_SECONDS": 0.5,
        "OUTBOX_BACKOFF_BASE": 0.2,
    }


@pytest.fixture
def app(tmp_path, redis_url, fake_stripe, timings):
    app = make_app(tmp_path, redis_url, STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_stripe.url,
                   **timings)  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def procs(tmp_path, app, redis_url, fake_stripe, timings):
    env = {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": redis_url,
        "PORTAL_INSTANCE": app.instance_path,
        "PORTAL_DOTENV": str(tmp_path / "no.env"),
        "SECRET_KEY": "test-secret",
        "MAIL_DIR": str(tmp_path / "mail"),
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": fake_stripe.url,
        "STRIPE_TIMEOUT": 30,
        "HOLD_DIR": str(tmp_path),
        **timings,
    }
    processes = Processes(tmp_path, env)
    yield processes
    processes.stop_all()


def shop(make, gateway, amount=1_000_000):
    return make.paid_order(amount, gateway, reference="pi_fault_1")


def status_of(refund):
    return Refund.get_by_id(refund.id).status


# The gateway call (3 s) outlives both leases many times over: renewed, neither runs out.
RACE = {"OUTBOX_LEASE_SECONDS": 0.5, "REFUND_STALE_SECONDS": 60, "REFUND_LEASE_SECONDS": 0.6,
        "OUTBOX_SWEEP_SECONDS": 0.5,
        "OUTBOX_SWEEP_GRACE_SECONDS": 0.1, "OUTBOX_BACKOFF_BASE": 0.2}  # fmt: skip


@pytest.mark.parametrize("timings", [RACE])
def test_two_worker_processes_racing_on_one_refund_reach_the_gateway_once(
    ctx, make, procs, fake_stripe
):
    """The gateway takes 3 s; the outbox lease is 0.5 s and beat re-publishes every 0.5 s, so
    while one worker is at the gateway the other gets the same message again and again (and
    three more copies published by hand). The claims send it away each time."""
    from celery import current_app

    procs.beat()
    procs.worker("w1")
    procs.worker("w2")
    fake_stripe.delay = 3.0
    order, payment = shop(make, "stripe")
    [refund] = factories.refunds_for(order, 1, 500, payment=payment)
    message = OutboxMessage.get(OutboxMessage.kind == "refund")
    for _ in range(3):
        current_app.send_task("tasks.outbox.deliver", args=[message.id], ignore_result=True)

    wait_until(lambda: status_of(refund) == "succeeded", 60, 0.2, "refund succeeded")
    assert fake_stripe.requests_per_key() == {refund.idempotency_key: 1}, procs.logs()
    assert fake_stripe.executions_per_key() == {refund.idempotency_key: 1}
    assert Refund.get_by_id(refund.id).attempts == 1
    assert ReturnEvent.select().where(ReturnEvent.kind == "refund_succeeded").count() == 1

    # one worker was at the gateway while the other found the refund already processing (the
    # winner logs "succeeded" a moment after committing it: wait for the line, don't race it)
    def worker_logs():
        return [p.log_path.read_text() for p in procs.started if p.log_path.name != "beat.log"]

    def sent_in(logs):
        return [t for t in logs if f"refund {refund.id} (return" in t and "succeeded:" in t]

    wait_until(lambda: sent_in(worker_logs()), 10, 0.1, "the winner's log line")
    logs = worker_logs()
    # (the outbox lease, renewed while the gateway call runs, turns the copies away at the
    # claim, "skipped"; the refund's own lease would, "being processed by another worker")
    busy = [text for text in logs
            if "being processed by another worker" in text or ": 'skipped'" in text]  # fmt: skip
    sent = sent_in(logs)
    assert len(busy) == 1 and len(sent) == 1 and busy != sent, procs.logs()


@pytest.mark.parametrize("timings", [RACE])
def test_two_worker_processes_with_many_duplicate_deliveries_pay_each_refund_once(
    ctx, make, procs, fake_stripe
):
    """Eight refunds, each published four times, two workers, beat re-publishing every 0.5 s
    while the gateway takes 1 s per refund: one request per idempotency key."""
    from celery import current_app

    procs.beat()
    procs.worker("w1")
    procs.worker("w2")
    fake_stripe.delay = 1.0
    order, payment = shop(make, "stripe")
    refunds = factories.refunds_for(order, 8, 500, payment=payment, per_return=4)
    for message in OutboxMessage.select().where(OutboxMessage.kind == "refund"):
        for _ in range(3):
            current_app.send_task("tasks.outbox.deliver", args=[message.id], ignore_result=True)

    wait_until(lambda: all(status_of(r) == "succeeded" for r in refunds), 90, 0.2, "refunds")
    keys = {r.idempotency_key for r in refunds}
    assert fake_stripe.requests_per_key() == {key: 1 for key in keys}, procs.logs()
    assert fake_stripe.executions_per_key() == {key: 1 for key in keys}
    assert all(Refund.get_by_id(r.id).attempts == 1 for r in refunds)
    assert ReturnEvent.select().where(ReturnEvent.kind == "refund_succeeded").count() == 8
    logs = {p.log_path.name: p.log_path.read_text() for p in procs.started}
    assert all("succeeded:" in logs[name] for name in ("w1.log", "w2.log")), procs.logs()


def test_a_worker_killed_at_the_gateway_then_a_new_worker_completes_the_refund(
    ctx, make, procs, fake_stripe
):
    """Stripe has the request (and carries it out) but the worker dies before the answer."""
    first = procs.worker("w1")
    fake_stripe.hang = True
    order, payment = shop(make, "stripe")
    with db.atomic():
        rma = factories.make_return(order)
        refund = factories.make_refund(rma, 2500, payment=payment)
    assert fake_stripe.arrived.wait(30), procs.logs()
    assert status_of(refund) == "processing"
    first.kill()  # SIGKILL: no cleanup, the task is neither acked nor recorded
    first.wait(10)
    fake_stripe.hang = False
    fake_stripe.release.set()  # Stripe finishes the dead worker's request on its side

    procs.beat()
    second = procs.worker("w2")
    wait_until(lambda: status_of(refund) == "succeeded", 60, 0.2, "refund succeeded")

    done = Refund.get_by_id(refund.id)
    assert fake_stripe.executions_per_key() == {refund.idempotency_key: 1}
    outcomes = [r["outcome"] for r in fake_stripe.requests]
    assert outcomes == ["executed", "replayed"]  # the second ask moved no money
    assert done.gateway_reference == "re_fake_00001" and done.attempts == 2
    assert ReturnEvent.select().where(ReturnEvent.kind == "refund_succeeded").count() == 1
    assert OutboxMessage.select().where(OutboxMessage.kind == "email").count() == 1
    wait_for_log(second, f"refund {refund.id} (return {rma.reference})", 5)
    wait_for_log(second, "taking it over", 5)


def test_a_worker_killed_after_the_ledger_booked_the_refund_books_it_once(ctx, make, procs,
                                                                         tmp_path):  # fmt: skip
    """The built-in ledger wrote its entry, then the worker died before recording success."""
    first = procs.worker("w1")
    hold_gateway.install(tmp_path)  # known here too: imports refuse gateways nobody registered
    order, payment = shop(make, "ledger_hold")
    with db.atomic():
        rma = factories.make_return(order)
        refund = factories.make_refund(rma, 1800, payment=payment)
    wrote = tmp_path / f"wrote-{refund.idempotency_key}"
    wait_until(wrote.exists, 30, message="the ledger entry")
    first.kill()
    first.wait(10)
    (tmp_path / "release").write_text("go")
    assert status_of(refund) == "processing"

    procs.beat()
    procs.worker("w2")
    wait_until(lambda: status_of(refund) == "succeeded", 60, 0.2, "refund succeeded")
    [entry] = LedgerTransaction.select().where(
        LedgerTransaction.idempotency_key == refund.idempotency_key
    )
    assert LedgerTransaction.select().count() == 1
    done = Refund.get_by_id(refund.id)
    assert done.gateway_reference == entry.reference == wrote.read_text()
    assert done.attempts == 2


def test_worker_processes_survive_a_quick_restart_without_losing_messages(ctx, make, procs,
                                                                         redis_url):  # fmt: skip
    """Messages written while no worker runs wait in the outbox and go once one starts."""
    order, payment = shop(make, "ledger")
    refunds = factories.refunds_for(order, 20, 300, payment=payment)
    # No worker runs: instead of sleeping a while, see the messages wait. All 20 were
    # published on commit and sit in Redis, and their rows are pending in the outbox.
    wait_until(lambda: queued_tasks(redis_url) == 20, 10, message="20 tasks waiting in Redis")
    assert OutboxMessage.select().where(OutboxMessage.status == "pending").count() == 20
    assert {status_of(r) for r in refunds} == {"pending"}
    procs.worker("w1")
    procs.beat()
    wait_until(lambda: all(status_of(r) == "succeeded" for r in refunds), 60, 0.2, "refunds")
    assert LedgerTransaction.select().count() == 20

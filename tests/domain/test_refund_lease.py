"""The refund claim is a lease the worker renews while the gateway call runs: a call that takes
far longer than the lease is never taken over while its worker lives; a lease left to run out
(its worker died) is taken over at once."""

import datetime
import threading

import pytest

from portal.models import LedgerTransaction, Refund, now
from portal.returns.errors import RefundBusy
from portal.returns.refund_execution import execute_refund
from tests import factories, hold_gateway
from tests.waiting import wait_until

LEASE = 1.5


def test_a_call_longer_than_the_lease_is_never_taken_over_while_its_worker_lives(ctx, make,
                                                                                 tmp_path):  # fmt: skip
    hold_gateway.install(tmp_path)
    config = {**ctx.config, "REFUND_LEASE_SECONDS": LEASE}
    order, payment = make.paid_order(100_000, "ledger_hold", reference="pi_hold_1")
    [refund] = factories.refunds_for(order, 1, 1500, payment=payment)
    outcome = {}

    def worker():
        with ctx.app_context():
            outcome["first"] = execute_refund(refund.id, config)

    first = threading.Thread(target=worker)
    first.start()
    wrote = tmp_path / f"wrote-{refund.idempotency_key}"
    try:
        wait_until(wrote.exists, 30, message="the first worker at the gateway")
        attempts = 0
        # The gateway holds the call; others try again and again for four leases' time.
        deadline = now() + datetime.timedelta(seconds=4 * LEASE)
        while now() < deadline:
            with pytest.raises(RefundBusy):
                execute_refund(refund.id, config)
            attempts += 1
            threading.Event().wait(0.1)
        row = Refund.get_by_id(refund.id)
        assert row.status == "processing" and row.attempts == 1 and attempts > 10
        # renewed: claimed four leases ago, its lease still runs
        assert (
            row.lease_expires_at
            > now()
            > row.processing_started_at + datetime.timedelta(seconds=3 * LEASE)
        )
    finally:
        (tmp_path / "release").write_text("go")
    first.join(30)
    assert outcome["first"] == "succeeded"
    done = Refund.get_by_id(refund.id)
    assert done.status == "succeeded" and done.attempts == 1
    assert LedgerTransaction.select().count() == 1


def test_a_lease_that_ran_out_is_taken_over_at_once(ctx, make):
    order, payment = make.paid_order(100_000, "ledger", reference="pi_dead_1")
    [refund] = factories.refunds_for(order, 1, 1500, payment=payment)
    claimed = now() - datetime.timedelta(seconds=5)
    Refund.update(status="processing", processing_started_at=claimed, attempts=1,
                  lease_expires_at=claimed + datetime.timedelta(seconds=LEASE)).execute()  # fmt: skip
    assert execute_refund(refund.id, ctx.config) == "succeeded"
    assert Refund.get_by_id(refund.id).attempts == 2
    # and one whose lease still runs is not, whatever its age
    [other] = factories.refunds_for(order, 1, 700, payment=payment)
    Refund.update(status="processing", processing_started_at=claimed - datetime.timedelta(hours=1),
                  attempts=1, lease_expires_at=now() + datetime.timedelta(seconds=30)).where(
        Refund.id == other.id).execute()  # fmt: skip
    with pytest.raises(RefundBusy) as busy:
        execute_refund(other.id, ctx.config)
    assert 20 < busy.value.wait <= 30

"""The gateway's rate per account, shared by every worker: two threads-pool worker processes
(as the outbox's worker runs, scripts/run.py) carry out 40 Stripe refunds with GATEWAY_RATE_LIMIT
at 10 per second; the local Stripe endpoint, which answers in 300 ms, notes when each call
arrives. No sliding window of one second (starting at any arrival, not only calendar seconds)
ever holds more than 10, and each refund is paid once."""

import pytest

from portal.db import db
from portal.models import Refund
from tests import factories
from tests.apps import make_app
from tests.fake_stripe import API_KEY
from tests.processes import Processes
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

RATE = 10
SETTINGS = {"GATEWAY_RATE_LIMIT": RATE, "OUTBOX_SWEEP_GRACE_SECONDS": 5}


@pytest.fixture
def app(tmp_path, redis_url, fake_stripe):
    app = make_app(tmp_path, redis_url, STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_stripe.url,
                   **SETTINGS)  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def procs(tmp_path, app, redis_url, fake_stripe):
    env = {"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": redis_url,
           "PORTAL_INSTANCE": app.instance_path, "PORTAL_DOTENV": str(tmp_path / "no.env"),
           "SECRET_KEY": "test-secret", "MAIL_DIR": str(tmp_path / "mail"),
           "STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": fake_stripe.url, **SETTINGS}  # fmt: skip
    processes = Processes(tmp_path, env)
    yield processes
    processes.stop_all()


def most_in_one_second(times):
    """The most of `times` (sorted) inside any window [t, t + 1 s)."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_the_window_count_sees_what_calendar_seconds_miss():
    # 10 calls late in one second and 10 early in the next: 10 per calendar second, 20 in one.
    times = [5.5 + n * 0.04 for n in range(10)] + [6.0 + n * 0.04 for n in range(10)]
    assert most_in_one_second(times) == 20
    assert most_in_one_second([0.0, 1.0, 2.0]) == 1
    assert most_in_one_second([0.0, 0.999, 1.0]) == 2


def test_refunds_from_two_workers_never_exceed_the_accounts_rate(ctx, make, procs, fake_stripe):
    fake_stripe.delay = 0.3
    procs.worker("w1", threads=8)
    procs.worker("w2", threads=8)
    order, payment = make.paid_order(1_000_000, "stripe", reference="pi_rate_1")
    refunds = factories.refunds_for(order, 40, 500, payment=payment)
    db.close()
    wait_until(
        lambda: Refund.select().where(Refund.status == "succeeded").count() == 40,
        120, 0.5, "40 refunds succeeded",
    )  # fmt: skip
    arrivals = sorted(r["at"] for r in fake_stripe.requests)
    assert len(arrivals) == 40
    assert most_in_one_second(arrivals) <= RATE, (arrivals, procs.logs())
    assert set(fake_stripe.executions_per_key().values()) == {1}
    assert len(fake_stripe.executions) == len(refunds)

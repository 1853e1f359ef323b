"""Workers SIGKILLed again and again while a batch of refunds goes through (threads-pool
worker processes, as the outbox's worker runs, a local Stripe answering in a second, a real SMTP
server): every refund settles within 90 s of the last kill, each is paid once, and each
shopper's email arrives once. A dead worker's refund is taken over once its lease runs out
(REFUND_LEASE_SECONDS), its outbox message once the message's lease does."""

import collections
import re

import pytest

from portal.db import db
from portal.models import Refund
from tests import factories
from tests.apps import make_app
from tests.fake_stripe import API_KEY
from tests.processes import Processes
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

TIMINGS = {"OUTBOX_LEASE_SECONDS": 3, "REFUND_LEASE_SECONDS": 3, "OUTBOX_SWEEP_SECONDS": 1,
           "OUTBOX_SWEEP_GRACE_SECONDS": 0.5, "OUTBOX_BACKOFF_BASE": 0.2,
           "OUTBOX_MAX_ATTEMPTS": 50}  # fmt: skip
REFUNDS = 40
KILLS = 8


@pytest.fixture
def app(tmp_path, redis_url, fake_stripe, smtp_server):
    controller, _ = smtp_server
    app = make_app(tmp_path, redis_url, STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_stripe.url,
                   MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port,
                   **TIMINGS)  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def procs(tmp_path, app, redis_url, fake_stripe, smtp_server):
    controller, _ = smtp_server
    env = {"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": redis_url,
           "PORTAL_INSTANCE": app.instance_path, "PORTAL_DOTENV": str(tmp_path / "no.env"),
           "SECRET_KEY": "test-secret", "MAIL_SERVER": controller.hostname,
           "MAIL_PORT": controller.port, "STRIPE_API_KEY": API_KEY,
           "STRIPE_API_BASE": fake_stripe.url, "STRIPE_TIMEOUT": 30, **TIMINGS}  # fmt: skip
    processes = Processes(tmp_path, env)
    yield processes
    processes.stop_all()


def test_workers_killed_again_and_again_every_refund_settles_paid_and_emailed_once(
    ctx, make, procs, fake_stripe, smtp_server
):
    _, mailbox = smtp_server
    fake_stripe.delay = 1.0  # each call in flight long enough for a kill to land in it
    procs.beat()
    workers = [procs.worker("w0", threads=2), procs.worker("w1", threads=2)]
    order, payment = make.paid_order(1_000_000, "stripe", reference="pi_kills_1")
    refunds = factories.refunds_for(order, REFUNDS, 500, payment=payment, per_return=1)
    db.close()
    for kill in range(KILLS):
        # Kill a worker once it is at work (a request at the gateway since the last kill)...
        seen = len(fake_stripe.requests)
        wait_until(lambda seen=seen: len(fake_stripe.requests) > seen or not pending(), 30, 0.05,
                   "a gateway call")  # fmt: skip
        victim = workers[kill % 2]
        victim.kill()
        victim.wait(10)
        # ...and start another in its place, as a supervisor would.
        workers[kill % 2] = procs.worker(f"w{kill + 2}", threads=2)
    # Every refund settles within 90 s of the last kill.
    wait_until(lambda: not pending(), 90, 0.2, "every refund succeeded")
    assert {Refund.get_by_id(r.id).status for r in refunds} == {"succeeded"}
    assert set(fake_stripe.executions_per_key().values()) == {1}, procs.logs()
    assert len(fake_stripe.executions) == REFUNDS
    # the kills landed in gateway calls: those refunds were taken over (same key, paid once)
    assert sum(Refund.get_by_id(r.id).attempts for r in refunds) > REFUNDS
    messages = mailbox.wait_for(REFUNDS, timeout=60)
    ids = collections.Counter(re.search(r"Message-ID: (\S+)", m[2]).group(1) for m in messages)
    assert len(ids) == REFUNDS and set(ids.values()) == {1}, ids


def pending():
    return Refund.select().where(Refund.status != "succeeded").count()

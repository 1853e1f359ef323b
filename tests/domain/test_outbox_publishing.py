"""The default test app publishes outbox messages to kombu's in-memory broker (tests/apps.py):
on commit, at once, without Redis and without a worker; publish() neither blocks nor fails."""

import time

import pytest

from portal.db import db
from portal.outbox.messages import DELIVER_TASK, enqueue_email, publish
from tests.apps import drain_memory_broker


@pytest.fixture
def broker(ctx):
    """What the app has published to the in-memory broker so far: [(task name, args)]."""
    drain_memory_broker()  # only this test's tasks
    celery = ctx.extensions["celery"]

    def published():
        found = []
        with celery.connection_for_read() as connection:
            for name in ("celery", "io"):  # deliveries go to the I/O queue (portal.celery_app)
                queue = connection.SimpleQueue(name)
                try:
                    while True:
                        try:
                            message = queue.get(block=False)
                        except queue.Empty:
                            break
                        found.append((message.headers["task"], message.payload[0]))
                        message.ack()
                finally:
                    queue.close()
        return found

    return published


def test_deliveries_go_to_the_io_queue_the_rest_to_the_default_one(ctx):
    celery = ctx.extensions["celery"]
    route = celery.amqp.router.route({}, "tasks.outbox.deliver")
    assert route["queue"].name == "io"
    assert celery.amqp.router.route({}, "tasks.outbox.sweep")["queue"].name == "celery"


def test_the_test_app_has_no_redis(ctx):
    celery = ctx.extensions["celery"]
    assert celery.conf.broker_url.startswith("memory://")
    assert celery.conf.result_backend == "cache+memory://"
    assert not ctx.config["REDIS_URL"].startswith("redis")


def test_a_message_is_published_on_commit_at_once(ctx, broker):
    started = time.monotonic()
    with db.atomic():
        message = enqueue_email("refund_sent", "a@example.com", "test:publish")
        assert broker() == []  # not before the commit
    took = time.monotonic() - started
    assert took < 0.5, f"publishing took {took:.2f}s"
    assert broker() == [(DELIVER_TASK, [message.id])]


def test_publish_neither_blocks_nor_fails(ctx, broker):
    started = time.monotonic()
    assert publish(41) is True
    assert publish(42, countdown=30) is True  # a retry's delayed task
    took = time.monotonic() - started
    assert took < 0.5, f"publishing took {took:.2f}s"
    assert broker() == [(DELIVER_TASK, [41]), (DELIVER_TASK, [42])]


def test_a_refunds_email_is_delivered_by_the_worker_that_refunded_it(ctx, broker):
    """delivery.deliver() carries out the refund's message, then the shopper's email its success
    wrote (held from the broker meanwhile): sent once, after the refund's own message was
    done, never published."""
    from portal.models import OutboxMessage
    from portal.outbox import delivery
    from tests import factories

    placed, payment = factories.paid_order(5000)
    factories.one_refund(placed, payment, amount=1500)
    refund_message = OutboxMessage.get(OutboxMessage.kind == "refund")
    assert broker() == [(DELIVER_TASK, [refund_message.id])]  # published at commit
    assert delivery.deliver(refund_message.id, ctx.config) == "sent"
    email = OutboxMessage.get(OutboxMessage.kind == "email")
    done = OutboxMessage.get_by_id(refund_message.id)
    assert email.status == "sent" and email.attempts == 1
    assert done.status == "sent" and done.sent_at <= email.sent_at
    assert broker() == []  # nothing went through Celery
    assert delivery.deliver(email.id, ctx.config) == "skipped"  # a copy of its task: nothing


def test_held_kinds_are_collected_at_commit_the_rest_published(ctx, broker):
    from portal.outbox.messages import enqueue, holding

    broker()
    with holding(["email"]) as held:
        with db.atomic():
            email = enqueue_email("refund_sent", "a@example.com", "held-email")
            other = enqueue("label", {"rma_id": 1}, "not-held-label")
        assert held == [email.id]
    assert broker() == [(DELIVER_TASK, [other.id])]
    with db.atomic():
        after = enqueue_email("refund_sent", "b@example.com", "after-holding")
    assert broker() == [(DELIVER_TASK, [after.id])]

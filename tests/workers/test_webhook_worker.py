"""Webhooks out through the real pieces: the outbox messages written with each change are
published to Redis and delivered by a real Celery worker to a receiver that checks every
signature; while the receiver answers 503 the worker retries on the (short) schedule, and once
it is back every event arrives, once, in order per return."""

import pytest

from portal.db import db
from portal.models import OrderLine, WebhookAttempt
from portal.returns import requests, review, webhook_endpoints
from portal.returns.requests import Selection
from portal.returns.webhook_events import TYPES
from tests import factories
from tests.apps import close_db, make_app
from tests.waiting import wait_until
from tests.webhook_receiver import Receiver

LIFE = ["return.requested", "return.approved", "return.cancelled"]


@pytest.fixture
def receiver():
    fake = Receiver().start()
    yield fake
    fake.stop()


@pytest.fixture
def app(tmp_path, redis_url):
    app = make_app(tmp_path, redis_url, WEBHOOK_RETRY_SCHEDULE=[0.3] * 30, WEBHOOK_TIMEOUT=2)
    yield app
    close_db()


def test_a_worker_delivers_every_event_after_an_outage_in_order(app, celery_worker, receiver):
    receiver.down = True
    references = []
    with app.app_context(), db.connection_context():
        store = factories.store()
        _, secret = webhook_endpoints.add_endpoint(store.admin, url=receiver.url,
                                                   event_types=list(TYPES))  # fmt: skip
        receiver.secrets = [secret]
        line = OrderLine.get(OrderLine.order == store.order.id)
        for _ in range(3):
            rma = requests.request_return(store.order, store.shopper, store.shopper.email,
                                          [Selection(line.id, 1, store.changed_mind.id)])  # fmt: skip
            review.approve(rma, store.manager)
            review.cancel(factories.fresh(rma), store.manager, "changed our minds")
            references.append(rma.reference)
    wait_until(lambda: receiver.tries >= 6, 30, 0.05, "the worker trying the receiver")
    receiver.down = False
    wait_until(lambda: len(receiver.accepted) >= 9, 60, 0.1, "every event delivered")
    assert receiver.refused == []
    for reference in references:
        assert receiver.types(reference) == LIFE
    assert len(set(receiver.ids())) == 9
    with app.app_context(), db.connection_context():
        outcomes = {a.outcome for a in WebhookAttempt.select()}
        assert outcomes == {"retry", "delivered"}
        assert WebhookAttempt.select().where(WebhookAttempt.response_code == 503).count() >= 3

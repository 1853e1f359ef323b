"""Webhooks out (issue 12): each change writes its event as outbox messages in its own
transaction; delivery signs it (checked by a receiver with the standardwebhooks library), keeps
a return's events in order, retries an endpoint that is down, logs each attempt, and fails
for good after the schedule (then redeliver). The clock is moved by making the messages due."""

import datetime

import pytest

from portal.models import (
    AuditEntry,
    ExchangeOrder,
    OrderLine,
    OutboxMessage,
    WebhookAttempt,
    WebhookEndpoint,
    now,
)
from portal.outbox import delivery
from portal.outbox.messages import PENDING
from portal.returns import (
    exchanges,
    finishing,
    receiving,
    refund_execution,
    refunding,
    requests,
    review,
    webhook_endpoints,
)
from portal.returns.errors import Conflict, DomainError, NotAllowed
from portal.returns.requests import Selection
from portal.returns.webhook_events import TYPES
from tests import factories
from tests.webhook_receiver import Receiver

WHOLE_LIFE = ["return.requested", "return.approved", "return.received", "refund.succeeded",
              "return.refunded", "return.completed"]  # fmt: skip


@pytest.fixture
def receiver():
    fake = Receiver().start()
    yield fake
    fake.stop()


@pytest.fixture
def hooked(store, receiver):
    """An endpoint for every event at the receiver, which knows its secret."""
    endpoint, secret = webhook_endpoints.add_endpoint(
        store.admin, url=receiver.url + "/hooks", event_types=list(TYPES)
    )
    receiver.secrets = [secret]
    return endpoint


def config(ctx, schedule=(60, 60, 60)):
    return {**ctx.config, "WEBHOOK_RETRY_SCHEDULE": list(schedule), "WEBHOOK_TIMEOUT": 5}


def deliver_all(conf, rounds=30):
    """Run every pending webhook message, newest first (the order a busy pool might pick them
    up), as often as needed; before each round the clock moves on so retries are due."""
    for _ in range(rounds):
        pending = [m.id for m in OutboxMessage.select(OutboxMessage.id).where(
            (OutboxMessage.kind == "webhook") & (OutboxMessage.status == PENDING)
        ).order_by(OutboxMessage.id.desc())]  # fmt: skip
        if not pending:
            return
        OutboxMessage.update(available_at=now() - datetime.timedelta(seconds=1)).where(
            OutboxMessage.id.in_(pending)
        ).execute()
        for message_id in pending:
            delivery.deliver(message_id, conf)
    raise AssertionError("webhook messages still pending")


def whole_life(store):
    """A shopper's request, approval, receipt, refund (ledger) and finish: real domain calls."""
    line = OrderLine.get(OrderLine.order == store.order.id)
    rma = requests.request_return(store.order, store.shopper, store.shopper.email,
                                  [Selection(line.id, 3, store.changed_mind.id, "", ())])  # fmt: skip
    review.approve(rma, store.manager)
    receiving.receive(factories.fresh(rma), store.agent, {factories.line_of(rma).id: (3, 0)})
    for refund in refunding.prepare_refund(factories.fresh(rma), store.manager):
        refund_execution.execute_refund(refund.id, {"PAYMENT_GATEWAY": "ledger"})
    finishing.finish(factories.fresh(rma), store.agent)
    return factories.fresh(rma)


def test_each_change_arrives_once_signed_and_in_order(ctx, store, hooked, receiver):
    first = whole_life(store)
    other = factories.store()
    second = whole_life(other)
    deliver_all(config(ctx))
    assert receiver.refused == []
    assert receiver.types(first.reference) == WHOLE_LIFE
    assert receiver.types(second.reference) == WHOLE_LIFE
    assert len(set(receiver.ids())) == len(receiver.ids()) == 12  # once each
    statuses = [a[3] for a in receiver.accepted if a[2] == first.reference]
    assert statuses == ["requested", "approved", "received", "received", "received", "completed"]
    refunded = next(
        b
        for b in receiver.bodies
        if b["type"] == "refund.succeeded" and b["data"]["return"]["reference"] == first.reference
    )
    assert refunded["data"]["refund"]["status"] == "succeeded"
    assert refunded["data"]["return"]["order_number"] == store.order.number
    assert refunded["timestamp"].endswith("Z")
    # Delivering again changes nothing: every message is sent.
    deliver_all(config(ctx))
    assert len(receiver.accepted) == 12
    logged = WebhookAttempt.select().where(WebhookAttempt.endpoint == hooked.id)
    assert {(a.outcome, a.response_code) for a in logged} == {("delivered", 204)}


def test_while_the_receiver_is_down_events_wait_and_all_arrive_in_order(ctx, store, hooked,
                                                                       receiver):  # fmt: skip
    receiver.down = True
    rma = whole_life(store)
    conf = config(ctx, schedule=[5] * 10)
    for _ in range(3):  # three rounds of the clock moving on: 503, 503, 503
        pending = list(OutboxMessage.select().where(OutboxMessage.status == PENDING))
        OutboxMessage.update(available_at=now()).execute()
        for m in sorted(pending, key=lambda m: -m.id):
            delivery.deliver(m.id, conf)
    assert receiver.accepted == []
    # Only the return's oldest event was tried: the later ones wait behind it.
    tried = WebhookAttempt.select()
    assert {a.event_type for a in tried} == {"return.requested"}
    assert [(a.outcome, a.response_code) for a in tried] == [("retry", 503)] * 3
    assert "503" in OutboxMessage.get(OutboxMessage.id == tried[0].message_id).last_error
    receiver.down = False
    deliver_all(conf)
    assert receiver.types(rma.reference) == WHOLE_LIFE
    assert receiver.refused == []


def test_after_the_last_retry_it_fails_visibly_and_can_be_redelivered(ctx, store, hooked,
                                                                     receiver):  # fmt: skip
    receiver.down = True
    factories.create_return(store.order, reason=store.changed_mind)  # no webhook: not the path
    rma = factories.create_return(store.order, reason=store.changed_mind)
    review.approve(rma, store.manager)
    conf = config(ctx, schedule=[0, 0])
    deliver_all(conf)
    [message] = OutboxMessage.select().where(OutboxMessage.kind == "webhook")
    assert message.status == "failed" and "503" in message.last_error
    _, rows = webhook_endpoints.deliveries(hooked.id)
    assert [a.outcome for a in rows[0].attempts] == ["retry", "retry", "failed"]
    assert rows[0].event_type == "return.approved" and rows[0].reference == rma.reference
    with pytest.raises(NotAllowed):
        webhook_endpoints.redeliver(store.manager, hooked.id, message.id)
    receiver.down = False
    webhook_endpoints.redeliver(store.admin, hooked.id, message.id)
    deliver_all(conf)
    assert receiver.ids() == [message.payload["event_id"]]  # the same webhook-id
    assert OutboxMessage.get_by_id(message.id).status == "superseded"
    with pytest.raises(DomainError, match="still on its way"):
        again = webhook_endpoints.redeliver(store.admin, hooked.id, message.id)[1]
        webhook_endpoints.redeliver(store.admin, hooked.id, again.id)


def test_a_rotated_secret_signs_beside_the_new_one_until_the_overlap_ends(ctx, store, hooked,
                                                                         receiver):  # fmt: skip
    old = receiver.secrets[0]
    _, new = webhook_endpoints.rotate_secret(store.admin, hooked.id, overlap_seconds=3600)
    assert new != old and new.startswith("whsec_")
    receiver.secrets = [old, new]  # each one alone verifies
    rma = factories.create_return(store.order, reason=store.changed_mind)
    review.approve(rma, store.manager)
    deliver_all(config(ctx))
    assert receiver.types() == ["return.approved"] and receiver.refused == []
    WebhookEndpoint.update(previous_secret_until=now() - datetime.timedelta(seconds=1)).execute()
    receiver.secrets = [old]
    review.reject(factories.create_return(store.order, reason=store.changed_mind), store.manager,
                  "no")  # fmt: skip
    deliver_all(config(ctx))
    assert receiver.types() == ["return.approved"]  # the old secret no longer verifies
    assert len(receiver.refused) == 4  # each try of the schedule (3 retries), then failed
    assert OutboxMessage.select().where(OutboxMessage.status == "failed").count() == 1


def test_only_active_subscribed_endpoints_get_messages_and_a_refused_change_writes_none(
    ctx, store, receiver
):
    approvals, _ = webhook_endpoints.add_endpoint(store.admin, url=receiver.url,
                                                  event_types=["return.approved"])  # fmt: skip
    webhook_endpoints.add_endpoint(store.admin, url=receiver.url, event_types=["return.rejected"],
                                   active=False)  # fmt: skip
    rma = factories.create_return(store.order, reason=store.changed_mind)
    with pytest.raises(Conflict):
        review.approve(rma, store.manager, version=rma.version + 5)
    assert OutboxMessage.select().where(OutboxMessage.kind == "webhook").count() == 0
    review.approve(rma, store.manager)
    other = factories.create_return(store.order, reason=store.changed_mind)
    review.reject(other, store.manager, "not ours")
    [message] = OutboxMessage.select().where(OutboxMessage.kind == "webhook")
    assert message.payload["type"] == "return.approved"
    assert message.payload["endpoint_id"] == approvals.id
    assert message.rma_id == rma.id


def test_endpoints_are_for_admins_with_a_checked_url_and_events(ctx, store):
    with pytest.raises(NotAllowed):
        webhook_endpoints.add_endpoint(
            store.manager, url="https://x.example", event_types=["return.approved"]
        )
    for url in ("", "ftp://x.example/h", "https://", "https://user:pw@x.example/", "not a url",
                "https://x.example:99999/"):  # fmt: skip
        with pytest.raises(DomainError):
            webhook_endpoints.add_endpoint(store.admin, url=url, event_types=["return.approved"])
    with pytest.raises(DomainError, match="at least one"):
        webhook_endpoints.add_endpoint(store.admin, url="https://x.example", event_types=[])
    with pytest.raises(DomainError, match="Unknown event"):
        webhook_endpoints.add_endpoint(store.admin, url="https://x.example",
                                       event_types=["return.exploded"])  # fmt: skip
    assert WebhookEndpoint.select().count() == 0
    endpoint, secret = webhook_endpoints.add_endpoint(store.admin, url="https://x.example/h",
                                                      event_types=["refund.failed"])  # fmt: skip
    [entry] = AuditEntry.select().where(AuditEntry.action == "webhook.added")
    assert secret not in str(entry.after) and entry.after["url"] == "https://x.example/h"
    assert endpoint.secret == secret and secret.startswith("whsec_")


def test_an_exchange_shipped_is_an_event_with_its_tracking_number(ctx, receiver):
    shop = factories.catalogue_store()
    admin = factories.staff("admin")
    _, secret = webhook_endpoints.add_endpoint(admin, url=receiver.url,
                                               event_types=["exchange.shipped"])  # fmt: skip
    receiver.secrets = [secret]
    pick = Selection(shop.lines["TEE-M"].id, 1, shop.reasons["fit_small"].id, "note", (),
                     shop.v["TEE-L"].id)  # fmt: skip
    rma = requests.request_return(shop.order, shop.shopper, shop.shopper.email, [pick])
    review.approve(rma, shop.manager)
    receiving.receive(factories.fresh(rma), shop.agent, {factories.line_of(rma).id: (1, 0)})
    [order] = ExchangeOrder.select().where(ExchangeOrder.rma == rma.id)
    exchanges.ship(order, shop.agent, "DHL", "JD0001", shop.main.id)
    deliver_all(config(ctx))
    assert receiver.types() == ["exchange.shipped"] and receiver.refused == []
    shipped = receiver.bodies[0]["data"]
    assert shipped["exchange_order"]["tracking_number"] == "JD0001"
    assert shipped["return"]["reference"] == rma.reference

"""Two staff members acting on the same return at the same moment, with real threads and real
databases (SQLite and PostgreSQL): nothing is received twice and nothing is refunded twice."""

import threading

from portal.db import db
from portal.models import OutboxMessage, Refund, Return, ReturnEvent, ReturnLine
from portal.returns import receiving, refunding, review
from portal.returns.errors import DomainError
from tests import factories

ROUNDS = 4


def at_once(*calls):
    """Run the calls in threads released together; returns each outcome (result or error)."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        with db.connection_context():
            barrier.wait(timeout=60)
            try:
                outcomes[i] = call()
            except DomainError as exc:
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def errors(outcomes):
    return [o for o in outcomes if isinstance(o, DomainError)]


def approved_returns(shop, count):
    out = []
    for _ in range(count):
        order_line = shop.order.lines.get()
        rma = factories.create_return(
            shop.order, reason=shop.changed_mind, lines=[(order_line, 3, None)]
        )
        review.approve(rma, shop.manager)
        out.append(factories.fresh(rma))
    return out


def test_two_staff_receiving_the_same_parcel_record_it_once(any_app):
    with any_app.app_context():
        shop = factories.store(quantity=3 * ROUNDS)
        for rma in approved_returns(shop, ROUNDS):
            line = factories.line_of(rma)
            # Both pages showed the same version; both try to record the whole parcel.
            outcomes = at_once(
                lambda r=rma, ln=line: receiving.receive(r, shop.agent, {ln.id: (3, 0)}, r.version),
                lambda r=rma, ln=line: receiving.receive(
                    r, shop.manager, {ln.id: (3, 0)}, r.version
                ),
            )
            assert len(errors(outcomes)) == 1, outcomes
            assert "Someone else changed" in str(errors(outcomes)[0]) or "more unit" in str(
                errors(outcomes)[0]
            )
            line = ReturnLine.get_by_id(line.id)
            assert line.received_quantity == 3
            assert ReturnEvent.select().where((ReturnEvent.rma == rma.id) &
                                              (ReturnEvent.kind == "received")).count() == 1  # fmt: skip
            received_emails = [m for m in OutboxMessage.select().where(
                (OutboxMessage.rma == rma.id) & (OutboxMessage.kind == "email"))
                if m.payload["template"] == "return_received"]  # fmt: skip
            assert len(received_emails) == 1


def test_receipts_without_a_version_still_never_exceed_the_request(any_app):
    with any_app.app_context():
        shop = factories.store(quantity=3 * ROUNDS)
        for rma in approved_returns(shop, ROUNDS):
            line = factories.line_of(rma)
            outcomes = at_once(
                lambda r=rma, ln=line: receiving.receive(r, shop.agent, {ln.id: (2, 0)}),
                lambda r=rma, ln=line: receiving.receive(r, shop.manager, {ln.id: (2, 0)}),
            )
            assert len(errors(outcomes)) == 1 and "only 1 more unit" in str(errors(outcomes)[0])
            assert ReturnLine.get_by_id(line.id).received_quantity == 2
            assert Return.get_by_id(rma.id).status == "partially_received"


def test_two_managers_refunding_at_once_refund_once(any_app):
    with any_app.app_context():
        shop = factories.store(quantity=3 * ROUNDS, unit_price=1000, shipping=0)
        for rma in approved_returns(shop, ROUNDS):
            line = factories.line_of(rma)
            receiving.receive(rma, shop.agent, {line.id: (3, 0)})
            outcomes = at_once(
                lambda r=rma: refunding.prepare_refund(r, shop.manager),
                lambda r=rma: refunding.prepare_refund(r, shop.manager2),
            )
            assert len(errors(outcomes)) == 1, outcomes
            refunds = list(Refund.select().where(Refund.rma == rma.id))
            assert [r.amount for r in refunds] == [3000]
            assert OutboxMessage.select().where((OutboxMessage.rma == rma.id) &
                                                (OutboxMessage.kind == "refund")).count() == 1  # fmt: skip
        # Rule 3 held across all of them: never more than captured.
        captured = sum(p.amount for p in shop.order.payments)
        assert sum(r.amount for r in Refund.select()) <= captured


def test_two_managers_approving_the_same_refund_approve_it_once(any_app):
    with any_app.app_context():
        shop = factories.store(unit_price=1000, shipping=0)
        factories.policy(refund_approval_threshold=100)
        [rma] = approved_returns(shop, 1)
        line = factories.line_of(rma)
        receiving.receive(rma, shop.agent, {line.id: (3, 0)})
        [refund] = refunding.prepare_refund(rma, shop.manager)
        outcomes = at_once(
            lambda: refunding.approve_refund(refund, shop.manager2),
            lambda: refunding.approve_refund(refund, shop.admin),
        )
        assert len(errors(outcomes)) == 1, outcomes
        assert Refund.get_by_id(refund.id).status == "pending"
        assert OutboxMessage.select().where(OutboxMessage.kind == "refund").count() == 1

"""Refunds prepared by managers (domain functions, no views): the prefill equals the shopper's
estimate, the split, the cap, store credit, overrides, maker-checker approval, return invoice
numbers, and rule 3 (never more than captured)."""

import pytest

from portal.models import Invoice, OutboxMessage, Refund, ReturnEvent, ReturnLine
from portal.returns import amounts, facts, finishing, inspection, receiving, refunding, review
from portal.returns.errors import DomainError, InvalidTransition, NotAllowed
from tests import factories


@pytest.fixture
def store(ctx):
    """The domain conftest's store, with a restocking fee and return shipping, and prices
    with tax."""
    factories.policy(restocking_fee_bps=1000, return_shipping_fee=450)
    return factories.store(quantity=3, unit_price=1000, unit_tax=200, shipping=500)


def received(store, units=3, damaged=0, reason=None, order=None, lines=None):
    rma = factories.create_return(
        order or store.order, reason=reason or store.changed_mind, lines=lines
    )
    review.approve(rma, store.manager)
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (units, damaged)})
    if damaged:
        inspection.inspect(rma, store.agent, {line.id: ("accepted", "")})
    return factories.fresh(rma)


def test_prefill_equals_the_shoppers_estimate_when_everything_arrives(store):
    rma = factories.create_return(store.order, reason=store.changed_mind)
    lines = facts.lines_of(rma.id)
    estimate = amounts.refund_for_return(rma, lines, {ln.id: ln.quantity for ln in lines})
    review.approve(rma, store.manager)
    receiving.receive(rma, store.agent, {lines[0].id: (3, 0)})
    plan = refunding.plan_refund(factories.fresh(rma))
    assert plan.breakdown == estimate
    # 3 x 12.00 = 36.00, minus 10% restocking (3.60) and the 4.50 return shipping fee
    assert plan.total == 3600 - 360 - 450


def test_prepare_refund_writes_refunds_outbox_lines_and_the_timeline(store):
    rma = received(store)
    [refund] = refunding.prepare_refund(rma, store.manager)
    assert (refund.status, refund.method, refund.amount) == ("pending", "card", 2790)
    assert refund.payment.method == "card" and len(refund.idempotency_key) == 32
    assert refund.breakdown["total"] == 2790 and refund.breakdown["restocking"] == 360
    assert refund.created_by_id == store.manager.id
    message = OutboxMessage.get(OutboxMessage.kind == "refund")
    assert message.payload == {"refund_id": refund.id}
    assert message.dedupe_key == f"refund:{refund.idempotency_key}"
    line = factories.line_of(rma)
    assert line.refund_amount == 3600 - 360
    event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "refund_created"))
    assert event.payload["total"] == 2790 and event.payload["line_units"] == {str(line.id): 3}
    assert factories.fresh(rma).version > rma.version


def test_only_managers_refund(store):
    rma = received(store)
    with pytest.raises(NotAllowed, match="Only managers"):
        refunding.prepare_refund(rma, store.agent)
    assert Refund.select().count() == 0


def test_card_first_then_gift_card(app):
    with app.app_context():
        store = factories.store(quantity=2, unit_price=5000, shipping=0,
                        payments=[{"method": "gift_card", "reference": "gc", "amount": 6000},
                                  {"method": "card", "reference": "ch", "amount": 4000}])  # fmt: skip
        rma = received(store, units=2)
        created = refunding.prepare_refund(rma, store.manager)
        assert [(r.method, r.amount) for r in created] == [("card", 4000), ("gift_card", 6000)]
        assert len({r.idempotency_key for r in created}) == 2
        assert OutboxMessage.select().where(OutboxMessage.kind == "refund").count() == 2


def test_a_chosen_split_is_checked_against_what_each_payment_can_refund(app):
    with app.app_context():
        store = factories.store(quantity=2, unit_price=5000, shipping=0,
                        payments=[{"method": "card", "reference": "ch", "amount": 7000},
                                  {"method": "gift_card", "reference": "gc", "amount": 3000}])  # fmt: skip
        card, gift = list(store.order.payments.order_by(refunding.Payment.id))
        rma = received(store, units=1, lines=[(store.order.lines.get(), 1, None)])
        with pytest.raises(DomainError, match="gift card payment can refund at most"):
            refunding.prepare_refund(rma, store.manager, split={card.id: 1000, gift.id: 4000})
        with pytest.raises(DomainError, match="adds up to"):
            refunding.prepare_refund(rma, store.manager, split={card.id: 1000, gift.id: 1000})
        assert Refund.select().count() == 0
        created = refunding.prepare_refund(rma, store.manager, split={card.id: 2000, gift.id: 3000})
        assert sorted((r.method, r.amount) for r in created) == [
            ("card", 2000),
            ("gift_card", 3000),
        ]


def test_store_credit_is_one_refund_without_a_payment(store):
    rma = received(store)
    [refund] = refunding.prepare_refund(rma, store.manager, store_credit=True)
    assert (refund.method, refund.payment_id, refund.amount) == ("store_credit", None, 2790)


def test_the_total_is_capped_at_what_the_order_can_still_refund_and_says_why(store):
    first = received(store, units=2, lines=[(store.order.lines.get(), 2, None)])
    refunding.prepare_refund(first, store.manager, additional=2000, additional_note="goodwill")
    left = amounts.order_refundable(store.order)
    second = received(store, units=1, lines=[(store.order.lines.get(), 1, None)])
    plan = refunding.plan_refund(second)
    assert plan.total == left < plan.breakdown.subtotal
    assert "Capped at what is still refundable" in plan.breakdown.capped_by
    [refund] = refunding.prepare_refund(second, store.manager)
    assert refund.amount == left and refund.breakdown["capped_by"]
    assert amounts.order_refundable(store.order) == 0


def test_nothing_left_to_refund_on_the_order_is_refused_with_the_reason(app):
    with app.app_context():
        store = factories.store(quantity=2, unit_price=1000, shipping=0)
        first = received(store, units=1, lines=[(store.order.lines.get(), 1, None)])
        refunding.prepare_refund(first, store.manager, additional=1000, additional_note="extra")
        second = received(store, units=1, lines=[(store.order.lines.get(), 1, None)])
        with pytest.raises(DomainError, match="Nothing is left to refund"):
            refunding.prepare_refund(second, store.manager)
        assert Refund.select().where(Refund.rma == second.id).count() == 0


def test_overrides_need_a_note_and_are_recorded(store):
    rma = received(store)
    line = factories.line_of(rma)
    with pytest.raises(DomainError, match="why a line's amount is overridden"):
        refunding.prepare_refund(rma, store.manager, overrides={line.id: (1000, "")})
    with pytest.raises(DomainError, match="exceed what its units were billed"):
        refunding.prepare_refund(rma, store.manager, overrides={line.id: (9999, "typo")})
    [refund] = refunding.prepare_refund(
        rma, store.manager, overrides={line.id: (3000, "scuffed box")}
    )
    assert refund.amount == 3000 - 450
    line = factories.line_of(rma)
    assert (line.refund_amount, line.override_note) == (3000, "scuffed box")
    event = ReturnEvent.get(ReturnEvent.kind == "refund_created")
    assert event.payload["overrides"] == {str(line.id): {"amount": 3000, "note": "scuffed box"}}


def test_additional_value_needs_a_referred_to_note(store):
    rma = received(store)
    with pytest.raises(DomainError, match="referred to"):
        refunding.prepare_refund(rma, store.manager, additional=500)
    [refund] = refunding.prepare_refund(rma, store.manager, additional=500,
                                        additional_note="Referred to ticket 42")  # fmt: skip
    assert refund.amount == 2790 + 500
    assert refund.breakdown["additional_note"] == "Referred to ticket 42"


def test_original_shipping_for_merchant_fault_and_only_once_per_order(store):
    faulty = received(
        store, units=1, reason=store.defective, lines=[(store.order.lines.get(), 1, None)]
    )
    [refund] = refunding.prepare_refund(faulty, store.manager)
    assert refund.breakdown["shipping"] == 500 and refund.breakdown["restocking"] == 0
    again = received(
        store, units=1, reason=store.defective, lines=[(store.order.lines.get(), 1, None)]
    )
    assert refunding.plan_refund(again).breakdown.shipping == 0


def test_refunds_over_the_threshold_need_a_second_manager(store):
    factories.policy(refund_approval_threshold=1000)
    rma = received(store)
    [refund] = refunding.prepare_refund(rma, store.manager)
    assert refund.status == "awaiting_approval"
    assert OutboxMessage.select().where(OutboxMessage.kind == "refund").count() == 0
    with pytest.raises(NotAllowed, match="another manager must approve"):
        refunding.approve_refund(refund, store.manager)
    with pytest.raises(NotAllowed):
        refunding.approve_refund(refund, store.agent)
    refunding.approve_refund(refund, store.manager2)
    refund = Refund.get_by_id(refund.id)
    assert (refund.status, refund.approved_by_id) == ("pending", store.manager2.id)
    message = OutboxMessage.get(OutboxMessage.kind == "refund")
    assert message.dedupe_key == f"refund:{refund.idempotency_key}"
    with pytest.raises(InvalidTransition, match="can't be approved"):
        refunding.approve_refund(refund, store.admin)


def test_a_declined_refund_frees_the_lines_for_another(store):
    factories.policy(refund_approval_threshold=1000)
    rma = received(store)
    [refund] = refunding.prepare_refund(rma, store.manager)
    refunding.decline_refund(refund, store.manager2, "Wrong amount")
    assert Refund.get_by_id(refund.id).status == "cancelled"
    assert factories.line_of(rma).refund_amount is None
    assert "refund" in facts.next_actions(factories.fresh(rma))
    factories.policy(refund_approval_threshold=0)
    [again] = refunding.prepare_refund(rma, store.manager)
    assert again.status == "pending" and again.amount == refund.amount


def test_a_refund_waiting_blocks_a_second_one(store):
    rma = received(store)
    refunding.prepare_refund(rma, store.manager)
    with pytest.raises(InvalidTransition, match="already waiting"):
        refunding.prepare_refund(rma, store.manager2)
    assert Refund.select().count() == 1


def test_later_receipts_are_refunded_without_charging_fees_twice(store):
    rma = factories.create_return(store.order, reason=store.changed_mind)
    review.approve(rma, store.manager)
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (1, 0)})
    [first] = refunding.prepare_refund(rma, store.manager)
    assert first.amount == 1200 - 120 - 450
    Refund.update(status="succeeded").execute()
    receiving.receive(rma, store.agent, {line.id: (2, 0)})
    assert "refund" in facts.next_actions(factories.fresh(rma))
    [second] = refunding.prepare_refund(rma, store.manager)
    assert second.amount == 2400 - 240  # no second return-shipping fee
    assert factories.line_of(rma).refund_amount == 3600 - 360


def test_overriding_to_zero_settles_the_lines_without_a_refund(store):
    rma = received(store)
    line = factories.line_of(rma)
    assert refunding.prepare_refund(rma, store.manager, overrides={line.id: (0, "worn")}) == []
    assert Refund.select().count() == 0
    finishing.finish(rma, store.agent)
    assert factories.fresh(rma).status == "completed"


def test_return_invoice_numbers_differ_from_sale_invoices(store):
    factories.policy(require_return_invoice=True)
    rma = received(store)
    with pytest.raises(DomainError, match="requires a return invoice"):
        refunding.prepare_refund(rma, store.manager)
    sale = Invoice.get(Invoice.kind == "sale").number
    with pytest.raises(DomainError, match="already used by a sale invoice"):
        refunding.prepare_refund(rma, store.manager, return_invoice_number=sale.lower())
    assert Refund.select().count() == 0
    refunding.prepare_refund(rma, store.manager, return_invoice_number="RET-0001")
    assert factories.fresh(rma).return_invoice_number == "RET-0001"
    assert Invoice.get(Invoice.number == "RET-0001").kind == "return"


def test_rule_3_is_checked_inside_the_transaction(store):
    rma = received(store)
    payment = store.order.payments.get()
    Refund.create(rma=rma, payment=payment, method="card", amount=payment.amount, currency="USD",
                  status="succeeded", idempotency_key="earlier", breakdown={})  # fmt: skip
    refunding.check_captured(store.order)  # exactly captured: fine
    Refund.create(rma=rma, payment=payment, method="card", amount=1, currency="USD",
                  status="pending", idempotency_key="one-more", breakdown={})  # fmt: skip
    with pytest.raises(DomainError, match="exceed"):
        refunding.check_captured(store.order)
    assert ReturnLine.select().count() == 1


def test_a_simulated_refund_checks_everything_and_writes_nothing(store):
    rma = factories.create_return(store.order, reason=store.changed_mind)
    review.approve(rma, store.manager)
    line = facts.lines_of(rma.id)[0]
    receiving.receive(factories.fresh(rma), store.agent, {line.id: (3, 0)})
    events = ReturnEvent.select().count()
    preview = refunding.prepare_refund(factories.fresh(rma), store.manager, simulate=True,
                                     return_invoice_number="RI-77")  # fmt: skip
    assert preview.total > 0 and [a.amount for a in preview.allocations] == [preview.total]
    assert not preview.awaiting_approval
    assert Refund.select().count() == 0 and ReturnEvent.select().count() == events
    assert not Invoice.select().where(Invoice.number == "RI-77").exists()
    created = refunding.prepare_refund(factories.fresh(rma), store.manager,
                                     return_invoice_number="RI-77")  # fmt: skip
    assert sum(r.amount for r in created) == preview.total

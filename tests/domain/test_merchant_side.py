"""The merchant side's rules as domain calls (issue 11): extra lines in the refund, bundles,
returns staff create, the shopper told of a rejection, the new emails, one-level reasons,
inventory tracking off, and the audit entry every settings change writes."""

import datetime
import threading

import pytest

from portal.db import db
from portal.importer import RecordError, parse_order
from portal.models import (
    AuditEntry,
    OrderLine,
    OutboxMessage,
    Refund,
    Return,
    ReturnEvent,
    ReturnExtraLine,
)
from portal.returns import (
    eligibility,
    extras,
    facts,
    finishing,
    inspection,
    locations,
    receiving,
    refund_execution,
    refunding,
    requests,
    review,
    settings,
)
from portal.returns.errors import DomainError, Ineligible, NotAllowed, QuantityExceeded
from tests import factories


def received(store, units=3, reason=None):
    rma = factories.create_return(store.order, reason=reason or store.changed_mind)
    review.approve(rma, store.manager)
    receiving.receive(rma, store.agent, {factories.line_of(rma).id: (units, 0)})
    return factories.fresh(rma)


def emails(rma=None, template=None):
    query = OutboxMessage.select().where(OutboxMessage.kind == "email")
    found = [m for m in query if rma is None or m.rma_id == rma.id]
    return [m for m in found if template is None or m.payload["template"] == template]


# --- extra lines ---------------------------------------------------------------------------


def test_an_extra_charge_is_its_own_row_of_the_refund(store):
    rma = received(store)  # 3 x 10.00, shipping 5.00 (not refunded: shopper's choice)
    extras.add_extra_line(rma, store.manager, "Repair fee", -500)
    plan = refunding.plan_refund(factories.fresh(rma))
    assert plan.breakdown.extra == -500 and plan.total == 3000 - 500
    [refund] = refunding.prepare_refund(factories.fresh(rma), store.manager)
    assert refund.amount == 2500 and refund.breakdown["extra"] == -500
    [line] = extras.extra_lines(rma.id)
    assert line.refund_batch == refund.breakdown["batch"]  # settled by this refund
    [event] = ReturnEvent.select().where(ReturnEvent.kind == "refund_created")
    assert event.payload["extra_lines"] == [
        {"id": line.id, "description": "Repair fee", "amount": -500}
    ]
    with pytest.raises(DomainError, match="settled by a refund"):
        extras.remove_extra_line(rma, store.manager, line.id)


def test_a_credit_is_capped_like_everything_else_and_a_charge_never_makes_it_negative(store):
    rma = received(store)
    extras.add_extra_line(rma, store.manager, "Goodwill credit", 100_000)
    plan = refunding.plan_refund(factories.fresh(rma))
    assert plan.breakdown.subtotal == 3000 + 100_000
    assert plan.total == 3500 and "still refundable" in plan.breakdown.capped_by  # all captured
    other = factories.store()
    rma = received(other, units=1)
    extras.add_extra_line(rma, other.manager, "Deep clean", -5000)
    plan = refunding.plan_refund(factories.fresh(rma))
    assert plan.total == 0 and "more than the refund" in plan.breakdown.capped_by


def test_a_credit_after_the_refund_is_offered_as_a_refund_and_blocks_finishing(store):
    rma = received(store)
    refunding.prepare_refund(rma, store.manager)
    for refund in Refund.select():
        refund_execution.execute_refund(refund.id, {"PAYMENT_GATEWAY": "ledger"})
    rma = factories.fresh(rma)
    assert "finish" in facts.next_actions(rma)
    extras.add_extra_line(rma, store.manager, "Return label refund", 450)
    rma = factories.fresh(rma)
    actions = facts.next_actions(rma)
    assert "refund" in actions and "finish" not in actions
    with pytest.raises(DomainError, match="extra line isn't settled"):
        finishing.finish(rma, store.agent)
    [refund] = refunding.prepare_refund(rma, store.manager)
    assert refund.amount == 450 and refund.breakdown["items"] == 0


def test_a_declined_refund_frees_its_extra_lines(store):
    factories.policy(refund_approval_threshold=100)
    rma = received(store)
    extras.add_extra_line(rma, store.manager, "Repair fee", -300)
    [refund] = refunding.prepare_refund(rma, store.manager)
    assert refund.status == "awaiting_approval"
    refunding.decline_refund(refund, store.manager2, "wrong fee")
    assert [x.refund_batch for x in extras.extra_lines(rma.id)] == [None]


@pytest.mark.parametrize(
    ("description", "amount", "error"),
    [("", -500, "Describe"), ("Fee", 0, "more than zero"), ("Fee", "5", "more than zero"),
     ("x" * 201, -5, "under 200"), ("Fee", 10**12, "too large")],
)  # fmt: skip
def test_bad_extra_lines_are_refused(store, description, amount, error):
    rma = received(store)
    with pytest.raises(DomainError, match=error):
        extras.add_extra_line(rma, store.manager, description, amount)
    assert ReturnExtraLine.select().count() == 0


def test_only_managers_add_extra_lines_and_not_on_closed_returns(store):
    rma = received(store)
    with pytest.raises(NotAllowed):
        extras.add_extra_line(rma, store.agent, "Fee", -100)
    closed = factories.create_return(factories.store().order, status="rejected")
    with pytest.raises(DomainError, match="closed"):
        extras.add_extra_line(closed, store.manager, "Fee", -100)


# --- bundles -------------------------------------------------------------------------------

BUNDLE = {
    "sku": "GIFT", "title": "Gift set", "quantity": 2, "unit_price": 5000, "unit_tax": 1000,
    "components": [
        {"sku": "MUG", "title": "Mug", "quantity": 2, "unit_price": 1000, "unit_tax": 200},
        {"sku": "CANDLE", "title": "Candle", "quantity": 1, "unit_price": 3000, "unit_tax": 600},
    ],
}  # fmt: skip


def bundle_order(make):
    shopper = make.user()
    order = make.order(customer=shopper, lines=[dict(BUNDLE)], shipping=0)
    lines = {ln.sku: ln for ln in OrderLine.select().where(OrderLine.order == order.id)}
    return shopper, order, lines


def test_a_bundle_is_returned_by_its_parts(ctx, make):
    _, order, lines = bundle_order(make)
    assert lines["MUG"].quantity == 4 and lines["CANDLE"].quantity == 2  # 2 bundles
    assert lines["MUG"].bundle_id == lines["GIFT"].id
    verdicts = {e.line.sku: e for e in eligibility.for_order(order)}
    assert [e.line.sku for e in eligibility.for_order(order)] == ["GIFT", "MUG", "CANDLE"]
    assert verdicts["GIFT"].returnable == 0
    assert verdicts["GIFT"].verdict.code == eligibility.BUNDLE
    assert verdicts["MUG"].returnable == 4 and verdicts["CANDLE"].returnable == 2
    reason = make.reason()
    with pytest.raises(Ineligible, match="bundle"):
        requests.request_return(order, None, order.email,
                                [requests.Selection(lines["GIFT"].id, 1, reason.id)])  # fmt: skip


def test_refunds_of_every_part_of_a_bundle_add_up_to_the_bundle_price(ctx, make):
    _, order, lines = bundle_order(make)
    manager, agent = make.staff("manager"), make.staff("agent")
    reason = make.reason(merchant_fault=True)  # no fees, so the parts refund in full
    rma = requests.request_return(order, None, order.email, [
        requests.Selection(lines["MUG"].id, 4, reason.id),
        requests.Selection(lines["CANDLE"].id, 2, reason.id),
    ])  # fmt: skip
    review.approve(rma, manager)
    receiving.receive(rma, agent, {ln.id: (ln.quantity, 0) for ln in facts.lines_of(rma.id)})
    created = refunding.prepare_refund(factories.fresh(rma), manager)
    assert sum(r.amount for r in created) == 2 * (5000 + 1000)  # exactly the bundles' price


@pytest.mark.parametrize(
    ("change", "message"),
    [({"unit_price": 4999}, "add up to"), ({"unit_tax": 0}, "add up to"),
     ({"components": []}, "non-empty list"),
     ({"components": [{"sku": "X", "title": "X", "quantity": 1, "unit_price": 5000,
                       "unit_tax": 1000, "components": []}]}, "can't have components")],
)  # fmt: skip
def test_a_bundle_whose_parts_do_not_add_up_is_refused(change, message):
    record = {"number": "B-1", "email": "b@example.com", "currency": "USD",
              "placed_at": "2026-01-01T00:00:00Z", "lines": [{**BUNDLE, **change}],
              "payments": [{"method": "card", "reference": "ch", "amount": 12000}]}  # fmt: skip
    with pytest.raises(RecordError, match=message):
        parse_order(record)


# --- returns staff create -------------------------------------------------------------------


def test_staff_create_a_return_with_the_same_rules_and_it_starts_approved(store):
    line = store.order.lines.get()
    rma = requests.request_return(store.order, store.shopper, store.order.email,
                                  [requests.Selection(line.id, 2, store.changed_mind.id)],
                                  staff=store.manager)  # fmt: skip
    assert rma.status == "approved"
    requested = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "requested"))
    assert requested.payload["by"] == "staff" and requested.actor_id == store.manager.id
    assert {m.payload["template"] for m in emails(rma)} == {"return_requested", "return_approved"}
    with pytest.raises(QuantityExceeded):
        requests.request_return(store.order, store.shopper, store.order.email,
                                [requests.Selection(line.id, 2, store.changed_mind.id)],
                                staff=store.agent)  # fmt: skip
    by_agent = requests.request_return(store.order, store.shopper, store.order.email,
                                       [requests.Selection(line.id, 1, store.changed_mind.id)],
                                       staff=store.agent)  # fmt: skip
    assert by_agent.status == "requested"  # approving is a manager's
    requests.cancel_return(by_agent, None)
    factories.policy(staff_returns_approved=False)
    other = requests.request_return(store.order, store.shopper, store.order.email,
                                    [requests.Selection(line.id, 1, store.changed_mind.id)],
                                    staff=store.manager)  # fmt: skip
    assert other.status == "requested"


def test_a_manager_overrides_a_closed_window_with_a_reason(ctx, make):
    shopper = make.user()
    order = make.order(customer=shopper, days_ago=60)  # delivered 58 days ago, 30-day window
    line = order.lines.get()
    reason = make.reason()
    agent, manager = make.staff("agent"), make.staff("manager")
    pick = [requests.Selection(line.id, 1, reason.id)]
    with pytest.raises(Ineligible, match="window closed"):
        requests.request_return(order, shopper, order.email, pick, staff=manager)
    with pytest.raises(NotAllowed):
        requests.request_return(order, shopper, order.email, pick, staff=agent,
                                override_reason="Goodwill")  # fmt: skip
    rma = requests.request_return(order, shopper, order.email, pick, staff=manager,
                                  override_reason="Goodwill: courier lost the first parcel")  # fmt: skip
    event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "requested"))
    assert event.payload["override_reason"] == "Goodwill: courier lost the first parcel"
    fresh_order = make.order(customer=shopper)
    with pytest.raises(DomainError, match="still open"):
        requests.request_return(fresh_order, shopper, fresh_order.email,
                                [requests.Selection(fresh_order.lines.get().id, 1, reason.id)],
                                staff=manager, override_reason="not needed")  # fmt: skip


def test_staff_and_shoppers_racing_for_the_last_units_never_take_more(any_app, tmp_path):
    with any_app.app_context():
        store = factories.store(quantity=3)
        line_id = store.order.lines.get().id
        reason_id = store.changed_mind.id
        order_id = store.order.id
        staff_ids = [store.agent.id, store.manager.id]
    db.close()
    results, barrier = [], threading.Barrier(8)

    def attempt(i):
        with any_app.app_context(), db.connection_context():
            from portal.models import Order, User

            order = Order.get_by_id(order_id)
            staff = User.get_by_id(staff_ids[i % 2]) if i % 2 == 0 else None
            barrier.wait(timeout=30)
            try:
                requests.request_return(order, None, order.email,
                                        [requests.Selection(line_id, 1, reason_id)],
                                        staff=staff)  # fmt: skip
                results.append("ok")
            except DomainError:
                results.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["ok"] * 3 + ["refused"] * 5
    with any_app.app_context():
        assert Return.select().count() == 3


# --- what the shopper is told --------------------------------------------------------------


def test_a_rejection_at_inspection_is_emailed_to_the_shopper(store):
    rma = received(store)
    line = factories.line_of(rma)
    inspection.inspect(rma, store.agent, {line.id: ("rejected", "Worn and washed")})
    [mail] = emails(rma, "items_rejected")
    assert mail.payload["to"] == rma.email
    assert mail.payload["context"]["lines"][0]["note"] == "Worn and washed"


def test_hold_resume_completion_and_a_failed_refund_are_emailed(store):
    rma = received(store)
    review.hold(rma, store.agent, "Waiting for the courier's report")
    [held] = emails(rma, "return_on_hold")
    assert held.payload["context"]["note"] == "Waiting for the courier's report"
    review.resume(factories.fresh(rma), store.agent)
    [resumed] = emails(rma, "return_resumed")
    assert resumed.payload["context"]["status_label"] == "Received"
    [refund] = refunding.prepare_refund(factories.fresh(rma), store.manager)
    refund_execution.fail(refund.id, "card closed", staff_email="team@example.com")
    [staff_mail] = emails(rma, "staff_refund_failed")
    assert staff_mail.payload["to"] == "team@example.com"
    assert staff_mail.payload["context"]["error"] == "card closed"
    refund_execution.retry_refund(refund, store.manager)
    refund_execution.execute_refund(refund.id, {"PAYMENT_GATEWAY": "ledger"})
    finishing.finish(factories.fresh(rma), store.agent)
    [done] = emails(rma, "return_completed")
    context = done.payload["context"]
    assert context["refunded"] == 3000 and context["breakdown"]["items"] == 3000
    assert context["refunds"] == [{"method": "card", "amount": 3000}]


# --- settings -----------------------------------------------------------------------------


def test_reasons_nest_one_level_deep(store):
    parent = store.changed_mind
    child = settings.save_reason(store.manager, code="too_small", label="Too small",
                                 parent_id=parent.id)  # fmt: skip
    with pytest.raises(DomainError, match="one level deep"):
        settings.save_reason(store.manager, code="much_too_small", label="Much too small",
                             parent_id=child.id)  # fmt: skip
    with pytest.raises(DomainError, match="stays at the top level"):
        settings.save_reason(store.manager, parent.id, code=parent.code, label=parent.label,
                             parent_id=store.defective.id)  # fmt: skip


def test_with_inventory_tracking_off_restock_is_not_a_next_action(store):
    rma = received(store)
    assert "restock" in facts.next_actions(rma)
    factories.policy(inventory_tracking=False)
    assert "restock" not in facts.next_actions(factories.fresh(rma))
    with pytest.raises(DomainError, match="doesn't track inventory"):
        inspection.restock(rma, store.agent, factories.line_of(rma).id, 1, store.main)


def test_restocking_with_no_location_says_where_to_add_one(ctx, make):
    store = factories.store()
    rma = received(store)
    for location in (store.main, store.quarantine):
        location.active = False
        location.save()
    with pytest.raises(DomainError, match="Settings, Locations"):
        inspection.restock(rma, store.agent, factories.line_of(rma).id, 1, None)


def test_every_settings_change_writes_an_audit_entry(store):
    settings.update_policy(store.manager, window_days=45, restocking_fee_bps=1000)
    settings.update_policy(store.manager, window_days=45)  # no change: no entry
    reason = settings.save_reason(store.manager, code="late", label="Arrived late")
    settings.set_reason_active(store.manager, reason.id, False)
    location = locations.add_location(store.manager, "Overflow")
    locations.change_location(store.manager, location.id, "Overflow shed")
    entries = [(e.action, e.subject, e.before, e.after)
               for e in AuditEntry.select().order_by(AuditEntry.id)]  # fmt: skip
    assert entries[0] == ("policy.updated", "policy",
                          {"restocking_fee_bps": 0, "window_days": 30},
                          {"restocking_fee_bps": 1000, "window_days": 45})  # fmt: skip
    assert [e[0] for e in entries] == ["policy.updated", "reason.added", "reason.deactivated",
                                       "location.added", "location.changed"]  # fmt: skip
    assert entries[-1][2:] == ({"name": "Overflow"}, {"name": "Overflow shed"})
    assert {e.actor_id for e in AuditEntry.select()} == {store.manager.id}


def test_the_approval_gives_a_target_date_in_the_store_time_zone(store):
    factories.policy(timezone="Pacific/Auckland", expire_unshipped_days=10)
    at = datetime.datetime(2026, 3, 1, 20, 0)  # 09:00 on 2 March in Auckland
    changes = review.approval_changes(factories.policy(), at)
    assert changes["target_date"] == datetime.date(2026, 3, 12)

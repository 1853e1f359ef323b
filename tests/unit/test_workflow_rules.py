"""The merchant workflow's rules, called as domain functions (no Flask views): review, hold,
receive, inspect, restock, finish, the completed-return lock, versions, and the quantity
invariants under any sequence of receipts and restocks (hypothesis)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import (
    Order,
    OutboxMessage,
    Refund,
    Return,
    ReturnEvent,
    ReturnLine,
    StockLevel,
    StockMovement,
)
from portal.returns import (
    facts,
    finishing,
    inspection,
    quantities,
    receiving,
    refunding,
    review,
    states,
)
from portal.returns.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotAllowed,
    QuantityExceeded,
)
from tests import factories
from tests import merchant_factories as mf


@pytest.fixture
def shop(app):
    with app.app_context():
        yield mf.store()


def new_return(shop, **kw):
    kw.setdefault("reason", shop.changed_mind)
    return mf.create_return(shop.order, **kw)


def approved(shop, **kw):
    rma = new_return(shop, **kw)
    review.approve(rma, shop.manager)
    return mf.fresh(rma)


def kinds(rma):
    return [
        e.kind
        for e in ReturnEvent.select().where(ReturnEvent.rma == rma.id).order_by(ReturnEvent.id)
    ]


def settle_refunds(rma):
    """Stand-in for the worker: the refunds went through."""
    Refund.update(status="succeeded").where(Refund.rma == rma.id).execute()


# --- review --------------------------------------------------------------------------------


def test_approve_needs_a_manager_and_writes_an_event(shop):
    rma = new_return(shop)
    with pytest.raises(NotAllowed, match="Only managers"):
        review.approve(rma, shop.agent)
    assert mf.fresh(rma).status == "requested"
    review.approve(rma, shop.manager)
    fresh = mf.fresh(rma)
    assert fresh.status == "approved" and fresh.approved_at is not None
    assert fresh.version == rma.version + 1
    assert kinds(rma) == ["requested", "approved"]


def test_approval_requires_a_responsible_member_when_the_policy_says_so(shop):
    factories.policy(require_responsible=True)
    rma = new_return(shop)
    with pytest.raises(DomainError, match="responsible"):
        review.approve(rma, shop.manager)
    assert mf.fresh(rma).status == "requested"
    review.assign_responsible(rma, shop.agent, shop.agent)
    review.approve(rma, shop.manager)
    assert mf.fresh(rma).status == "approved"
    assert mf.fresh(rma).responsible_id == shop.agent.id
    with pytest.raises(DomainError, match="active staff"):
        review.assign_responsible(rma, shop.agent, shop.shopper)


def test_rejection_needs_a_reason_the_shopper_reads(shop):
    rma = new_return(shop)
    with pytest.raises(DomainError, match="Say why"):
        review.reject(rma, shop.manager, "  ")
    review.reject(rma, shop.manager, "Worn and washed.")
    fresh = mf.fresh(rma)
    assert fresh.status == "rejected" and fresh.rejection_reason == "Worn and washed."
    event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "rejected"))
    assert event.internal is False and event.payload["reason"] == "Worn and washed."


def test_hold_and_resume_go_back_to_the_state_held_from(shop):
    rma = approved(shop)
    review.hold(rma, shop.agent, note="Waiting for the carrier")
    fresh = mf.fresh(rma)
    assert (fresh.status, fresh.held_from) == ("on_hold", "approved")
    assert facts.next_actions(fresh) == ["resume"]
    line = mf.line_of(rma)
    with pytest.raises(InvalidTransition, match="on hold"):
        receiving.receive(rma, shop.agent, {line.id: (1, 0)})
    review.resume(rma, shop.agent)
    fresh = mf.fresh(rma)
    assert (fresh.status, fresh.held_from) == ("approved", None)
    assert kinds(rma)[-2:] == ["on_hold", "resumed"]


def test_internal_notes_are_internal_events(shop):
    rma = new_return(shop)
    review.add_internal_note(rma, shop.agent, "Customer called about the size.")
    event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "note"))
    assert event.internal is True and event.payload["text"].startswith("Customer called")
    with pytest.raises(DomainError):
        review.add_internal_note(rma, shop.agent, "")


def test_a_stale_version_is_refused_and_nothing_changes(shop):
    rma = new_return(shop)
    seen = rma.version
    review.add_internal_note(rma, shop.agent, "first")
    with pytest.raises(Conflict, match="Someone else changed"):
        review.approve(rma, shop.manager, version=seen)
    assert mf.fresh(rma).status == "requested"
    review.approve(rma, shop.manager, version=seen + 1)
    assert mf.fresh(rma).status == "approved"


# --- receiving -----------------------------------------------------------------------------


def test_receive_before_approval_is_refused(shop):
    rma = new_return(shop)
    line = mf.line_of(rma)
    with pytest.raises(InvalidTransition, match="Approve this return before receiving"):
        receiving.receive(rma, shop.agent, {line.id: (1, 0)})
    assert mf.line_of(rma).received_quantity == 0
    assert mf.fresh(rma).version == rma.version


def test_partial_receipts_add_up_and_move_the_status(shop):
    rma = approved(shop)
    line = mf.line_of(rma)
    order_version = Order.get_by_id(shop.order.id).version
    receiving.receive(rma, shop.agent, {line.id: (2, 1)})
    assert mf.fresh(rma).status == "partially_received"
    assert Order.get_by_id(shop.order.id).version == order_version + 1
    receiving.receive(rma, shop.agent, {line.id: (1, 0)})
    fresh, line = mf.fresh(rma), mf.line_of(rma)
    assert fresh.status == "received"
    assert (line.received_quantity, line.damaged_quantity) == (3, 1)
    assert Order.get_by_id(shop.order.id).version == order_version + 2
    emails = [m for m in OutboxMessage.select().where((OutboxMessage.kind == "email") &
                                                      (OutboxMessage.rma == rma.id))
              if m.payload["template"] != "return_approved"]  # fmt: skip
    assert [m.payload["template"] for m in emails] == ["return_received", "return_received"]
    assert emails[0].payload["to"] == rma.email
    assert emails[0].payload["context"]["lines"] == [
        {"title": "Classic tee", "received": 2, "damaged": 1}
    ]


def test_receipt_quantities_are_checked(shop):
    rma = approved(shop)
    line = mf.line_of(rma)
    with pytest.raises(QuantityExceeded, match="damaged units are part of the received"):
        receiving.receive(rma, shop.agent, {line.id: (1, 2)})
    with pytest.raises(QuantityExceeded, match="only 3 more"):
        receiving.receive(rma, shop.agent, {line.id: (4, 0)})
    with pytest.raises(DomainError, match="Enter the units received"):
        receiving.receive(rma, shop.agent, {line.id: (0, 0)})
    with pytest.raises(DomainError, match="whole numbers"):
        receiving.receive(rma, shop.agent, {line.id: (-1, 0)})
    assert mf.line_of(rma).received_quantity == 0
    assert mf.fresh(rma).status == "approved"


def test_missing_and_wrong_items_need_a_note_and_count_as_exceptions(shop):
    rma = approved(shop)
    line = mf.line_of(rma)
    with pytest.raises(DomainError, match="add a note"):
        receiving.receive(rma, shop.agent, {line.id: (1, 0, 1, 0, "")})
    receiving.receive(rma, shop.agent, {line.id: (1, 0, 1, 1, "One missing, one sock")})
    line = mf.line_of(rma)
    assert (line.received_quantity, line.missing_quantity, line.wrong_item_quantity) == (1, 1, 1)
    # The missing unit turns up after all: it is no longer counted missing.
    receiving.receive(rma, shop.agent, {line.id: (2, 0)})
    line = mf.line_of(rma)
    assert (line.received_quantity, line.missing_quantity, line.wrong_item_quantity) == (3, 0, 0)


def test_undamaged_units_are_accepted_on_receipt_damaged_ones_wait(shop):
    rma = approved(shop)
    line = mf.line_of(rma)
    receiving.receive(rma, shop.agent, {line.id: (1, 0)})
    assert mf.line_of(rma).inspection == "accepted"
    receiving.receive(rma, shop.agent, {line.id: (1, 1)})
    assert mf.line_of(rma).inspection == "pending"
    assert "inspect" in facts.next_actions(mf.fresh(rma))
    with pytest.raises(DomainError, match="say why"):
        inspection.inspect(rma, shop.agent, {line.id: ("rejected", "")})
    inspection.inspect(rma, shop.agent, {line.id: ("accepted", "")})
    assert mf.line_of(rma).inspection == "accepted"


def test_receiving_without_accept_on_receipt_leaves_inspection_to_staff(shop):
    rma = approved(shop)
    line = mf.line_of(rma)
    receiving.receive(rma, shop.agent, {line.id: (3, 0)}, accept_on_receipt=False)
    assert mf.line_of(rma).inspection == "pending"
    inspection.inspect(rma, shop.agent, {line.id: ("rejected", "Not our item")})
    line = mf.line_of(rma)
    assert (line.inspection, line.inspection_note) == ("rejected", "Not our item")


# --- restocking ----------------------------------------------------------------------------


def test_restock_writes_movements_and_stock_levels_never_damaged_units(shop):
    rma = approved(shop)
    line = mf.line_of(rma)
    receiving.receive(rma, shop.agent, {line.id: (2, 1)})
    with pytest.raises(DomainError, match="accept it at inspection"):
        inspection.restock(rma, shop.agent, line.id, 1, shop.main)
    inspection.inspect(rma, shop.agent, {line.id: ("accepted", "")})
    with pytest.raises(QuantityExceeded, match="damaged unit.*never restocked"):
        inspection.restock(rma, shop.agent, line.id, 2, shop.main)
    with pytest.raises(DomainError, match="sellable"):
        inspection.restock(rma, shop.agent, line.id, 1, shop.quarantine)
    assert StockMovement.select().count() == 0
    inspection.restock(rma, shop.agent, line.id, 1, shop.main, quarantine_qty=1,
                     quarantine_location=shop.quarantine)  # fmt: skip
    line = mf.line_of(rma)
    assert (line.restocked_quantity, line.quarantined_quantity) == (1, 1)
    level = StockLevel.get((StockLevel.location == shop.main) & (StockLevel.sku == "TEE-M"))
    assert level.quantity == 1
    qlevel = StockLevel.get(StockLevel.location == shop.quarantine)
    assert qlevel.quantity == 1
    moves = {(m.location_id, m.reason, m.quantity) for m in StockMovement.select()}
    assert moves == {(shop.main.id, "restock", 1), (shop.quarantine.id, "quarantine", 1)}
    with pytest.raises(QuantityExceeded):
        inspection.restock(rma, shop.agent, line.id, 1, shop.main)
    assert "restock" not in facts.next_actions(mf.fresh(rma))


# --- finishing -----------------------------------------------------------------------------


def test_finish_needs_settled_lines_and_no_pending_refund_then_releases_units(shop):
    rma = approved(shop)
    line = mf.line_of(rma)
    receiving.receive(rma, shop.agent, {line.id: (2, 1)})
    with pytest.raises(InvalidTransition, match="accepted or rejected"):
        finishing.finish(rma, shop.agent)
    inspection.inspect(rma, shop.agent, {line.id: ("accepted", "")})
    with pytest.raises(InvalidTransition, match="refunded or credited"):
        finishing.finish(rma, shop.agent)
    refunding.prepare_refund(rma, shop.manager)
    with pytest.raises(InvalidTransition, match="refund is still pending"):
        finishing.finish(rma, shop.agent)
    assert mf.fresh(rma).status == "partially_received"
    settle_refunds(rma)
    assert quantities.taken_by_line([line.order_line_id]) == {line.order_line_id: 3}
    finishing.finish(rma, shop.agent)
    fresh = mf.fresh(rma)
    assert fresh.status == "completed" and fresh.completed_at is not None
    released = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "released"))
    assert released.payload["units"] == 1
    assert released.payload["lines"][0]["units"] == 1
    # Only what arrived still counts against the order line: the other unit is returnable.
    assert quantities.taken_by_line([line.order_line_id]) == {line.order_line_id: 2}


def test_a_completed_return_refuses_every_change(shop):
    rma = approved(shop)
    line = mf.line_of(rma)
    receiving.receive(rma, shop.agent, {line.id: (3, 0)})
    refunding.prepare_refund(rma, shop.manager)
    settle_refunds(rma)
    finishing.finish(rma, shop.agent)
    before = mf.fresh(rma)
    attempts = [
        lambda: review.approve(rma, shop.manager),
        lambda: review.reject(rma, shop.manager, "no"),
        lambda: review.hold(rma, shop.agent),
        lambda: receiving.receive(rma, shop.agent, {line.id: (1, 0)}),
        lambda: inspection.inspect(rma, shop.agent, {line.id: ("rejected", "late")}),
        lambda: inspection.restock(rma, shop.agent, line.id, 1, shop.main),
        lambda: review.assign_responsible(rma, shop.agent, shop.agent),
        lambda: review.add_internal_note(rma, shop.agent, "hello"),
        lambda: finishing.finish(rma, shop.agent),
        lambda: refunding.prepare_refund(rma, shop.manager),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidTransition, match="completed and locked"):
            attempt()
    after = mf.fresh(rma)
    assert (after.status, after.version) == (before.status, before.version)
    assert mf.line_of(rma).restocked_quantity == 0
    assert facts.next_actions(after) == []


def test_the_policy_can_allow_editing_completed_returns(shop):
    rma = approved(shop)
    line = mf.line_of(rma)
    receiving.receive(rma, shop.agent, {line.id: (3, 0)})
    refunding.prepare_refund(rma, shop.manager)
    settle_refunds(rma)
    finishing.finish(rma, shop.agent)
    factories.policy(allow_edit_completed=True)
    assert facts.next_actions(mf.fresh(rma)) == ["restock"]
    inspection.restock(rma, shop.agent, line.id, 3, shop.main)
    review.add_internal_note(rma, shop.agent, "Restocked after the count.")
    assert mf.fresh(rma).status == "completed"
    with pytest.raises(InvalidTransition):
        review.hold(rma, shop.agent)


# --- next actions come from the domain -----------------------------------------------------


def test_next_actions_follow_the_return(shop):
    rma = new_return(shop)
    assert facts.next_actions(rma) == ["review", "hold", "cancel"]
    review.approve(rma, shop.manager)
    assert facts.next_actions(mf.fresh(rma)) == ["receive", "hold", "cancel"]
    line = mf.line_of(rma)
    receiving.receive(rma, shop.agent, {line.id: (3, 0)})
    assert facts.next_actions(mf.fresh(rma)) == ["restock", "refund", "hold"]
    factories.policy(refund_approval_threshold=100)
    refunding.prepare_refund(rma, shop.manager)
    assert facts.next_actions(mf.fresh(rma)) == ["restock", "approve_refund", "hold"]


def test_staff_cancel_needs_a_manager_and_a_reason(shop):
    rma = approved(shop)
    with pytest.raises(NotAllowed):
        review.cancel(rma, shop.agent, "phoned")
    with pytest.raises(DomainError):
        review.cancel(rma, shop.manager, "")
    review.cancel(rma, shop.manager, "The shopper phoned to keep it.")
    assert mf.fresh(rma).status == "cancelled"


# --- invariants under any sequence (hypothesis) --------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.integers(0, 4), st.integers(0, 4), st.integers(0, 2)),
        st.tuples(st.just("restock"), st.integers(0, 4), st.integers(0, 3), st.just(0)),
        st.tuples(
            st.just("inspect"), st.sampled_from(["accepted", "rejected"]), st.just(0), st.just(0)
        ),  # fmt: skip
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(requested=st.integers(1, 3), sequence=steps)
def test_quantities_hold_under_any_sequence_of_receipts_and_restocks(shop, requested, sequence):
    order = factories.order(customer=shop.shopper,
                            lines=[{"sku": "HYP", "quantity": 3, "unit_price": 500}])  # fmt: skip
    ol = order.lines.get()
    rma = mf.create_return(order, lines=[(ol, requested, shop.changed_mind)])
    review.approve(rma, shop.manager)
    line_id = mf.line_of(rma).id
    for step in sequence:
        before = ReturnLine.get_by_id(line_id)
        try:
            if step[0] == "receive":
                _, received, damaged, missing = step
                note = "gap" if missing else ""
                receiving.receive(rma, shop.agent, {line_id: (received, damaged, missing, 0, note)})
            elif step[0] == "restock":
                _, qty, q_qty, _ = step
                inspection.restock(rma, shop.agent, line_id, qty, shop.main, quarantine_qty=q_qty,
                                 quarantine_location=shop.quarantine)  # fmt: skip
            else:
                inspection.inspect(rma, shop.agent, {line_id: (step[1], "checked")})
        except DomainError:
            after = ReturnLine.get_by_id(line_id)
            assert after.__data__ == before.__data__, "a refusal must change nothing"
        line = ReturnLine.get_by_id(line_id)
        assert 0 <= line.damaged_quantity <= line.received_quantity <= line.quantity
        assert 0 <= line.restocked_quantity <= line.received_quantity - line.damaged_quantity
        assert 0 <= line.quarantined_quantity <= line.damaged_quantity
        assert (
            line.received_quantity + line.missing_quantity + line.wrong_item_quantity
            <= line.quantity
        )
        stock = sum(m.quantity for m in StockMovement.select().where(
            (StockMovement.return_line_id == line_id) & (StockMovement.reason == "restock")))  # fmt: skip
        assert stock == line.restocked_quantity
        status = Return.get_by_id(rma.id).status
        expected = ("received" if line.received_quantity == line.quantity else
                    "partially_received" if line.received_quantity else "approved")  # fmt: skip
        assert status == expected
        assert states.next_actions(facts.facts_for(Return.get_by_id(rma.id))) is not None

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


def new_return(store, **kw):
    kw.setdefault("reason", store.changed_mind)
    return factories.create_return(store.order, **kw)


def approved(store, **kw):
    rma = new_return(store, **kw)
    review.approve(rma, store.manager)
    return factories.fresh(rma)


def kinds(rma):
    return [
        e.kind
        for e in ReturnEvent.select().where(ReturnEvent.rma == rma.id).order_by(ReturnEvent.id)
    ]


def settle_refunds(rma):
    """Stand-in for the worker: the refunds went through."""
    Refund.update(status="succeeded").where(Refund.rma == rma.id).execute()


# --- review --------------------------------------------------------------------------------


def test_approve_needs_a_manager_and_writes_an_event(store):
    rma = new_return(store)
    with pytest.raises(NotAllowed, match="Only managers"):
        review.approve(rma, store.agent)
    assert factories.fresh(rma).status == "requested"
    review.approve(rma, store.manager)
    fresh = factories.fresh(rma)
    assert fresh.status == "approved" and fresh.approved_at is not None
    assert fresh.version == rma.version + 1
    assert kinds(rma) == ["requested", "approved"]


def test_approval_requires_a_responsible_member_when_the_policy_says_so(store):
    factories.policy(require_responsible=True)
    rma = new_return(store)
    with pytest.raises(DomainError, match="responsible"):
        review.approve(rma, store.manager)
    assert factories.fresh(rma).status == "requested"
    review.assign_responsible(rma, store.agent, store.agent)
    review.approve(rma, store.manager)
    assert factories.fresh(rma).status == "approved"
    assert factories.fresh(rma).responsible_id == store.agent.id
    with pytest.raises(DomainError, match="active staff"):
        review.assign_responsible(rma, store.agent, store.shopper)


def test_rejection_needs_a_reason_the_shopper_reads(store):
    rma = new_return(store)
    with pytest.raises(DomainError, match="Say why"):
        review.reject(rma, store.manager, "  ")
    review.reject(rma, store.manager, "Worn and washed.")
    fresh = factories.fresh(rma)
    assert fresh.status == "rejected" and fresh.rejection_reason == "Worn and washed."
    event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "rejected"))
    assert event.internal is False and event.payload["reason"] == "Worn and washed."


def test_hold_and_resume_go_back_to_the_state_held_from(store):
    rma = approved(store)
    review.hold(rma, store.agent, note="Waiting for the carrier")
    fresh = factories.fresh(rma)
    assert (fresh.status, fresh.held_from) == ("on_hold", "approved")
    assert facts.next_actions(fresh) == ["resume"]
    line = factories.line_of(rma)
    with pytest.raises(InvalidTransition, match="on hold"):
        receiving.receive(rma, store.agent, {line.id: (1, 0)})
    review.resume(rma, store.agent)
    fresh = factories.fresh(rma)
    assert (fresh.status, fresh.held_from) == ("approved", None)
    assert kinds(rma)[-2:] == ["on_hold", "resumed"]


def test_internal_notes_are_internal_events(store):
    rma = new_return(store)
    review.add_internal_note(rma, store.agent, "Customer called about the size.")
    event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "note"))
    assert event.internal is True and event.payload["text"].startswith("Customer called")
    with pytest.raises(DomainError):
        review.add_internal_note(rma, store.agent, "")


def test_a_stale_version_is_refused_and_nothing_changes(store):
    rma = new_return(store)
    seen = rma.version
    review.add_internal_note(rma, store.agent, "first")
    with pytest.raises(Conflict, match="Someone else changed"):
        review.approve(rma, store.manager, version=seen)
    assert factories.fresh(rma).status == "requested"
    review.approve(rma, store.manager, version=seen + 1)
    assert factories.fresh(rma).status == "approved"


# --- receiving -----------------------------------------------------------------------------


def test_receive_before_approval_is_refused(store):
    rma = new_return(store)
    line = factories.line_of(rma)
    with pytest.raises(InvalidTransition, match="Approve this return before receiving"):
        receiving.receive(rma, store.agent, {line.id: (1, 0)})
    assert factories.line_of(rma).received_quantity == 0
    assert factories.fresh(rma).version == rma.version


def test_partial_receipts_add_up_and_move_the_status(store):
    rma = approved(store)
    line = factories.line_of(rma)
    order_version = Order.get_by_id(store.order.id).version
    receiving.receive(rma, store.agent, {line.id: (2, 1)})
    assert factories.fresh(rma).status == "partially_received"
    assert Order.get_by_id(store.order.id).version == order_version + 1
    receiving.receive(rma, store.agent, {line.id: (1, 0)})
    fresh, line = factories.fresh(rma), factories.line_of(rma)
    assert fresh.status == "received"
    assert (line.received_quantity, line.damaged_quantity) == (3, 1)
    assert Order.get_by_id(store.order.id).version == order_version + 2
    emails = [m for m in OutboxMessage.select().where((OutboxMessage.kind == "email") &
                                                      (OutboxMessage.rma == rma.id))
              if m.payload["template"] != "return_approved"]  # fmt: skip
    assert [m.payload["template"] for m in emails] == ["return_received", "return_received"]
    assert emails[0].payload["to"] == rma.email
    assert emails[0].payload["context"]["lines"] == [
        {"title": "Classic tee", "received": 2, "damaged": 1}
    ]


def test_receipt_quantities_are_checked(store):
    rma = approved(store)
    line = factories.line_of(rma)
    with pytest.raises(QuantityExceeded, match="damaged units are part of the received"):
        receiving.receive(rma, store.agent, {line.id: (1, 2)})
    with pytest.raises(QuantityExceeded, match="only 3 more"):
        receiving.receive(rma, store.agent, {line.id: (4, 0)})
    with pytest.raises(DomainError, match="Enter the units received"):
        receiving.receive(rma, store.agent, {line.id: (0, 0)})
    with pytest.raises(DomainError, match="whole numbers"):
        receiving.receive(rma, store.agent, {line.id: (-1, 0)})
    assert factories.line_of(rma).received_quantity == 0
    assert factories.fresh(rma).status == "approved"


def test_missing_and_wrong_items_need_a_note_and_count_as_exceptions(store):
    rma = approved(store)
    line = factories.line_of(rma)
    with pytest.raises(DomainError, match="add a note"):
        receiving.receive(rma, store.agent, {line.id: (1, 0, 1, 0, "")})
    receiving.receive(rma, store.agent, {line.id: (1, 0, 1, 1, "One missing, one sock")})
    line = factories.line_of(rma)
    assert (line.received_quantity, line.missing_quantity, line.wrong_item_quantity) == (1, 1, 1)
    # The missing unit turns up after all: it is no longer counted missing.
    receiving.receive(rma, store.agent, {line.id: (2, 0)})
    line = factories.line_of(rma)
    assert (line.received_quantity, line.missing_quantity, line.wrong_item_quantity) == (3, 0, 0)


def test_undamaged_units_are_accepted_on_receipt_damaged_ones_wait(store):
    rma = approved(store)
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (1, 0)})
    assert factories.line_of(rma).inspection == "accepted"
    receiving.receive(rma, store.agent, {line.id: (1, 1)})
    assert factories.line_of(rma).inspection == "pending"
    assert "inspect" in facts.next_actions(factories.fresh(rma))
    with pytest.raises(DomainError, match="say why"):
        inspection.inspect(rma, store.agent, {line.id: ("rejected", "")})
    inspection.inspect(rma, store.agent, {line.id: ("accepted", "")})
    assert factories.line_of(rma).inspection == "accepted"


def test_receiving_without_accept_on_receipt_leaves_inspection_to_staff(store):
    rma = approved(store)
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (3, 0)}, accept_on_receipt=False)
    assert factories.line_of(rma).inspection == "pending"
    inspection.inspect(rma, store.agent, {line.id: ("rejected", "Not our item")})
    line = factories.line_of(rma)
    assert (line.inspection, line.inspection_note) == ("rejected", "Not our item")


# --- restocking ----------------------------------------------------------------------------


def test_restock_writes_movements_and_stock_levels_never_damaged_units(store):
    rma = approved(store)
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (2, 1)})
    with pytest.raises(DomainError, match="accept it at inspection"):
        inspection.restock(rma, store.agent, line.id, 1, store.main)
    inspection.inspect(rma, store.agent, {line.id: ("accepted", "")})
    with pytest.raises(QuantityExceeded, match="damaged unit.*never restocked"):
        inspection.restock(rma, store.agent, line.id, 2, store.main)
    with pytest.raises(DomainError, match="sellable"):
        inspection.restock(rma, store.agent, line.id, 1, store.quarantine)
    assert StockMovement.select().count() == 0
    inspection.restock(rma, store.agent, line.id, 1, store.main, quarantine_qty=1,
                     quarantine_location=store.quarantine)  # fmt: skip
    line = factories.line_of(rma)
    assert (line.restocked_quantity, line.quarantined_quantity) == (1, 1)
    level = StockLevel.get((StockLevel.location == store.main) & (StockLevel.sku == "TEE-M"))
    assert level.quantity == 1
    qlevel = StockLevel.get(StockLevel.location == store.quarantine)
    assert qlevel.quantity == 1
    moves = {(m.location_id, m.reason, m.quantity) for m in StockMovement.select()}
    assert moves == {(store.main.id, "restock", 1), (store.quarantine.id, "quarantine", 1)}
    with pytest.raises(QuantityExceeded):
        inspection.restock(rma, store.agent, line.id, 1, store.main)
    assert "restock" not in facts.next_actions(factories.fresh(rma))


# --- finishing -----------------------------------------------------------------------------


def test_finish_needs_settled_lines_and_no_pending_refund_then_releases_units(store):
    rma = approved(store)
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (2, 1)})
    with pytest.raises(InvalidTransition, match="accepted or rejected"):
        finishing.finish(rma, store.agent)
    inspection.inspect(rma, store.agent, {line.id: ("accepted", "")})
    with pytest.raises(InvalidTransition, match="refunded or credited"):
        finishing.finish(rma, store.agent)
    refunding.prepare_refund(rma, store.manager)
    with pytest.raises(InvalidTransition, match="refund is still pending"):
        finishing.finish(rma, store.agent)
    assert factories.fresh(rma).status == "partially_received"
    settle_refunds(rma)
    assert quantities.taken_by_line([line.order_line_id]) == {line.order_line_id: 3}
    finishing.finish(rma, store.agent)
    fresh = factories.fresh(rma)
    assert fresh.status == "completed" and fresh.completed_at is not None
    released = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "released"))
    assert released.payload["units"] == 1
    assert released.payload["lines"][0]["units"] == 1
    # Only what arrived still counts against the order line: the other unit is returnable.
    assert quantities.taken_by_line([line.order_line_id]) == {line.order_line_id: 2}


def test_a_completed_return_refuses_every_change(store):
    rma = approved(store)
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (3, 0)})
    refunding.prepare_refund(rma, store.manager)
    settle_refunds(rma)
    finishing.finish(rma, store.agent)
    before = factories.fresh(rma)
    attempts = [
        lambda: review.approve(rma, store.manager),
        lambda: review.reject(rma, store.manager, "no"),
        lambda: review.hold(rma, store.agent),
        lambda: receiving.receive(rma, store.agent, {line.id: (1, 0)}),
        lambda: inspection.inspect(rma, store.agent, {line.id: ("rejected", "late")}),
        lambda: inspection.restock(rma, store.agent, line.id, 1, store.main),
        lambda: review.assign_responsible(rma, store.agent, store.agent),
        lambda: review.add_internal_note(rma, store.agent, "hello"),
        lambda: finishing.finish(rma, store.agent),
        lambda: refunding.prepare_refund(rma, store.manager),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidTransition, match="completed and locked"):
            attempt()
    after = factories.fresh(rma)
    assert (after.status, after.version) == (before.status, before.version)
    assert factories.line_of(rma).restocked_quantity == 0
    assert facts.next_actions(after) == []


def test_the_policy_can_allow_editing_completed_returns(store):
    rma = approved(store)
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (3, 0)})
    refunding.prepare_refund(rma, store.manager)
    settle_refunds(rma)
    finishing.finish(rma, store.agent)
    factories.policy(allow_edit_completed=True)
    assert facts.next_actions(factories.fresh(rma)) == ["restock"]
    inspection.restock(rma, store.agent, line.id, 3, store.main)
    review.add_internal_note(rma, store.agent, "Restocked after the count.")
    assert factories.fresh(rma).status == "completed"
    with pytest.raises(InvalidTransition):
        review.hold(rma, store.agent)


# --- next actions come from the domain -----------------------------------------------------


def test_next_actions_follow_the_return(store):
    rma = new_return(store)
    assert facts.next_actions(rma) == ["review", "hold", "cancel"]
    review.approve(rma, store.manager)
    assert facts.next_actions(factories.fresh(rma)) == ["receive", "hold", "cancel"]
    line = factories.line_of(rma)
    receiving.receive(rma, store.agent, {line.id: (3, 0)})
    assert facts.next_actions(factories.fresh(rma)) == ["restock", "refund", "hold"]
    factories.policy(refund_approval_threshold=100)
    refunding.prepare_refund(rma, store.manager)
    assert facts.next_actions(factories.fresh(rma)) == ["restock", "approve_refund", "hold"]


def test_staff_cancel_needs_a_manager_and_a_reason(store):
    rma = approved(store)
    with pytest.raises(NotAllowed):
        review.cancel(rma, store.agent, "phoned")
    with pytest.raises(DomainError):
        review.cancel(rma, store.manager, "")
    review.cancel(rma, store.manager, "The shopper phoned to keep it.")
    assert factories.fresh(rma).status == "cancelled"


# --- invariants under any sequence (hypothesis) --------------------------------------------

KNOWN_ACTIONS = {"review", "receive", "inspect", "restock", "refund", "retry_refund",
                 "approve_refund", "finish", "hold", "cancel", "resume"}  # fmt: skip

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
def test_quantities_hold_under_any_sequence_of_receipts_and_restocks(store, requested, sequence):
    order = factories.order(customer=store.shopper,
                            lines=[{"sku": "HYP", "quantity": 3, "unit_price": 500}])  # fmt: skip
    ol = order.lines.get()
    rma = factories.create_return(order, lines=[(ol, requested, store.changed_mind)])
    review.approve(rma, store.manager)
    line_id = factories.line_of(rma).id
    for step in sequence:
        before = ReturnLine.get_by_id(line_id)
        try:
            if step[0] == "receive":
                _, received, damaged, missing = step
                note = "gap" if missing else ""
                receiving.receive(
                    rma, store.agent, {line_id: (received, damaged, missing, 0, note)}
                )
            elif step[0] == "restock":
                _, qty, q_qty, _ = step
                inspection.restock(rma, store.agent, line_id, qty, store.main, quarantine_qty=q_qty,
                                 quarantine_location=store.quarantine)  # fmt: skip
            else:
                inspection.inspect(rma, store.agent, {line_id: (step[1], "checked")})
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
        # The actions offered follow from the state reached (read off the row, not the facts).
        state = facts.facts_for(Return.get_by_id(rma.id))
        actions = states.next_actions(state)
        assert set(actions) <= KNOWN_ACTIONS and len(actions) == len(set(actions)), actions
        assert ("receive" in actions) == (status in ("approved", "partially_received"))
        assert ("inspect" in actions) == (line.received_quantity > 0
                                          and line.inspection == "pending")  # fmt: skip
        restockable = line.received_quantity - line.damaged_quantity - line.restocked_quantity
        assert ("restock" in actions) == (line.inspection == "accepted" and restockable > 0)
        assert ("refund" in actions) == (line.inspection == "accepted")  # no refund made here
        assert ("finish" in actions) == (states.finish_blocker(state) is None)
        assert ("finish" in actions) <= (status != "approved")
        assert ("cancel" in actions) == (status == "approved")
        assert "hold" in actions  # every state reached here is active
        assert not {"review", "resume", "retry_refund", "approve_refund"} & set(actions)

"""Exchanges in the return's next actions (states.next_actions, the one function the merchant
page and every other client read) and the exchange order's own life (exchange_states)."""

import pytest

from portal.returns import exchange_states as x
from portal.returns import states as s
from portal.returns.errors import InvalidTransition


def swap(received=1, replaced=0, needs_refund=False, refunded=False, kept=False, inspection="accepted"):  # fmt: skip
    return s.LineFacts(requested=1, received=received, damaged=0, restocked=0,
                       inspection=inspection, refunded=refunded, replacement=1,
                       replaced=replaced, needs_refund=needs_refund, kept=kept)  # fmt: skip


def test_ship_exchange_is_a_next_action_when_one_is_ready_and_finishing_waits_for_it():
    facts = s.ReturnFacts("received", (swap(),), exchange_to_ship=True)
    actions = s.next_actions(facts)
    assert "ship_exchange" in actions and "finish" not in actions and "refund" not in actions
    assert (
        s.finish_blocker(facts) == "An exchange or replacement hasn't shipped yet: ship it first."
    )
    shipped = s.ReturnFacts("received", (swap(replaced=1),))
    assert "ship_exchange" not in s.next_actions(shipped) and "finish" in s.next_actions(shipped)


def test_a_payment_due_is_its_own_next_action():
    facts = s.ReturnFacts("received", (swap(),), exchange_awaiting_payment=True)
    assert "record_payment" in s.next_actions(facts)
    assert "waits for the shopper's payment" in s.finish_blocker(facts)


def test_a_cheaper_exchange_needs_its_refund_and_its_shipment():
    facts = s.ReturnFacts("received", (swap(replaced=1, needs_refund=True),))
    assert "refund" in s.next_actions(facts) and "finish" not in s.next_actions(facts)
    done = s.ReturnFacts("received", (swap(replaced=1, needs_refund=True, refunded=True),))
    assert "finish" in s.next_actions(done)


def test_a_kept_claim_line_is_never_restocked():
    assert swap(kept=True).restockable == 0
    facts = s.ReturnFacts("received", (swap(kept=True),), exchange_to_ship=True)
    assert "restock" not in s.next_actions(facts) and "receive" not in s.next_actions(facts)


def test_a_line_rejected_at_inspection_waits_for_no_replacement():
    facts = s.ReturnFacts("received", (swap(inspection="rejected"),))
    assert s.finish_blocker(facts) is None


def test_an_approved_return_shipping_early_offers_ship_exchange():
    facts = s.ReturnFacts("approved", (swap(received=0),), exchange_to_ship=True)
    assert s.next_actions(facts)[:2] == ["receive", "ship_exchange"]
    assert "ship_exchange" not in s.next_actions(s.ReturnFacts("on_hold", (swap(),),
                                                               exchange_to_ship=True))  # fmt: skip


@pytest.mark.parametrize(
    ("status", "event", "target"),
    [("awaiting_payment", "pay", "ready"), ("ready", "ship", "shipped"),
     ("shipped", "deliver", "delivered"), ("ready", "cancel", "cancelled"),
     ("awaiting_payment", "cancel", "cancelled")],
)  # fmt: skip
def test_the_exchange_orders_life(status, event, target):
    assert x.next_status(status, event) == target


@pytest.mark.parametrize(
    ("status", "event", "message"),
    [("awaiting_payment", "ship", "An exchange order that is awaiting payment can't be shipped."),
     ("shipped", "cancel", "An exchange order that is shipped can't be cancelled."),
     ("delivered", "ship", "An exchange order that is delivered can't be shipped.")],
)  # fmt: skip
def test_the_exchange_order_refuses_in_words(status, event, message):
    with pytest.raises(InvalidTransition, match=message):
        x.next_status(status, event)

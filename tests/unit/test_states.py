"""The return's life: transitions, refusals in words, next actions, finishing rules."""

import pytest

from portal.returns import states as s
from portal.returns.errors import InvalidTransition


def line(requested=1, received=0, damaged=0, restocked=0, inspection="pending", refunded=False):
    return s.LineFacts(requested, received, damaged, restocked, inspection, refunded)


@pytest.mark.parametrize(
    ("status", "event", "target"),
    [
        ("requested", "approve", "approved"),
        ("requested", "reject", "rejected"),
        ("requested", "cancel", "cancelled"),
        ("approved", "cancel", "cancelled"),
        ("approved", "expire", "cancelled"),
        ("approved", "receive", "partially_received"),
        ("partially_received", "finish", "completed"),
        ("received", "finish", "completed"),
        ("received", "hold", "on_hold"),
    ],
)
def test_allowed_transitions(status, event, target):
    assert s.next_status(status, event) == target


def test_receive_everything_goes_to_received():
    assert s.next_status("approved", "receive", fully_received=True) == "received"
    assert s.next_status("partially_received", "receive", fully_received=True) == "received"


@pytest.mark.parametrize(
    ("status", "event"),
    [
        ("requested", "receive"),
        ("completed", "approve"),
        ("completed", "hold"),
        ("received", "cancel"),
        ("partially_received", "cancel"),
        ("rejected", "approve"),
        ("cancelled", "receive"),
        ("requested", "finish"),
    ],
)
def test_refused_transitions_say_why(status, event):
    with pytest.raises(InvalidTransition, match="can't"):
        s.next_status(status, event)


def test_hold_resumes_to_where_it_came_from():
    assert s.next_status("on_hold", "resume", held_from="partially_received") == (
        "partially_received"
    )
    with pytest.raises(InvalidTransition):
        s.next_status("on_hold", "resume", held_from=None)


def test_shopper_cancel_only_before_anything_arrives():
    assert s.shopper_can_cancel("requested", 0)
    assert s.shopper_can_cancel("approved", 0)
    assert not s.shopper_can_cancel("approved", 1)
    assert not s.shopper_can_cancel("partially_received", 0)


def test_next_actions_follow_the_facts():
    assert s.next_actions(s.ReturnFacts("requested", (line(),))) == ["review", "hold", "cancel"]
    assert s.next_actions(s.ReturnFacts("approved", (line(),)))[:1] == ["receive"]
    received = s.ReturnFacts("received", (line(received=1),))
    assert "inspect" in s.next_actions(received) and "finish" not in s.next_actions(received)
    accepted = s.ReturnFacts("received", (line(received=1, inspection="accepted"),))
    assert {"restock", "refund"} <= set(s.next_actions(accepted))
    settled = s.ReturnFacts(
        "received", (line(received=1, restocked=1, inspection="accepted", refunded=True),)
    )
    assert s.next_actions(settled) == ["finish", "hold"]
    assert s.next_actions(s.ReturnFacts("completed", (line(),))) == []
    assert s.next_actions(s.ReturnFacts("on_hold", (line(),))) == ["resume"]


def test_finish_blockers():
    pending = s.ReturnFacts("received", (line(received=1, inspection="accepted", refunded=True),),
                            refund_pending=True)  # fmt: skip
    assert "pending" in s.finish_blocker(pending)
    unsettled = s.ReturnFacts("received", (line(received=1, inspection="accepted"),))
    assert "refunded" in s.finish_blocker(unsettled)
    rejected = s.ReturnFacts("partially_received", (line(received=1, inspection="rejected"),
                                                    line(received=0)))  # fmt: skip
    assert s.finish_blocker(rejected) is None
    assert "can't be finished" in s.finish_blocker(s.ReturnFacts("approved", (line(),)))


def with_ids(*lines):
    return tuple(s.LineFacts(**{**ln.__dict__, "id": number}) for number, ln in enumerate(lines, 1))


def test_each_next_action_names_the_lines_it_applies_to():
    """action_list(): the same actions as next_actions(), with the lines each applies to."""
    lines = with_ids(
        line(requested=2, received=2, inspection="accepted"),  # restock and refund it
        line(requested=1, received=1, inspection="pending"),  # inspect it
        line(requested=3, received=1, inspection="accepted", refunded=True, restocked=1),
    )
    facts = s.ReturnFacts("partially_received", lines)
    actions = s.action_list(facts)
    assert [a.name for a in actions] == s.next_actions(facts)
    by_name = {a.name: a.line_ids for a in actions}
    assert by_name["receive"] == (3,)  # only line 3 still has units on their way
    assert by_name["inspect"] == (2,)
    assert by_name["restock"] == (1,)
    assert by_name["refund"] == (1,)
    assert by_name["hold"] == (1, 2, 3)  # an action on the whole return names every line


def test_actions_on_a_refund_name_no_lines_and_a_held_return_only_resumes():
    lines = with_ids(line(received=1, inspection="accepted", refunded=True))
    failed = s.action_list(s.ReturnFacts("received", lines, refund_failed=True))
    assert ("retry_refund", ()) in [(a.name, a.line_ids) for a in failed]
    held = s.action_list(s.ReturnFacts("on_hold", lines))
    assert held == [s.Action("resume", (1,))]

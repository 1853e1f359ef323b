"""The return's life: statuses, transitions, and the next actions a return allows.

requested -approve-> approved -receive-> partially_received -receive-> received -finish-> completed
requested -reject-> rejected; requested/approved -cancel/expire-> cancelled
any active state -hold-> on_hold -resume-> the state it came from
"""

from dataclasses import dataclass

from portal.returns.errors import InvalidTransition
from portal.returns.marks import N_

REQUESTED = "requested"
APPROVED = "approved"
PARTIALLY_RECEIVED = "partially_received"
RECEIVED = "received"
COMPLETED = "completed"
REJECTED = "rejected"
CANCELLED = "cancelled"
ON_HOLD = "on_hold"

ACTIVE = (REQUESTED, APPROVED, PARTIALLY_RECEIVED, RECEIVED)
TERMINAL = (COMPLETED, REJECTED, CANCELLED)
RECEIVING = (APPROVED, PARTIALLY_RECEIVED)
# Returns whose quantities still count against the order line (rule 1).
COUNTING = (REQUESTED, APPROVED, PARTIALLY_RECEIVED, RECEIVED, COMPLETED, ON_HOLD)

LABELS = {
    REQUESTED: N_("Requested"),
    APPROVED: N_("Approved"),
    PARTIALLY_RECEIVED: N_("Partially received"),
    RECEIVED: N_("Received"),
    COMPLETED: N_("Completed"),
    REJECTED: N_("Rejected"),
    CANCELLED: N_("Cancelled"),
    ON_HOLD: N_("On hold"),
}

# (from, event) -> to. Receive goes to partially_received or received by what arrived.
TRANSITIONS = {
    (REQUESTED, "approve"): APPROVED,
    (REQUESTED, "reject"): REJECTED,
    (REQUESTED, "cancel"): CANCELLED,
    (APPROVED, "cancel"): CANCELLED,
    (APPROVED, "expire"): CANCELLED,
    (APPROVED, "receive"): PARTIALLY_RECEIVED,
    (PARTIALLY_RECEIVED, "receive"): PARTIALLY_RECEIVED,
    (PARTIALLY_RECEIVED, "finish"): COMPLETED,
    (RECEIVED, "finish"): COMPLETED,
    **{(state, "hold"): ON_HOLD for state in ACTIVE},
}

EVENT_VERBS = {
    "approve": "approve",
    "reject": "reject",
    "cancel": "cancel",
    "expire": "expire",
    "receive": "receive items on",
    "finish": "finish",
    "hold": "put on hold",
    "resume": "resume",
}


def next_status(status, event, held_from=None, fully_received=False):
    """The status after `event`, or InvalidTransition with a readable message."""
    if status == ON_HOLD and event == "resume":
        if held_from not in ACTIVE:
            raise InvalidTransition("This return has no state to resume to.")
        return held_from
    target = TRANSITIONS.get((status, event))
    if target is None:
        verb = EVENT_VERBS.get(event, event)
        raise InvalidTransition(f"You can't {verb} a return that is {LABELS[status].lower()}.")
    if event == "receive" and fully_received:
        return RECEIVED
    return target


def shopper_can_cancel(status, received_units):
    return status in (REQUESTED, APPROVED) and received_units == 0


@dataclass(frozen=True)
class LineFacts:
    requested: int
    received: int
    damaged: int
    restocked: int
    inspection: str  # pending | accepted | rejected
    refunded: bool  # a refund covers this line (pending or done)
    quarantined: int = 0  # damaged units moved into a quarantine location
    replacement: int = 0  # units replaced by another variant (an exchange, a claim's); 0: none
    replaced: int = 0  # replacement units shipped
    needs_refund: bool = True  # settled by a refund (not an exchange that costs as much or more)
    kept: bool = False  # a claim's line whose item stayed with the shopper: nothing came back
    id: int | None = None  # the ReturnLine's id (None in pure tests that need no ids)

    @property
    def restockable(self):
        if self.kept:
            return 0
        return self.received - self.damaged - self.restocked

    @property
    def quarantinable(self):
        """Damaged units not yet moved into quarantine (never restocked as sellable)."""
        return self.damaged - self.quarantined

    @property
    def awaiting_replacement(self):
        """Accepted units whose replacement hasn't shipped yet."""
        if not self.replacement or self.inspection != "accepted":
            return 0
        return max(min(self.received, self.replacement) - self.replaced, 0)

    @property
    def settled(self):
        if self.received == 0 or self.inspection == "rejected":
            return True
        money = self.refunded or not self.needs_refund
        return money and self.awaiting_replacement == 0


@dataclass(frozen=True)
class ReturnFacts:
    status: str
    lines: tuple
    refund_pending: bool = False  # a refund awaiting approval, pending or processing
    refund_failed: bool = False
    refund_awaiting_approval: bool = False  # a second manager must approve a refund
    edit_completed: bool = False  # the store's policy lets staff edit completed returns
    extras_pending: int = 0  # the signed sum of extra lines no refund has settled yet
    extras_unsettled: bool = False  # some extra line is not settled by a refund yet
    inventory_tracking: bool = True  # off: the store keeps no stock here, nothing to restock
    exchange_to_ship: bool = False  # an exchange order is ready to ship
    exchange_awaiting_payment: bool = False  # an exchange order waits for the shopper's payment


def finish_blocker(facts):
    """Why the return can't be finished now, or None when it can."""
    if facts.status not in (PARTIALLY_RECEIVED, RECEIVED):
        return f"A return that is {LABELS[facts.status].lower()} can't be finished."
    if facts.refund_pending:
        return "A refund is still pending; finish once it has gone through."
    if facts.refund_failed:
        return "A refund failed; retry it before finishing."
    if any(line.received and line.inspection == "pending" for line in facts.lines):
        return "Every received line must be accepted or rejected first."
    if any(line.awaiting_replacement for line in facts.lines):
        if facts.exchange_awaiting_payment:
            return "An exchange waits for the shopper's payment: record it, then ship it."
        return "An exchange or replacement hasn't shipped yet: ship it first."
    if not all(line.settled for line in facts.lines):
        return "Every accepted line must be refunded or credited first."
    if facts.extras_unsettled:
        return "An extra line isn't settled by a refund yet: refund it, or remove it."
    return None


def _refundable(facts):
    """A refund can be prepared: accepted units not refunded, or extra lines owing a credit."""
    if facts.refund_pending:
        return False
    lines = facts.lines
    waiting = any(
        line.inspection == "accepted" and not line.refunded and line.needs_refund for line in lines
    )
    received = facts.status in (PARTIALLY_RECEIVED, RECEIVED, COMPLETED)
    return waiting or (received and facts.extras_pending > 0)


def _restockable(facts):
    return facts.inventory_tracking and any(
        line.inspection == "accepted" and line.restockable > 0 for line in facts.lines
    )


@dataclass(frozen=True)
class Action:
    """A next action and the ids of the lines it applies to (every line for an action on the
    whole return; none for an action on a refund or an exchange order)."""

    name: str
    line_ids: tuple = ()


def _ids(lines, keep=lambda line: True):
    return tuple(line.id for line in lines if line.id is not None and keep(line))


def _line_action_list(facts):
    lines = facts.lines
    actions = []
    if any(line.received and line.inspection == "pending" for line in lines):
        actions.append(Action("inspect", _ids(lines, lambda ln: ln.received and
                                              ln.inspection == "pending")))  # fmt: skip
    if _restockable(facts):
        actions.append(Action("restock", _ids(lines, lambda ln: ln.inspection == "accepted" and
                                              ln.restockable > 0)))  # fmt: skip
    if _refundable(facts):
        actions.append(Action("refund", _ids(lines, lambda ln: ln.inspection == "accepted" and
                                             not ln.refunded and ln.needs_refund)))  # fmt: skip
    return actions


def action_list(facts):
    """What can be done on the return now, in a sensible order, each with the lines it applies
    to. Never a fixed sequence. next_actions() is this list's names."""
    status = facts.status
    lines = facts.lines
    whole = _ids(lines)
    if status == COMPLETED and facts.edit_completed:
        return _completed_actions(facts)
    if status == COMPLETED and facts.refund_failed:
        # Finishing needs every refund settled: a failed one here is the gateway's later
        # reversal, which a manager fixes even on a locked return.
        return [Action("retry_refund")]
    if status in TERMINAL:
        return []
    if status == ON_HOLD:
        return [Action("resume", whole)]
    actions = []
    if status == REQUESTED:
        actions.append(Action("review", whole))
    if status in RECEIVING:
        actions.append(Action("receive", _ids(lines, lambda ln: not ln.kept and
                                              ln.received < ln.requested)))  # fmt: skip
    line_work = _line_action_list(facts)
    actions += [a for a in line_work if a.name in ("inspect", "restock", "refund")]
    if facts.refund_failed:
        actions.append(Action("retry_refund"))
    if facts.refund_awaiting_approval:
        actions.append(Action("approve_refund"))
    if facts.exchange_awaiting_payment:
        actions.append(Action("record_payment"))
    if facts.exchange_to_ship:
        actions.append(Action("ship_exchange"))
    if finish_blocker(facts) is None:
        actions.append(Action("finish", whole))
    actions.append(Action("hold", whole))
    if status in (REQUESTED, APPROVED):
        actions.append(Action("cancel", whole))
    return actions


def next_actions(facts):
    """The names of action_list(): what the merchant's next-actions panel shows."""
    return [action.name for action in action_list(facts)]


def _completed_actions(facts):
    """On a completed return the store lets staff edit: line work only, no status change."""
    actions = _line_action_list(facts)
    if facts.refund_awaiting_approval:
        actions.append(Action("approve_refund"))
    if facts.refund_failed:
        actions.append(Action("retry_refund"))
    return actions

"""The return's life: statuses, transitions, and the next actions a return allows.

requested -approve-> approved -receive-> partially_received -receive-> received -finish-> completed
requested -reject-> rejected; requested/approved -cancel/expire-> cancelled
any active state -hold-> on_hold -resume-> the state it came from
"""

from dataclasses import dataclass

from portal.returns.errors import InvalidTransition

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
    REQUESTED: "Requested",
    APPROVED: "Approved",
    PARTIALLY_RECEIVED: "Partially received",
    RECEIVED: "Received",
    COMPLETED: "Completed",
    REJECTED: "Rejected",
    CANCELLED: "Cancelled",
    ON_HOLD: "On hold",
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


def next_actions(facts):
    """What can be done on the return now, in a sensible order. Never a fixed sequence."""
    status = facts.status
    if status == COMPLETED and facts.edit_completed:
        return _line_actions(facts)
    if status == COMPLETED and facts.refund_failed:
        # Finishing needs every refund settled: a failed one here is the gateway's later
        # reversal, which a manager fixes even on a locked return.
        return ["retry_refund"]
    if status in TERMINAL:
        return []
    if status == ON_HOLD:
        return ["resume"]
    actions = []
    if status == REQUESTED:
        actions += ["review"]
    if status in RECEIVING:
        actions += ["receive"]
    lines = facts.lines
    if any(line.received and line.inspection == "pending" for line in lines):
        actions += ["inspect"]
    if _restockable(facts):
        actions += ["restock"]
    if _refundable(facts):
        actions += ["refund"]
    if facts.refund_failed:
        actions += ["retry_refund"]
    if facts.refund_awaiting_approval:
        actions += ["approve_refund"]
    if facts.exchange_awaiting_payment:
        actions += ["record_payment"]
    if facts.exchange_to_ship:
        actions += ["ship_exchange"]
    if finish_blocker(facts) is None:
        actions += ["finish"]
    actions += ["hold"]
    if status in (REQUESTED, APPROVED):
        actions += ["cancel"]
    return actions


def _line_actions(facts):
    """On a completed return the store lets staff edit: line work only, no status change."""
    lines = facts.lines
    actions = []
    if any(line.received and line.inspection == "pending" for line in lines):
        actions += ["inspect"]
    if _restockable(facts):
        actions += ["restock"]
    if _refundable(facts):
        actions += ["refund"]
    if facts.refund_awaiting_approval:
        actions += ["approve_refund"]
    if facts.refund_failed:
        actions += ["retry_refund"]
    return actions

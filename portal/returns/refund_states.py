"""The refund's life: its statuses, the transitions between them, and move(), the one place that
writes a refund's status (a compare-and-set per row, and the event on the return's timeline, in
the caller's transaction). As Solidus keeps reimbursement states in their own module.

awaiting_approval -approve-> pending -start-> processing -succeed-> succeeded
awaiting_approval -decline-> cancelled
processing -defer-> pending          (the gateway could not be reached: retried, same key)
pending / processing -fail-> failed -retry-> pending   (a manager retries, same key)
processing -take_over-> processing   (its worker died: another one carries on, same key)
processing -wait-> at_gateway        (the gateway took it but says pending, e.g. requires_action)
at_gateway -succeed-> succeeded, at_gateway -fail-> failed   (the gateway's event decides)
succeeded -reverse-> failed          (the gateway failed it later: lost or expired card)
failed -replace-> cancelled          (a manager turned it into store credit: a new refund)

Each move also writes its webhooks (refund.succeeded, refund.failed, return.refunded) in the
same transaction (webhook_events).
"""

from peewee import Node

from portal.db import db
from portal.models import Refund
from portal.prebuilt import prebuilt_set
from portal.returns import timeline, webhook_events
from portal.returns.errors import InvalidTransition

AWAITING_APPROVAL = "awaiting_approval"
PENDING = "pending"
PROCESSING = "processing"
AT_GATEWAY = "at_gateway"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (AWAITING_APPROVAL, PENDING, PROCESSING, AT_GATEWAY, SUCCEEDED, FAILED, CANCELLED)

# Refunds that hold money against what was captured (rule 3): all but the cancelled ones.
HOLDS_MONEY = (AWAITING_APPROVAL, PENDING, PROCESSING, AT_GATEWAY, SUCCEEDED, FAILED)
# Refunds still on their way: a return can't be finished, nor refunded again, meanwhile.
UNSETTLED = (AWAITING_APPROVAL, PENDING, PROCESSING, AT_GATEWAY)

TRANSITIONS = {
    (AWAITING_APPROVAL, "approve"): PENDING,
    (AWAITING_APPROVAL, "decline"): CANCELLED,
    (PENDING, "start"): PROCESSING,
    (PROCESSING, "take_over"): PROCESSING,
    (PROCESSING, "defer"): PENDING,
    # Success wins over a failure recorded meanwhile: if the gateway said yes, the money moved.
    (PENDING, "succeed"): SUCCEEDED,
    (PROCESSING, "succeed"): SUCCEEDED,
    (FAILED, "succeed"): SUCCEEDED,
    (PENDING, "fail"): FAILED,
    (PROCESSING, "fail"): FAILED,
    (FAILED, "retry"): PENDING,
    (PROCESSING, "wait"): AT_GATEWAY,
    (AT_GATEWAY, "succeed"): SUCCEEDED,
    (AT_GATEWAY, "fail"): FAILED,
    # A gateway reversal (Stripe's refund.failed after it said succeeded): an explicit rule,
    # never a side effect of "fail", which only ever meets refunds still on their way.
    (SUCCEEDED, "reverse"): FAILED,
    (FAILED, "replace"): CANCELLED,
}

# The timeline event each move writes on the refund's return (None: none of its own).
EVENT_KINDS = {
    "approve": ("refund_approved", True),
    "decline": ("refund_declined", True),
    "start": ("refund_processing", True),
    "take_over": ("refund_processing", True),
    "defer": ("refund_deferred", True),
    "succeed": ("refund_succeeded", False),
    "fail": ("refund_failed", False),
    "retry": ("refund_retried", True),
    "wait": ("refund_at_gateway", True),
    "reverse": ("refund_reversed", False),
    "replace": ("refund_replaced", True),
}

# The webhook each move sends, per refund of the group.
WEBHOOKS = {"succeed": "refund.succeeded", "fail": "refund.failed", "reverse": "refund.failed"}

WORDS = {
    AWAITING_APPROVAL: "awaiting approval",
    PENDING: "pending",
    PROCESSING: "processing",
    AT_GATEWAY: "pending at the gateway",
    SUCCEEDED: "succeeded",
    FAILED: "failed",
    CANCELLED: "cancelled",
}


def next_status(status, event):
    """The status after `event`, or InvalidTransition with a readable message."""
    target = TRANSITIONS.get((status, event))
    if target is None:
        raise InvalidTransition(
            f"A refund that is {WORDS.get(status, status)} can't be {event.replace('_', ' ')}."
        )
    return target


def can(status, event):
    return (status, event) in TRANSITIONS


def move(group, event, rma, actor=None, only_if=None, payload=None, **changes):
    """Move every refund of `group` by `event`, each with a compare-and-set on the status it was
    read with (and `only_if`, a further condition on the row), and write the event on `rma`'s
    timeline. Returns False and changes nothing when any of them had moved on meanwhile."""
    group = list(group)
    if not group:
        return False
    targets = [next_status(refund.status, event) for refund in group]
    if len(group) == 1 and only_if is None and not _expressions(changes):
        # One row, plain values: one compare-and-set, nothing to roll back when it finds the
        # row moved on (it changed nothing), so no savepoint; its UPDATE built once.
        refund = group[0]
        changed = prebuilt_set(Refund, {"status": targets[0], **changes}, id=refund.id,
                               status=refund.status)  # fmt: skip
        if changed != 1:
            return False
    else:
        try:
            with db.atomic():
                for refund, target in zip(group, targets, strict=True):
                    condition = (Refund.id == refund.id) & (Refund.status == refund.status)
                    if only_if is not None:
                        condition &= only_if
                    if Refund.update(status=target, **changes).where(condition).execute() != 1:
                        raise _Moved
        except _Moved:
            return False
    for refund, target in zip(group, targets, strict=True):
        refund.status = target
        for name, value in changes.items():
            if not isinstance(value, Node):  # an expression (attempts + 1) is left to the caller
                setattr(refund, name, value)
    kind, internal = EVENT_KINDS[event]
    details = {"refunds": [r.id for r in group], "total": sum(r.amount for r in group)}
    if len(group) == 1:
        details.update(refund_id=group[0].id, amount=group[0].amount)
    recorded = timeline.record(rma, kind, actor, internal=internal,
                               **{**details, **(payload or {})})  # fmt: skip
    _webhooks(group, event, rma, recorded)
    return True


def _webhooks(group, event, rma, recorded):
    event_type = WEBHOOKS.get(event)
    if event_type is None:
        return
    endpoints = webhook_events.active_endpoints()  # read once for both events
    for refund in group:
        suffix = "" if len(group) == 1 else f"_{refund.id}"
        webhook_events.emit(event_type, rma, recorded, suffix, endpoints,
                            refund=webhook_events.refund_summary(refund))  # fmt: skip
    if event == "succeed" and webhook_events.subscribed("return.refunded", endpoints):
        rma_id = getattr(rma, "id", rma)
        others = Refund.select().where(
            (Refund.rma == rma_id)
            & Refund.status.in_(UNSETTLED)
            & Refund.id.not_in([r.id for r in group])
        )
        if not others.exists():
            webhook_events.emit("return.refunded", rma, recorded, "_refunded", endpoints,
                                refunds=[webhook_events.refund_summary(r) for r in group])  # fmt: skip


def _expressions(changes):
    return any(isinstance(value, Node) for value in changes.values())


class _Moved(Exception):
    """A row had moved on: roll the savepoint back."""

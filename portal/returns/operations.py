"""What the operations page shows: the outbox (waiting and failed messages) and the refunds,
failed ones first among them. Reads only."""

from peewee import JOIN, fn

from portal.models import OutboxMessage, Refund, Return
from portal.outbox import messages
from portal.returns import refund_states

LIST_LIMIT = 50


def age_text(seconds):
    """42 -> '42 s', 150 -> '2 min', 7200 -> '2 h', 200000 -> '2 d'."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def overview():
    """Everything the page shows, in a handful of queries."""
    counts = dict(
        OutboxMessage.select(OutboxMessage.status, fn.COUNT(OutboxMessage.id))
        .group_by(OutboxMessage.status)
        .tuples()
    )
    listed = (
        OutboxMessage.select(OutboxMessage, Return.reference.alias("rma_reference"))
        .join(Return, JOIN.LEFT_OUTER, on=(OutboxMessage.rma == Return.id))
        .objects()
        .order_by(OutboxMessage.created_at.desc())
        .limit(LIST_LIMIT)
    )
    refunds = (
        Refund.select(Refund, Return.reference.alias("rma_reference"))
        .join(Return)
        .objects()
        .order_by(Refund.created_at.desc())
        .limit(LIST_LIMIT)
    )
    refund_counts = dict(
        Refund.select(Refund.status, fn.COUNT(Refund.id)).group_by(Refund.status).tuples()
    )
    pending = counts.get(messages.PENDING, 0)
    return {
        "pending": pending,
        "failed": counts.get(messages.FAILED, 0),
        "sent": counts.get(messages.SENT, 0),
        "oldest_pending": age_text(messages.oldest_pending_seconds()) if pending else None,
        "waiting": list(
            listed.where(OutboxMessage.status == messages.PENDING).order_by(
                OutboxMessage.created_at
            )
        ),
        "failed_messages": list(listed.where(OutboxMessage.status == messages.FAILED)),
        "failed_refunds": list(refunds.where(Refund.status == refund_states.FAILED)),
        "refund_counts": refund_counts,
        "refund_statuses": [
            (s, refund_states.WORDS[s])
            for s in (
                refund_states.PENDING,
                refund_states.PROCESSING,
                refund_states.SUCCEEDED,
                refund_states.FAILED,
            )
        ],  # fmt: skip
    }

"""What a return holds: its lines, the refunds prepared on it, and the facts the state rules
(states.py) decide on. Reads only."""

from collections import Counter

from portal.models import OrderLine, Refund, ReturnEvent, ReturnLine, ReturnPolicy, ReturnReason
from portal.returns import refund_states, states
from portal.returns.amounts import pending_extras


def lines_of(rma_id):
    """The return's lines with their order lines and reasons, in a stable order."""
    return list(
        ReturnLine.select(ReturnLine, OrderLine, ReturnReason)
        .join(OrderLine)
        .switch(ReturnLine)
        .join(ReturnReason)
        .where(ReturnLine.rma == rma_id)
        .order_by(ReturnLine.id)
    )


def line_name(line):
    return line.order_line.title


def refund_batches(rma_id, events=None):
    """Payloads of the refunds prepared on this return and not declined, oldest first.

    Each prepare_refund() is one batch (one Refund row per payment); its "refund_created" event
    records the breakdown and the units and amounts per line, so refunded units are known even
    for a batch with no money due (every unit overridden to 0). This is the one source of the
    units refunded per line, for staff and shoppers alike."""
    if events is None:
        events = (
            ReturnEvent.select(ReturnEvent.kind, ReturnEvent.payload)
            .where(
                (ReturnEvent.rma == rma_id)
                & ReturnEvent.kind.in_(("refund_created", "refund_declined"))
            )
            .order_by(ReturnEvent.id)
        )
    created, declined = [], set()
    for event in events:
        if event.kind == "refund_created":
            created.append(event.payload or {})
        elif event.kind == "refund_declined":
            declined.add((event.payload or {}).get("batch"))
    return [batch for batch in created if batch.get("batch") not in declined]


BREAKDOWN_PARTS = ("items", "restocking", "return_shipping", "shipping", "extra", "additional")


def refund_summary(batches):
    """The refund's parts (items, fees, shipping, extra lines, additional) summed over its
    batches, or None before the first refund."""
    if not batches:
        return None
    return {
        part: sum(int((b.get("breakdown") or {}).get(part) or 0) for b in batches)
        for part in BREAKDOWN_PARTS
    }


def refunded_units(batches):
    """{line_id: units covered by refunds} from refund_batches()."""
    units = Counter()
    for batch in batches:
        for line_id, count in (batch.get("line_units") or {}).items():
            units[int(line_id)] += int(count)
    return units


def line_facts(line, refunded):
    """states.LineFacts of one ReturnLine, given the units refunds cover on it."""
    return states.LineFacts(
        requested=line.quantity,
        received=line.received_quantity,
        damaged=line.damaged_quantity,
        restocked=line.restocked_quantity,
        quarantined=line.quarantined_quantity,
        inspection=line.inspection,
        refunded=line.received_quantity > 0 and refunded >= line.received_quantity,
    )


def facts_for(rma, lines=None, refunds=None, policy=None, batches=None, extras=None):
    """states.ReturnFacts for `rma` (lines in the given order; extras: its unsettled extra
    lines, read when not given)."""
    lines = lines_of(rma.id) if lines is None else lines
    if refunds is None:
        refunds = list(Refund.select(Refund.status).where(Refund.rma == rma.id))
    policy = policy or ReturnPolicy.current()
    covered = refunded_units(refund_batches(rma.id) if batches is None else batches)
    statuses = {r.status for r in refunds}
    if extras is None:
        extras = pending_extras(rma.id)
    return states.ReturnFacts(
        status=rma.status,
        lines=tuple(line_facts(ln, covered[ln.id]) for ln in lines),
        refund_pending=bool(statuses & set(refund_states.UNSETTLED)),
        refund_failed=refund_states.FAILED in statuses,
        refund_awaiting_approval=refund_states.AWAITING_APPROVAL in statuses,
        edit_completed=bool(policy.allow_edit_completed),
        extras_pending=sum(x.amount for x in extras),
        extras_unsettled=bool(extras),
        inventory_tracking=bool(policy.inventory_tracking),
    )


def next_actions(rma, **known):
    """The actions the return allows now (states.next_actions over facts_for())."""
    return states.next_actions(facts_for(rma, **known))

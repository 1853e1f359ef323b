"""What a return holds: its lines, the refunds prepared on it, and the facts the state rules
(states.py) decide on. Reads only."""

from collections import Counter

from peewee import JOIN

from portal.models import (
    ExchangeOrder,
    OrderLine,
    Product,
    Refund,
    Replacement,
    ReturnEvent,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    Variant,
)
from portal.returns import exchange_states, refund_states, states
from portal.returns.amounts import pending_extras


def lines_of(rma_id):
    """The return's lines with their order lines and reasons, in a stable order; an exchange
    line's Replacement (with its variant and product) is `line.swap` (None for the others)."""
    return list(lines_query(rma_id))


def lines_query(rma_id):
    """The query of lines_of() (for a prebuilt statement: portal.prebuilt.prebuilt_models)."""
    return (
        ReturnLine.select(ReturnLine, OrderLine, ReturnReason, Replacement, Variant, Product)
        .join(OrderLine)
        .switch(ReturnLine)
        .join(ReturnReason)
        .switch(ReturnLine)
        .join(Replacement, JOIN.LEFT_OUTER, on=(Replacement.line == ReturnLine.id), attr="swap")
        .join(Variant, JOIN.LEFT_OUTER)
        .join(Product, JOIN.LEFT_OUTER)
        .where(ReturnLine.rma == rma_id)
        .order_by(ReturnLine.id)
    )


def needs_refund(line):
    """Whether a line's accepted units are settled by a refund: a refund line, or an exchange
    whose replacement costs less than what was paid (the difference comes back as money)."""
    swap = getattr(line, "swap", None)
    return swap is None or swap.unit_total < line.order_line.unit_total


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


BREAKDOWN_PARTS = ("items", "restocking", "return_shipping", "shipping", "extra", "exchange",
                   "additional")  # fmt: skip


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
    swap = getattr(line, "swap", None)
    return states.LineFacts(
        requested=line.quantity,
        received=line.received_quantity,
        damaged=line.damaged_quantity,
        restocked=line.restocked_quantity,
        quarantined=line.quarantined_quantity,
        inspection=line.inspection,
        refunded=line.received_quantity > 0 and refunded >= line.received_quantity,
        replacement=swap.quantity if swap is not None else 0,
        replaced=swap.shipped if swap is not None else 0,
        needs_refund=needs_refund(line),
        kept=bool(line.kept),
        id=line.id,
    )


def exchange_statuses(rma_id):
    """The statuses of the return's exchange orders (one query)."""
    query = ExchangeOrder.select(ExchangeOrder.status).where(ExchangeOrder.rma == rma_id)
    return {status for (status,) in query.tuples()}


def facts_for(rma, lines=None, refunds=None, policy=None, batches=None, extras=None,
              shipments=None):  # fmt: skip
    """states.ReturnFacts for `rma` (lines in the given order; extras: its unsettled extra
    lines, and shipments: its exchange orders' statuses, read when not given)."""
    lines = lines_of(rma.id) if lines is None else lines
    if refunds is None:
        refunds = list(Refund.select(Refund.status).where(Refund.rma == rma.id))
    policy = policy or ReturnPolicy.current()
    covered = refunded_units(refund_batches(rma.id) if batches is None else batches)
    statuses = {r.status for r in refunds}
    if extras is None:
        extras = pending_extras(rma.id)
    if shipments is None:
        swaps = any(getattr(ln, "swap", None) for ln in lines)
        shipments = exchange_statuses(rma.id) if swaps else set()
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
        exchange_to_ship=exchange_states.READY in shipments,
        exchange_awaiting_payment=exchange_states.AWAITING_PAYMENT in shipments,
    )


def next_actions(rma, **known):
    """The actions the return allows now (states.next_actions over facts_for())."""
    return states.next_actions(facts_for(rma, **known))

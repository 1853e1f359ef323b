"""Finishing a return: complete and lock it once every received line is settled; units requested
but never received are released (returnable again while the window allows)."""

from portal.db import db
from portal.models import Order, Refund, ReturnPolicy, now
from portal.outbox.messages import enqueue_email
from portal.returns import exchanges, refund_states, states, timeline
from portal.returns.errors import InvalidTransition
from portal.returns.facts import facts_for, line_name, lines_of, refund_batches, refund_summary
from portal.returns.transitions import (
    check_version,
    ensure_editable,
    load,
    require_staff,
    transition,
)


def finish(rma, actor, version=None):
    """Complete and lock the return; units requested but never received are released."""
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        policy = ReturnPolicy.current()
        ensure_editable(current, policy)
        lines = lines_of(current.id)
        refunds = list(
            Refund.select(Refund.status, Refund.amount, Refund.method).where(
                Refund.rma == current.id
            )
        )
        blocker = states.finish_blocker(facts_for(current, lines, refunds, policy))
        if blocker:
            raise InvalidTransition(blocker)
        transition(current, "finish", actor, changes={"completed_at": now()})
        exchanges.release(current, actor, "units never received")
        released = [
            {
                "line_id": ln.id,
                "title": line_name(ln),
                "sku": ln.order_line.sku,
                "units": ln.quantity - ln.received_quantity,
            }  # fmt: skip
            for ln in lines
            if ln.quantity > ln.received_quantity
        ]
        if released:
            timeline.record(current, "released", actor, lines=released,
                            units=sum(r["units"] for r in released))  # fmt: skip
            Order.update(version=Order.version + 1).where(Order.id == current.order_id).execute()
        enqueue_email("return_completed", current.email,
                      f"return:{current.id}:email:return_completed", rma=current,
                      context=_final_amounts(current, lines, refunds, released))  # fmt: skip
        return current


def _final_amounts(rma, lines, refunds, released):
    """What the completed email says: what came back, what was refunded, what was released."""
    batches = refund_batches(rma.id)
    settled = [r for r in refunds if r.status == refund_states.SUCCEEDED]
    return {
        "received": [
            {
                "title": line_name(ln),
                "received": ln.received_quantity,
                "damaged": ln.damaged_quantity,
                "inspection": ln.inspection,
                "note": ln.inspection_note,
            }
            for ln in lines
            if ln.received_quantity
        ],
        "breakdown": refund_summary(batches),
        "refunded": sum(r.amount for r in settled),
        "refunds": [{"method": r.method, "amount": r.amount} for r in settled],
        "extra_lines": [
            {"description": x["description"], "amount": x["amount"]}
            for b in batches
            for x in b.get("extra_lines") or []
        ],
        "released": released,
    }

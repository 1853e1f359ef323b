"""Claims: a return for a problem on the store's side (defective, arrived damaged, wrong item,
missing from the parcel), opened by the shopper or by staff for a delivered line. Its outcome
per line is a refund or a replacement (the same item, reserved like an exchange). The same
lines, quantities and refunds as any return.

Whether the item must come back is decided per reason (ReturnReason.keep_item, e.g. missing
items) or by value (the store's "claims below this keep the item" setting). A line whose item
stays with the shopper has no parcel to wait for: at approval it is counted received for
settlement only (its units count as returned, rule 1; nothing arrived, so nothing is restocked
or quarantined) and accepted, and the claim goes straight to its refund or replacement. Lines
that must come back use the same receive and inspect steps as a return."""

from portal.models import ReturnLine
from portal.returns.marks import N_
from portal.returns.transitions import transition

KIND = "claim"


def not_a_claim(title):
    """Why a shopper-choice reason is refused on a claim."""
    return N_("A claim is for a problem on our side (damaged, defective, wrong or missing): "
              "choose one of those reasons for %(title)s, or request a return instead.",
              title=title)  # fmt: skip


def keeps_item(reason, order_line, policy):
    """Whether a claim's line for `reason` leaves the item with the shopper."""
    if reason.keep_item:
        return True
    below = policy.claim_keep_item_below
    return bool(below) and order_line.unit_total < below


def settle_kept(rma, actor=None, at=None):
    """At approval: the lines whose item stays with the shopper are received for settlement and
    accepted, in one receive transition (the return is received when every line is)."""
    lines = list(ReturnLine.select().where(ReturnLine.rma == rma.id).order_by(ReturnLine.id))
    kept = [ln for ln in lines if ln.kept and ln.received_quantity < ln.quantity]
    if not kept:
        return []
    for line in kept:
        ReturnLine.update(received_quantity=line.quantity, inspection="accepted").where(
            ReturnLine.id == line.id
        ).execute()
        line.received_quantity = line.quantity
    fully = all(ln.received_quantity == ln.quantity for ln in lines)
    summary = [{"line_id": ln.id, "received": ln.quantity, "kept": True} for ln in kept]
    transition(rma, "receive", actor, fully_received=fully, at=at, kept=True, lines=summary,
               units=sum(ln.quantity for ln in kept), damaged=0)  # fmt: skip
    return kept

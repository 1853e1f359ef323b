"""A shopper's return request: check the chosen lines, create the return in one transaction,
auto-approve it when the store's rule says so, estimate its refund, and cancel it.

Views pass plain values (ids, quantities, text, stored photo names); every rule is checked here
again, inside the transaction, whatever the form already said.
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from peewee import fn

from portal.db import db, locked
from portal.models import (
    Counter,
    Order,
    OrderLine,
    Return,
    ReturnLine,
    ReturnPhoto,
    ReturnPolicy,
    ReturnReason,
    now,
)
from portal.outbox.messages import enqueue_email
from portal.returns import (
    catalogue,
    claims,
    drafts,
    eligibility,
    exchanges,
    references,
    shipping,
    states,
    timeline,
    webhook_events,
)
from portal.returns.amounts import refund_for_return
from portal.returns.errors import (
    DomainError,
    Ineligible,
    InvalidTransition,
    NotAllowed,
    NotFound,
    QuantityExceeded,
)
from portal.returns.marks import N_, Lowered
from portal.returns.review import approval_changes, notify_approved
from portal.returns.transitions import load, require_staff, transition

SHOPPER_RESOLUTIONS = {"refund": N_("Refund to my original payment"),
                       "store_credit": N_("Store credit")}  # fmt: skip
MAX_PHOTOS_PER_LINE = 3
NOTE_MAX = 1000
AUTO_APPROVE_RULES = ("never", "always", "merchant_fault", "under_amount")


class PhotoRef(NamedTuple):
    """A photo already stored by portal.uploads: its random file name, type and size."""

    stored_name: str
    content_type: str
    size: int


class Selection(NamedTuple):
    """One line of a request, as the shopper chose it."""

    order_line_id: int
    quantity: int
    reason_id: int | None
    note: str = ""
    photos: tuple = ()
    replacement_id: int | None = None  # a variant instead of money (an exchange, a claim's)


@dataclass(frozen=True)
class LineProblem:
    """Why a selection can't be accepted; `field` says which input to point at."""

    order_line_id: int | None
    field: str | None  # quantity | reason | note | photos | replacement | None (the request)
    message: str
    error: type = DomainError


@dataclass(frozen=True)
class Chosen:
    """A selection checked against the order, its eligibility and the store's reasons."""

    line: OrderLine
    quantity: int
    reason: ReturnReason
    note: str
    photos: tuple
    replacement: object = None  # exchanges.Choice: the variant instead of money, and its price
    kept: bool = False  # a claim's line whose item stays with the shopper


@dataclass
class Check:
    problems: list = field(default_factory=list)
    chosen: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems

    def raise_first(self):
        if self.problems:
            first = self.problems[0]
            raise first.error(first.message)


# --- Reasons --------------------------------------------------------------------------------


@dataclass
class ReasonTree:
    """The store's active reasons: top-level ones, each with its active children (one level)."""

    top: list
    children: dict  # parent id -> [child reasons]
    by_id: dict

    def is_choosable(self, reason):
        """A shopper picks a leaf: a top-level reason without children, or a child of one."""
        if reason is None or reason.id not in self.by_id:
            return False
        if reason.parent_id is None:
            return not self.children.get(reason.id)
        return reason.parent_id in self.by_id and self.by_id[reason.parent_id].parent_id is None

    def top_of(self, reason_id):
        reason = self.by_id.get(reason_id)
        if reason is None:
            return None
        return self.by_id.get(reason.parent_id, reason) if reason.parent_id else reason


def reasons_query(claims_only=False):
    query = ReturnReason.select().where(ReturnReason.active == True)  # noqa: E712
    if claims_only:
        query = query.where(ReturnReason.merchant_fault == True)  # noqa: E712
    return query.order_by(ReturnReason.position, ReturnReason.id)


def reason_tree(claims_only=False, reasons=None):
    """The active reasons; `claims_only`: those of the store's fault (a claim's reasons);
    `reasons`: reasons_query()'s rows, when read already."""
    reasons = list(reasons_query(claims_only)) if reasons is None else reasons
    by_id = {r.id: r for r in reasons}
    children = {}
    for r in reasons:
        if r.parent_id is not None and r.parent_id in by_id:
            children.setdefault(r.parent_id, []).append(r)
    top = [r for r in reasons if r.parent_id is None]
    return ReasonTree(top=top, children=children, by_id=by_id)


# --- Checking a request ---------------------------------------------------------------------


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_selections(order, selections, policy=None, at=None, lines=None, tree=None,
                     check_photos=True, past_window=False, kind="return"):  # fmt: skip
    """Check `selections` against `order` now: every problem, and the lines that pass.

    `lines` lets a caller pass the order's lines it has locked; photos are checked only when
    `check_photos` (the review step has none yet); `past_window` is a manager's override of a
    closed return window; `kind` "claim": reasons of the store's fault only, and a replacement
    is the same item."""
    policy = policy or ReturnPolicy.current()
    at = at or now()
    tree = tree or reason_tree()
    if lines is None:
        lines = list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id))
    by_id = {line.id: line for line in lines}
    verdicts = eligibility.for_lines(order, lines, policy, at, past_window=past_window,
                                     claim=kind == claims.KIND)  # fmt: skip
    result = Check()
    problem = result.problems.append
    seen = set()
    selections = [s for s in selections if not (_whole(s.quantity) and s.quantity == 0)]
    if not selections:
        if kind == claims.KIND:
            message = N_("Choose at least one item and how many to claim for.")
        else:
            message = N_("Choose at least one item and how many to return.")
        problem(LineProblem(None, None, message))
        return result
    swaps = [s.replacement_id for s in selections if s.replacement_id not in (None, "")]
    known = exchanges.known_for(lines, swaps, policy) if swaps else None
    for sel in selections:
        line = by_id.get(sel.order_line_id)
        if line is None:
            problem(LineProblem(sel.order_line_id, None,
                                N_("That item is not part of order #%(number)s.",
                                   number=order.number), NotFound))  # fmt: skip
            continue
        title = f"“{line.title}”"
        if line.id in seen:
            problem(LineProblem(line.id, "quantity",
                                N_("%(title)s is listed twice; choose its quantity once.",
                                   title=title)))  # fmt: skip
            continue
        seen.add(line.id)
        verdict = verdicts[line.id].verdict
        line_ok = True
        if not _whole(sel.quantity) or sel.quantity < 1:
            problem(LineProblem(line.id, "quantity",
                                N_("Enter how many of %(title)s to return as a whole number "
                                   "from 1 to %(most)s.", title=title,
                                   most=max(verdict.returnable, 1))))  # fmt: skip
            line_ok = False
        elif verdict.problem and verdict.code != eligibility.ALREADY_TAKEN:
            problem(LineProblem(line.id, "quantity",
                                N_("%(title)s: %(why)s", title=title, why=verdict.reason),
                                Ineligible))  # fmt: skip
            line_ok = False
        elif sel.quantity > verdict.returnable:
            if verdict.returnable == 0:
                message = N_("%(title)s is already returned or in a return request; none are "
                             "left.", title=title)  # fmt: skip
            else:
                message = N_("Only %(left)s of %(title)s can still be returned (you asked for "
                             "%(asked)s).", left=verdict.returnable, title=title,
                             asked=sel.quantity)  # fmt: skip
            problem(LineProblem(line.id, "quantity", message, QuantityExceeded))
            line_ok = False

        reason = tree.by_id.get(sel.reason_id) if _whole(sel.reason_id) else None
        note = (sel.note or "").strip()
        photos = tuple(sel.photos or ())
        if sel.reason_id in (None, ""):
            problem(LineProblem(line.id, "reason", N_("Choose why you are returning %(title)s.",
                                                            title=title)))  # fmt: skip
            line_ok = False
        elif reason is None:
            problem(LineProblem(line.id, "reason",
                                N_("Choose a reason for %(title)s from the list.",
                                   title=title), NotFound))  # fmt: skip
            line_ok = False
        elif not tree.is_choosable(reason):
            problem(LineProblem(line.id, "reason",
                                N_("Choose a more specific reason for %(title)s.", title=title)))  # fmt: skip
            line_ok = False
        else:
            if reason.requires_note and not note:
                problem(LineProblem(line.id, "note",
                                    N_("Tell us more about %(title)s: a note is needed when "
                                       "the reason is “%(reason)s”.", title=title,
                                       reason=reason.label)))  # fmt: skip
                line_ok = False
            if check_photos and reason.requires_photo and not photos:
                problem(LineProblem(line.id, "photos",
                                    N_("Add at least one photo of %(title)s: a photo is needed "
                                       "when the reason is “%(reason)s”.", title=title,
                                       reason=reason.label)))  # fmt: skip
                line_ok = False
            if kind == claims.KIND and not reason.merchant_fault:
                problem(LineProblem(line.id, "reason", claims.not_a_claim(title)))
                line_ok = False
        choice = None
        if sel.replacement_id not in (None, "") and _whole(sel.quantity) and sel.quantity > 0:
            choice, why = exchanges.check_choice(known, line, sel.quantity, sel.replacement_id,
                                                 kind)  # fmt: skip
            if why:
                problem(LineProblem(line.id, "replacement", why))
                line_ok = False
        if len(note) > NOTE_MAX:
            problem(LineProblem(line.id, "note",
                                N_("Keep the note for %(title)s under %(most)s characters.",
                                   title=title, most=NOTE_MAX)))  # fmt: skip
            line_ok = False
        if len(photos) > MAX_PHOTOS_PER_LINE:
            problem(LineProblem(line.id, "photos",
                                N_("Add at most %(most)s photos of %(title)s.",
                                   most=MAX_PHOTOS_PER_LINE, title=title)))  # fmt: skip
            line_ok = False
        if line_ok:
            kept = kind == claims.KIND and claims.keeps_item(reason, line, policy)
            result.chosen.append(Chosen(line, sel.quantity, reason, note, photos, choice, kept))
    return result


def _check_request_fields(resolution, shopper_note):
    if resolution not in SHOPPER_RESOLUTIONS:
        raise DomainError(N_("Choose a refund to your original payment or store credit."))
    if len(shopper_note or "") > 2 * NOTE_MAX:
        raise DomainError(N_("Keep your note under %(most)s characters.", most=2 * NOTE_MAX))


# --- Estimate -------------------------------------------------------------------------------


def _terms(order, policy, kind="return", method=None):
    """The policy values a new request snapshots on its return (later policy changes never
    change an open return's money), with the return shipping method's price when one is
    chosen."""
    return {
        "kind": kind,
        "currency": order.currency,
        "policy_window_days": policy.window_days,
        "policy_restocking_fee_bps": policy.restocking_fee_bps,
        **shipping.snapshot_fields(policy, method),
        "policy_exchange_restocking_fee": policy.exchange_restocking_fee,
        "policy_exchange_return_shipping": policy.exchange_return_shipping,
        "ship_early": policy.exchange_ship_early and kind == "return",
    }


def _snapshot(order, policy, kind="return", method=None):
    """An unsaved Return carrying the policy values a new request would snapshot."""
    return Return(order=order, **_terms(order, policy, kind, method))


def estimate_chosen(order, chosen, policy, kind="return", method=None):
    rma = _snapshot(order, policy, kind, method)
    # Unsaved lines get stand-in ids (negative: never a real row) to key their quantities.
    lines = [
        ReturnLine(id=-i, rma=rma, order_line=c.line, quantity=c.quantity, reason=c.reason)
        for i, c in enumerate(chosen, 1)
    ]
    swaps = {ln.id: c.replacement.price.total for ln, c in zip(lines, chosen, strict=True)
             if c.replacement is not None}  # fmt: skip
    return refund_for_return(rma, lines, {ln.id: ln.quantity for ln in lines},
                             replacements=swaps)  # fmt: skip


def exchange_split(chosen, policy, kind="return"):
    """The money of the chosen exchanges: refunded, bonus credit, absorbed, due (or None)."""
    return exchanges.split_for(chosen, policy, kind)


def estimate(order, selections, policy=None, kind="return", shipping_method_id=None):
    """The refund a shopper can expect for `selections` if every unit arrives as described.

    It is refund_for_return() on an unsaved Return with the policy snapshot, so it equals the
    refund prefilled for staff once the return exists and everything is received undamaged."""
    policy = policy or ReturnPolicy.current()
    check = check_selections(order, selections, policy, check_photos=False, kind=kind)
    check.raise_first()
    return estimate_chosen(order, check.chosen, policy, kind,
                           _method_for(order, kind, shipping_method_id))  # fmt: skip


def _method_for(order, kind, shipping_method_id):
    """The return shipping method of a request, checked. A claim is the store's problem: it
    asks none (the parcel, when the item must come back, is free to the return address)."""
    if kind == claims.KIND and not shipping_method_id:
        return None
    return shipping.choose_method(order, shipping_method_id)


# --- Request --------------------------------------------------------------------------------


def next_reference(pattern, at):
    """The next free reference for `pattern`, from a Counter row bumped in this transaction."""
    name = references.counter_name(pattern, at)
    for _ in range(1000):
        (
            Counter.insert(name=name, value=1)
            .on_conflict(conflict_target=[Counter.name], update={Counter.value: Counter.value + 1})
            .execute()
        )
        seq = Counter.select(Counter.value).where(Counter.name == name).scalar()
        try:
            reference = references.format_reference(pattern, seq, at)
        except (ValueError, KeyError, IndexError) as exc:
            raise DomainError(f"The store's reference pattern can't be used: {exc}.") from None
        if not Return.select().where(Return.reference == reference).exists():
            return reference
    raise DomainError("No free return reference is left; the store must change its pattern.")


def auto_approves(policy, chosen, breakdown):
    """Whether the store's auto-approve rule approves this request at once."""
    rule = policy.auto_approve
    if rule == "always":
        return True
    if rule == "merchant_fault":
        return bool(chosen) and all(c.reason.merchant_fault for c in chosen)
    if rule == "under_amount":
        return breakdown.total <= policy.auto_approve_max
    return False


def request_return(order, requester, email, lines, resolution="refund", shopper_note="",
                   staff_email=None, at=None, staff=None, override_reason="",
                   kind="return", shipping_method_id=None, draft=None, locale=None):  # fmt: skip
    """Create a return for `lines` [(order_line_id, quantity, reason_id, note, photos,
    replacement_id), ...]; `kind` "claim" for a problem on the store's side (claims.py).

    One transaction: lock the order's lines (and the variants asked for as replacements),
    re-check eligibility against what returns already hold (rule 1) and stock against what
    other replacements hold, take a reference, write the return, its lines, photos and
    replacements (holding their units), the "requested" event, bump the order's version, queue
    the shopper's and staff's emails, then auto-approve when the store's rule matches. Raises a
    DomainError (nothing written) when a rule says no.

    `staff`: a staff member creating the return for the shopper (the same rules; the return
    starts approved when the store's setting says so). With `override_reason` a manager takes
    the return after the window closed; the reason is kept in the timeline.

    `shipping_method_id`: how the parcel comes back (shipping.choose_method: required when the
    store offers methods for the order's country); its price is snapshot as the return
    shipping fee.

    `draft`: the token of the photos kept with the form (drafts.py); the return takes them over
    in the same transaction.

    `locale`: the language the request was made in, kept on the return: the shopper's emails
    about it are written in it when their address has no account (a guest)."""
    at = at or now()
    selections = [s if isinstance(s, Selection) else Selection(*s) for s in lines]
    if kind not in ("return", claims.KIND):
        raise DomainError("A request is a return or a claim.")
    _check_request_fields(resolution, shopper_note)
    override_reason = " ".join((override_reason or "").split())[:500]
    if staff is not None:
        require_staff(staff, message="Only staff can create returns for a shopper.")
        if override_reason:
            require_staff(staff, "manager", "Only a manager can take a return after its window.")
    elif override_reason:
        raise NotAllowed("Only a manager can take a return after its window.")
    with db.atomic():
        policy = ReturnPolicy.current()
        order_lines = list(
            locked(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id))
        )
        catalogue.lock_variants(s.replacement_id for s in selections
                                if _whole(s.replacement_id))  # fmt: skip
        # Staff taking a return by phone have no photos to upload: theirs is the check.
        check = check_selections(order, selections, policy, at, lines=order_lines,
                                 check_photos=staff is None,
                                 past_window=bool(override_reason), kind=kind)  # fmt: skip
        check.raise_first()
        if override_reason and not _window_closed(order, policy, at):
            raise DomainError("The return window is still open: no override is needed.")
        method = _method_for(order, kind, shipping_method_id)
        breakdown = estimate_chosen(order, check.chosen, policy, kind, method)
        split = exchange_split(check.chosen, policy, kind)
        swapped = check.chosen and all(c.replacement is not None for c in check.chosen)
        if swapped and kind == "return":
            resolution = "exchange" if resolution == "refund" else resolution
        rma = Return.create(
            reference=next_reference(policy.reference_pattern, at),
            order=order,
            requested_by=requester,
            email=(email or order.email).strip().lower(),
            status=states.REQUESTED,
            resolution=resolution,
            shopper_note=(shopper_note or "").strip(),
            created_at=at,
            updated_at=at,
            estimated_refund=breakdown.total,
            locale=locale,
            **_terms(order, policy, kind, method),
        )
        return_lines = []
        for c in check.chosen:
            line = ReturnLine.create(
                rma=rma,
                order_line=c.line,
                quantity=c.quantity,
                reason=c.reason,
                note=c.note,
                kept=c.kept,
            )
            for photo in c.photos:
                photo = PhotoRef(*photo)
                ReturnPhoto.create(line=line, stored_name=photo.stored_name,
                                   content_type=photo.content_type, size=photo.size)  # fmt: skip
            return_lines.append(line)
        exchanges.reserve(return_lines, check.chosen, split)
        by = "staff" if staff is not None else ("shopper" if requester is not None else "guest")
        extra = {"override_reason": override_reason} if override_reason else {}
        if method is not None:
            extra["shipping_method"] = method.name
        if split is not None:
            extra["exchange"] = _split_summary(split)
        if kind == claims.KIND:
            extra["claim"] = True
        requested = timeline.record(
            rma,
            "requested",
            actor=staff or requester,
            resolution=resolution,
            by=by,
            **extra,
            lines=[_requested_line(c) for c in check.chosen],
        )
        webhook_events.return_changed(rma, requested)
        Order.update(version=Order.version + 1).where(Order.id == order.id).execute()
        drafts.taken_over(draft)
        context = {"estimate": breakdown.as_dict(), "order_number": order.number,
                   "kind": kind, "exchange": extra.get("exchange"),
                   "kept": any(c.kept for c in check.chosen)}  # fmt: skip
        enqueue_email("return_requested", rma.email, f"return:{rma.id}:email:return_requested",
                      rma=rma, context=context)  # fmt: skip
        if staff_email and staff is None:
            enqueue_email("staff_new_return", staff_email,
                          f"return:{rma.id}:email:staff_new_return", rma=rma, context=context)  # fmt: skip
        if staff is not None:
            if _staff_approves(policy, staff, rma):
                _approve(rma, policy, at, staff)
        elif auto_approves(policy, check.chosen, breakdown):
            _auto_approve(rma, policy, at)
    return rma


def _requested_line(c):
    """How the "requested" event records one line."""
    entry = {"order_line_id": c.line.id, "sku": c.line.sku, "quantity": c.quantity,
             "reason": c.reason.code}  # fmt: skip
    if c.replacement is not None:
        entry["replacement_sku"] = c.replacement.variant.sku
        entry["replacement_price"] = c.replacement.price.total
    if c.kept:
        entry["kept"] = True
    return entry


def _split_summary(split):
    return {"refunded": split.refunded, "credited": split.credited,
            "absorbed": split.absorbed, "due": split.due}  # fmt: skip


def _auto_approve(rma, policy, at):
    transition(rma, "approve", None, changes=approval_changes(policy, at), at=at, auto=True,
               rule=policy.auto_approve)  # fmt: skip
    notify_approved(rma, policy)
    exchanges.after_approval(rma, policy, None, at)


def _staff_approves(policy, staff, rma):
    """A return staff create starts approved when the store says so and its creator may approve
    it (a manager, with a responsible member where the store requires one); else a manager
    reviews it like a shopper's."""
    if not policy.staff_returns_approved or not staff.has_role("manager"):
        return False
    return not (policy.require_responsible and rma.responsible_id is None)


def _approve(rma, policy, at, staff):
    """A return staff created starts approved (the store's setting)."""
    transition(rma, "approve", staff, changes=approval_changes(policy, at), at=at,
               by="staff")  # fmt: skip
    notify_approved(rma, policy)
    exchanges.after_approval(rma, policy, staff, at)


def _window_closed(order, policy, at):
    day = eligibility.last_day(order.delivered_at, policy.window_days, policy.timezone)
    return day is not None and eligibility.store_date(at, policy.timezone) > day


# --- Cancel ---------------------------------------------------------------------------------


def received_units(rma):
    return int(
        ReturnLine.select(fn.COALESCE(fn.SUM(ReturnLine.received_quantity), 0))
        .where(ReturnLine.rma == rma.id)
        .scalar()
    )


def cancel_return(rma, actor, at=None):
    """The shopper cancels while the return is requested or approved and nothing was received.

    Its units count no more (quantities.COUNTING), so they are returnable again."""
    with db.atomic():
        current = load(rma)
        received = received_units(current)
        if not states.shopper_can_cancel(current.status, received):
            if received:
                raise InvalidTransition(
                    N_("This return can't be cancelled any more: we have already received items.")
                )
            raise InvalidTransition(
                N_(
                    "A return that is %(status)s can't be cancelled.",
                    status=Lowered(states.LABELS[current.status]),
                )
            )
        transition(current, "cancel", actor, at=at, by="shopper", from_status=current.status)
        exchanges.release(current, actor, "cancelled by the shopper")
        enqueue_email("return_cancelled", current.email,
                      f"return:{current.id}:email:return_cancelled", rma=current)  # fmt: skip
    return current

"""What the merchant's page of one return shows: the order, the lines with every quantity and
their facts, photos, refunds, the timeline, the next actions (states.next_actions, the same
function every client of the domain reads), the refund that would be prepared now, and the
pickers the action forms need. One function, return_detail(); the view adds the forms."""

from dataclasses import dataclass, field

from peewee import JOIN, fn

from portal.models import (
    ExchangeOrder,
    Order,
    Payment,
    Refund,
    Return,
    ReturnEvent,
    ReturnLabel,
    ReturnLine,
    ReturnPhoto,
    ReturnPolicy,
    User,
)
from portal.prebuilt import (
    prebuilt_models,
    prebuilt_together_rows,
)
from portal.returns import (
    amounts,
    exchange_states,
    exchanges,
    extras,
    pickers,
    refund_states,
    refunding,
    states,
    timeline,
)
from portal.returns.errors import DomainError
from portal.returns.facts import facts_for, lines_query, refund_batches, refunded_units
from portal.returns.settings import bps_to_percent
from portal.returns.staff_orders import shopper_history_columns

active_staff = pickers.active_staff  # cached per process (portal.returns.pickers)
active_locations = pickers.active_locations


@dataclass
class ReturnDetail:
    rma: object
    order: object
    policy: object
    rows: list  # [(ReturnLine, states.LineFacts)] in line order
    covered: dict  # {line_id: units refunded}
    photos: dict  # {line_id: [ReturnPhoto]}
    refunds: list
    events: list  # every ReturnEvent, with its actor
    actions: list  # states.next_actions(): the names of action_list
    finish_blocker: str | None
    plan: object  # refunding.RefundPlan when "refund" is a next action
    plan_error: str | None
    payments: list
    staff: list  # active staff, for the responsible picker
    locations: list  # active inventory locations, for restocking
    responsible: object
    extra_lines: list  # ReturnExtraLine, settled or not
    history: tuple  # (count, refunded cents) of the shopper's other returns
    has_label: bool = False  # the carrier made the return's label
    shipments: list = field(default_factory=list)  # ExchangeOrder (with .items), oldest first
    shopper_kinds: set = field(default_factory=lambda: set(timeline.SHOPPER_TEXT))
    action_list: list = field(default_factory=list)  # [states.Action], what the API answers

    @property
    def to_ship(self):
        return [s for s in self.shipments if s.status == exchange_states.READY]

    @property
    def awaiting_payment(self):
        return [s for s in self.shipments if s.status == exchange_states.AWAITING_PAYMENT]

    @property
    def sellable_locations(self):
        return [loc for loc in self.locations if loc.kind == "sellable"]

    @property
    def additional_limit(self):
        """The largest additional value one manager may give alone on this return (cents)."""
        return refunding.additional_limit(self.policy, self.order)

    @property
    def default_location_id(self):
        return self.policy.default_location_id

    @property
    def default_quarantine_location_id(self):
        return self.policy.default_quarantine_location_id

    @property
    def can_edit(self):
        """Whether anything on the return may still change (extra lines, notes)."""
        if self.rma.status in (states.REJECTED, states.CANCELLED):
            return False
        return self.rma.status != states.COMPLETED or bool(self.policy.allow_edit_completed)

    @property
    def no_locations(self):
        """Restocking can't happen: no active sellable location exists yet."""
        return not any(loc.kind == "sellable" for loc in self.locations)

    @property
    def line_by_id(self):
        return {line.id: (line, facts) for line, facts in self.rows}

    @property
    def unreceived(self):
        return sum(line.quantity - line.received_quantity for line, _ in self.rows)

    @property
    def plan_rows(self):
        if self.plan is None:
            return []
        return [(ln, part) for ln, part in zip(self.plan.lines, self.plan.breakdown.lines,
                                                strict=True) if self.plan.quantities.get(ln.id)]  # fmt: skip

    @property
    def refund_failed(self):
        return any(r.status == refund_states.FAILED for r in self.refunds)

    @property
    def failed_refunds(self):
        return [r for r in self.refunds if r.status == refund_states.FAILED]

    @property
    def refund_being_sent(self):
        return any(r.status in (refund_states.PENDING, refund_states.PROCESSING)
                   for r in self.refunds)  # fmt: skip

    @property
    def status_label(self):
        return states.LABELS.get(self.rma.status, self.rma.status)

    @property
    def fee_percent(self):
        return bps_to_percent(self.rma.policy_restocking_fee_bps)


def _page_queries(rma_id, order_id, email, policy=True):
    """What return_detail() reads beside the lines and events: (queries, scalars); the
    policy among them unless the caller has it from the pickers' cache."""
    label = ReturnLabel.select(fn.COUNT(ReturnLabel.id)).where(ReturnLabel.rma == rma_id)
    line_ids = ReturnLine.select(ReturnLine.id).where(ReturnLine.rma == rma_id)
    known_queries, captured = amounts.known_queries(rma_id, order_id)
    queries = [
        *([ReturnPolicy.select().where(ReturnPolicy.id == 1)] if policy else []),
        Refund.select().where(Refund.rma == rma_id).order_by(Refund.id),
        extras.extra_lines_query(rma_id),
        ReturnPhoto.select().where(ReturnPhoto.line.in_(line_ids)).order_by(ReturnPhoto.id),
        Payment.select().where(Payment.order == order_id).order_by(Payment.position, Payment.id),
        ExchangeOrder.select().where(ExchangeOrder.rma == rma_id).order_by(ExchangeOrder.id),
        *known_queries,
    ]
    return queries, [*shopper_history_columns(rma_id, email), label, *captured]


def _by_reference(reference):
    return Return.select(Return, Order).join(Order).where(Return.reference == reference).limit(1)


def return_by_reference(reference):
    """The return (with its order) of a reference, or None; the SQL built once, the rows
    made as Peewee makes them without its per-column work (portal.prebuilt.prebuilt_models)."""
    found = prebuilt_models("detail:by_reference", _by_reference, reference=reference)
    return found[0] if found else None


def _events_query(rma_id):
    return (
        ReturnEvent.select(ReturnEvent, User)
        .join(User, JOIN.LEFT_OUTER)
        .where(ReturnEvent.rma == rma_id)
        .order_by(ReturnEvent.created_at, ReturnEvent.id)
    )


def return_detail(rma, refund_inputs=None, generation=None):
    """The page's content for `rma`. refund_inputs: what the manager entered in the refund form
    (refund_shipping, additional, overrides {line_id: (cents, note)}) to recalculate with;
    `generation`: the pickers' cache generation the page read (portal.returns.pickers)."""
    # The lines and the events: statements of a fixed shape, built once, their joined rows
    # made by portal.prebuilt.prebuilt_models.
    lines = prebuilt_models("detail:lines", lines_query, rma_id=rma.id)
    events = prebuilt_models("detail:events", _events_query, rma_id=rma.id)
    # Everything else the page reads, in one statement of a fixed shape (portal.db).
    # The store's policy from the pickers' cache on a GET (the generation read with the user).
    cached = pickers.return_policy(generation) if generation is not None else None
    read = prebuilt_together_rows(  # the instances made without Peewee's per-row work
        "detail:together" if cached is None else "detail:together_cached_policy",
        lambda **values: _page_queries(**values, policy=cached is None),
        rma_id=rma.id, order_id=rma.order_id, email=rma.email,
    )  # fmt: skip
    policies = [cached] if cached is not None else read.pop(0)
    (refunds, extra_lines, all_photos, payments, exchange_orders, *known_rows, count, refunded,
     has_label, captured) = read  # fmt: skip
    policy = policies[0] if policies else ReturnPolicy.current()
    batches = refund_batches(rma.id, events=events)
    pending = [x for x in extra_lines if not x.refund_batch]
    shipments = exchanges.with_items(exchange_orders) if any(ln.swap for ln in lines) else []
    facts = facts_for(rma, lines, refunds, policy, batches, pending,
                      {s.status for s in shipments})  # fmt: skip
    action_list = states.action_list(facts)  # the next actions, with the lines of each
    actions = [action.name for action in action_list]
    photos = {}
    for photo in all_photos:
        photos.setdefault(photo.line_id, []).append(photo)
    plan, plan_error = None, None
    read = {"known": amounts.known_from(rma, *known_rows, captured), "extras": pending,
            "payments": payments}  # fmt: skip
    if "refund" in actions:
        inputs = refund_inputs or {}
        overrides = {k: v[0] for k, v in (inputs.get("overrides") or {}).items()}
        try:
            plan = refunding.plan_refund(rma, lines, rma.order, inputs.get("refund_shipping"),
                                         inputs.get("additional", 0), overrides, batches,
                                         **read)  # fmt: skip
        except DomainError as exc:
            plan_error = str(exc)
            plan = refunding.plan_refund(rma, lines, rma.order, batches=batches, **read)
    staff = active_staff(generation)
    responsible = next((u for u in staff if u.id == rma.responsible_id), None)
    if rma.responsible_id and responsible is None:
        responsible = User.get_or_none(User.id == rma.responsible_id)
    in_line_work = rma.status in (states.PARTIALLY_RECEIVED, states.RECEIVED)
    return ReturnDetail(
        rma=rma,
        order=rma.order,
        policy=policy,
        rows=list(zip(lines, facts.lines, strict=True)),
        covered=refunded_units(batches),
        photos=photos,
        refunds=refunds,
        events=events,
        actions=actions,
        finish_blocker=states.finish_blocker(facts) if in_line_work else None,
        plan=plan,
        plan_error=plan_error,
        payments=payments,
        staff=staff,
        locations=active_locations(generation),
        responsible=responsible,
        extra_lines=extra_lines,
        history=(int(count or 0), int(refunded or 0)),
        has_label=bool(has_label),
        shipments=shipments,
        action_list=action_list,
    )

"""The return request rules (portal.returns.requests), called directly: no views, no Flask
requests. A real SQLite file per test (the `app` fixture only builds the schema)."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import (
    Counter,
    Order,
    OrderLine,
    OutboxMessage,
    Return,
    ReturnEvent,
    ReturnLine,
    ReturnPhoto,
    now,
)
from portal.returns import eligibility, states
from portal.returns.amounts import refund_for_return
from portal.returns.errors import (
    DomainError,
    Ineligible,
    InvalidTransition,
    NotFound,
    QuantityExceeded,
)
from portal.returns.quantities import taken_by_line
from portal.returns.requests import (
    PhotoRef,
    Selection,
    cancel_return,
    estimate,
    request_return,
)

STAFF = "team@example.com"


@pytest.fixture
def shop(ctx, make):
    """A shopper, reasons like the demo's, and a delivered two-line order."""
    sam = make.user("sam@example.com")
    reasons = {
        "mind": make.reason("changed_mind", "I changed my mind"),
        "fit": make.reason("fit", "It doesn't fit"),
        "damaged": make.reason(
            "damaged", "Arrived damaged", merchant_fault=True, requires_photo=True
        ),  # fmt: skip
        "other": make.reason("other", "Other", requires_note=True),
    }
    reasons["small"] = make.reason("fit_small", "Too small", parent=reasons["fit"])
    order = make.order(
        customer=sam,
        lines=[
            {"sku": "TEE", "title": "Tee", "quantity": 3, "unit_price": 2000, "unit_tax": 400},
            {"sku": "CAP", "title": "Cap", "quantity": 1, "unit_price": 1500},
        ],
        shipping=500,
    )
    tee, cap = list(order.lines.order_by(OrderLine.id))
    return sam, order, tee, cap, reasons


def counts():
    return {
        model.__name__: model.select().count()
        for model in (Return, ReturnLine, ReturnPhoto, ReturnEvent, OutboxMessage, Counter)
    }


def photo(n=1):
    return PhotoRef(f"{'ab' * 16}{n}.png", "image/png", 123)


def request(order, user, lines, **kw):
    return request_return(order, user, user.email if user else order.email, lines,
                          staff_email=STAFF, **kw)  # fmt: skip


def test_a_request_writes_everything_in_one_go(shop):
    sam, order, tee, cap, r = shop
    version = order.version
    rma = request(
        order,
        sam,
        [
            (tee.id, 2, r["small"].id, "runs small", ()),
            (cap.id, 1, r["damaged"].id, "", (photo(),)),
        ],
        resolution="store_credit",
        shopper_note="Thanks!",
    )
    rma = Return.get_by_id(rma.id)
    assert rma.reference == f"RMA-{now().year}-00001"
    assert rma.status == states.REQUESTED
    assert (rma.requested_by_id, rma.email, rma.resolution) == (sam.id, sam.email, "store_credit")
    assert rma.shopper_note == "Thanks!"
    assert (rma.currency, rma.policy_window_days) == ("USD", 30)
    assert (rma.policy_restocking_fee_bps, rma.policy_return_shipping_fee) == (0, 0)
    lines = {ln.order_line_id: ln for ln in rma.lines}
    assert (lines[tee.id].quantity, lines[tee.id].reason_id, lines[tee.id].note) == (
        2,
        r["small"].id,
        "runs small",
    )
    assert [p.stored_name for p in lines[cap.id].photos] == [photo().stored_name]
    events = list(rma.events)
    assert [e.kind for e in events] == ["requested"]
    assert events[0].actor_id == sam.id and events[0].payload["resolution"] == "store_credit"
    assert Order.get_by_id(order.id).version == version + 1
    mails = {m.payload["template"]: m for m in OutboxMessage.select()}
    assert set(mails) == {"return_requested", "staff_new_return"}
    assert mails["return_requested"].payload["to"] == sam.email
    assert mails["staff_new_return"].payload["to"] == STAFF
    assert mails["return_requested"].rma_id == rma.id
    assert taken_by_line([tee.id, cap.id]) == {tee.id: 2, cap.id: 1}


def test_references_follow_the_pattern_and_skip_taken_ones(shop, make):
    sam, order, tee, cap, r = shop
    first = request(order, sam, [(tee.id, 1, r["mind"].id)])
    make.policy(reference_pattern="R{seq:03d}")
    Return.update(reference="R002").where(Return.id == first.id).execute()  # already taken
    Counter.create(name="rma", value=1)
    second = request(order, sam, [(tee.id, 1, r["mind"].id)])
    assert second.reference == "R003"
    assert Counter.get(Counter.name == "rma").value == 3


def test_guest_requests_have_no_account(shop, make):
    _, _, _, _, r = shop
    order = make.order(email="guest@example.net")
    line = order.lines.get()
    rma = request_return(order, None, "Guest@Example.net ", [(line.id, 1, r["mind"].id)])
    assert rma.requested_by is None and rma.email == "guest@example.net"
    assert ReturnEvent.get(ReturnEvent.rma == rma.id).payload["by"] == "guest"
    # no staff address given: no staff email
    assert [m.payload["template"] for m in OutboxMessage.select()] == ["return_requested"]


@pytest.mark.parametrize(
    ("rule", "maximum", "reasons", "approved"),
    [
        ("never", 0, ["damaged"], False),
        ("always", 0, ["mind"], True),
        ("merchant_fault", 0, ["damaged"], True),
        ("merchant_fault", 0, ["damaged", "mind"], False),
        ("under_amount", 2400, ["mind"], True),  # one tee: 2400
        ("under_amount", 2399, ["mind"], False),
    ],
)
def test_auto_approve_rules(shop, make, rule, maximum, reasons, approved):
    sam, order, tee, cap, r = shop
    make.policy(auto_approve=rule, auto_approve_max=maximum, expire_unshipped_days=14)
    chosen = [(tee.id, 1, r[reasons[0]].id, "", (photo(1),))]
    if len(reasons) > 1:
        chosen.append((cap.id, 1, r[reasons[1]].id, "", ()))
    rma = Return.get_by_id(request(order, sam, chosen).id)
    kinds = [e.kind for e in rma.events.order_by(ReturnEvent.id)]
    templates = sorted(m.payload["template"] for m in OutboxMessage.select())
    if approved:
        assert rma.status == states.APPROVED and rma.approved_at is not None
        assert rma.target_date == rma.approved_at.date() + datetime.timedelta(days=14)
        assert kinds == ["requested", "approved"]
        approved_event = rma.events.where(ReturnEvent.kind == "approved").get()
        assert approved_event.actor is None and approved_event.payload["auto"] is True
        assert templates == ["return_approved", "return_requested", "staff_new_return"]
    else:
        assert rma.status == states.REQUESTED and kinds == ["requested"]
        assert templates == ["return_requested", "staff_new_return"]


def test_the_estimate_equals_the_staff_prefill(shop, make):
    sam, order, tee, cap, r = shop
    make.policy(restocking_fee_bps=1000, return_shipping_fee=595)
    chosen = [Selection(tee.id, 2, r["small"].id), Selection(cap.id, 1, r["mind"].id)]
    shown = estimate(order, chosen)
    assert (shown.items, shown.restocking, shown.return_shipping) == (6300, 630, 595)
    assert shown.total == 6300 - 630 - 595
    rma = request(order, sam, chosen)
    lines = list(rma.lines)
    prefill = refund_for_return(rma, lines, {ln.id: ln.quantity for ln in lines})
    assert prefill == shown
    # A later policy change doesn't change the open return's money (snapshot).
    make.policy(restocking_fee_bps=5000, return_shipping_fee=0)
    rma = Return.get_by_id(rma.id)
    again = refund_for_return(rma, list(rma.lines), {ln.id: ln.quantity for ln in rma.lines})
    assert again.total == shown.total


def test_merchant_fault_estimate_refunds_shipping_and_no_fees(shop, make):
    sam, order, tee, cap, r = shop
    make.policy(restocking_fee_bps=1000, return_shipping_fee=595)
    shown = estimate(order, [Selection(cap.id, 1, r["damaged"].id, "", (photo(),))])
    assert (shown.items, shown.restocking, shown.return_shipping, shown.shipping) == (
        1500,
        0,
        0,
        500,
    )


BAD_REQUESTS = {
    "more than bought": (lambda t, c, r: [(t.id, 4, r["mind"].id)], QuantityExceeded, "Only 3"),
    "zero everywhere": (lambda t, c, r: [(t.id, 0, r["mind"].id)], DomainError, "at least one"),
    "negative": (lambda t, c, r: [(t.id, -1, r["mind"].id)], DomainError, "whole number"),
    "not a number": (lambda t, c, r: [(t.id, "2", r["mind"].id)], DomainError, "whole number"),
    "a boolean": (lambda t, c, r: [(t.id, True, r["mind"].id)], DomainError, "whole number"),
    "nothing": (lambda t, c, r: [], DomainError, "at least one"),
    "twice the same line": (
        lambda t, c, r: [(t.id, 1, r["mind"].id), (t.id, 1, r["mind"].id)],
        DomainError,
        "listed twice",
    ),
    "no reason": (lambda t, c, r: [(t.id, 1, None)], DomainError, "Choose why"),
    "unknown reason": (lambda t, c, r: [(t.id, 1, 999999)], NotFound, "from the list"),
    "reason that is text": (lambda t, c, r: [(t.id, 1, "abc")], NotFound, "from the list"),
    "parent reason": (lambda t, c, r: [(t.id, 1, r["fit"].id)], DomainError, "more specific"),
    "missing note": (lambda t, c, r: [(t.id, 1, r["other"].id, " ")], DomainError, "a note is"),
    "missing photo": (lambda t, c, r: [(c.id, 1, r["damaged"].id)], DomainError, "photo is"),
    "four photos": (
        lambda t, c, r: [(c.id, 1, r["damaged"].id, "", tuple(photo(n) for n in range(4)))],
        DomainError,
        "at most 3",
    ),
    "note too long": (lambda t, c, r: [(t.id, 1, r["mind"].id, "x" * 1001)], DomainError, "under"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_requests_are_refused_and_change_nothing(shop, case):
    sam, order, tee, cap, r = shop
    lines, error, words = BAD_REQUESTS[case]
    before, version = counts(), order.version
    with pytest.raises(error, match=words):
        request(order, sam, lines(tee, cap, r))
    assert counts() == before
    assert Order.get_by_id(order.id).version == version


def test_a_line_from_another_order_is_refused(shop, make):
    sam, order, tee, cap, r = shop
    other = make.order(customer=sam).lines.get()
    before = counts()
    with pytest.raises(NotFound, match=f"not part of order #{order.number}"):
        request(order, sam, [(other.id, 1, r["mind"].id)])
    assert counts() == before


def test_inactive_reasons_are_refused(shop):
    sam, order, tee, cap, r = shop
    r["mind"].active = False
    r["mind"].save()
    with pytest.raises(NotFound):
        request(order, sam, [(tee.id, 1, r["mind"].id)])


@pytest.mark.parametrize("resolution", ["exchange", "cash", ""])
def test_only_refund_or_store_credit(shop, resolution):
    sam, order, tee, cap, r = shop
    with pytest.raises(DomainError, match="original payment or store credit"):
        request(order, sam, [(tee.id, 1, r["mind"].id)], resolution=resolution)
    assert Return.select().count() == 0


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda make, sam: make.order(customer=sam, delivered=False), "Not delivered yet"),
        (lambda make, sam: make.order(customer=sam, invoiced=False), "Not invoiced yet"),
        (lambda make, sam: make.order(customer=sam, days_ago=60), "return window closed"),
        (
            lambda make, sam: make.order(customer=sam, lines=[{"final_sale": True}]),
            "Final sale",
        ),
    ],
)
def test_ineligible_lines_are_refused_with_the_reason(shop, make, setup, words):
    sam, _, _, _, r = shop
    order = setup(make, sam)
    with pytest.raises(Ineligible, match=words):
        request(order, sam, [(order.lines.get().id, 1, r["mind"].id)])
    assert Return.select().count() == 0


def test_returns_switched_off(shop, make):
    sam, order, tee, cap, r = shop
    make.policy(returns_enabled=False)
    with pytest.raises(Ineligible, match="switched off"):
        request(order, sam, [(tee.id, 1, r["mind"].id)])


def test_second_request_only_gets_what_is_left(shop):
    sam, order, tee, cap, r = shop
    request(order, sam, [(tee.id, 2, r["mind"].id)])
    with pytest.raises(QuantityExceeded, match="Only 1 of “Tee”"):
        request(order, sam, [(tee.id, 2, r["mind"].id)])
    request(order, sam, [(tee.id, 1, r["mind"].id)])
    with pytest.raises(QuantityExceeded, match="already returned or in a return request"):
        request(order, sam, [(tee.id, 1, r["mind"].id)])
    verdicts = {e.line.id: e.verdict for e in eligibility.for_order(order)}
    assert verdicts[tee.id].returnable == 0 and verdicts[tee.id].code == eligibility.ALREADY_TAKEN


def test_cancel_releases_the_units(shop):
    sam, order, tee, cap, r = shop
    rma = request(order, sam, [(tee.id, 3, r["mind"].id)])
    assert taken_by_line([tee.id]) == {tee.id: 3}
    cancelled = cancel_return(rma, sam)
    assert cancelled.status == states.CANCELLED
    rma = Return.get_by_id(rma.id)
    assert rma.status == states.CANCELLED and rma.version == 2
    assert [e.kind for e in rma.events.order_by(ReturnEvent.id)] == ["requested", "cancelled"]
    assert OutboxMessage.select().where(OutboxMessage.payload.contains("return_cancelled")).exists()
    assert taken_by_line([tee.id]) == {}
    request(order, sam, [(tee.id, 3, r["mind"].id)])  # returnable again


def test_cancel_an_approved_return(shop, make):
    sam, order, tee, cap, r = shop
    make.policy(auto_approve="always")
    rma = request(order, sam, [(tee.id, 1, r["mind"].id)])
    assert cancel_return(rma, sam).status == states.CANCELLED


def test_cancel_is_refused_once_anything_arrived_or_when_closed(shop):
    sam, order, tee, cap, r = shop
    rma = request(order, sam, [(tee.id, 2, r["mind"].id)])
    Return.update(status=states.PARTIALLY_RECEIVED).where(Return.id == rma.id).execute()
    ReturnLine.update(received_quantity=1).where(ReturnLine.rma == rma.id).execute()
    before = counts()
    with pytest.raises(InvalidTransition, match="already received items"):
        cancel_return(rma, sam)
    assert counts() == before

    other = request(order, sam, [(cap.id, 1, r["mind"].id)])
    cancel_return(other, sam)
    with pytest.raises(InvalidTransition, match="cancelled can't be cancelled"):
        cancel_return(other, sam)
    assert Return.get_by_id(rma.id).status == states.PARTIALLY_RECEIVED


# --- rule 1 under any sequence of requests and cancels ------------------------------------

steps = st.lists(
    st.tuples(st.sampled_from(["request", "cancel"]), st.integers(min_value=1, max_value=4)),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_requests_and_cancels_never_take_more_than_bought(ctx, make, steps):
    sam = make.user()
    mind = make.reason()
    order = make.order(customer=sam, lines=[{"quantity": 4}])
    line = order.lines.get()
    open_returns = []
    for action, n in steps:
        taken = taken_by_line([line.id]).get(line.id, 0)
        if action == "request":
            try:
                open_returns.append(request(order, sam, [(line.id, n, mind.id)]))
                assert taken + n <= line.quantity
            except QuantityExceeded:
                assert taken + n > line.quantity
        elif open_returns:
            cancel_return(open_returns.pop(n % len(open_returns)), sam)
        assert taken_by_line([line.id]).get(line.id, 0) <= line.quantity
        assert taken_by_line([line.id]).get(line.id, 0) == sum(
            ln.quantity for rma in open_returns for ln in rma.lines
        )

"""Exchanges through the domain: a shopper picks another size or colour instead of a refund;
the unit is reserved at request and released when the return ends without it; the exchange
order ships once the returned unit is received and accepted (and any difference is paid); its
stock leaves through a StockMovement; the replacement can itself be returned later."""

import datetime

import pytest

from portal.models import (
    ExchangeOrder,
    Order,
    OrderLine,
    OutboxMessage,
    Payment,
    Replacement,
    Return,
    ReturnEvent,
    ReturnLine,
    StockLevel,
    StockMovement,
    now,
)
from portal.returns import (
    catalogue,
    eligibility,
    exchanges,
    expiry,
    facts,
    finishing,
    inspection,
    receiving,
    refunding,
    requests,
    review,
)
from portal.returns.errors import DomainError, InvalidTransition, NotAllowed
from portal.returns.requests import Selection
from tests import factories

TEE, HOODIE, MUG = factories.CAT_TEE, factories.CAT_HOODIE, factories.CAT_MUG


@pytest.fixture
def store(ctx):
    """factories.catalogue_store(): tees M/L/XL, hoodies grey/forest, a cap, a shopper's order."""
    return factories.catalogue_store()


def ask(store, picks, kind="return", **kwargs):
    """A request: picks are (sku of the order line, quantity, reason code, replacement sku)."""
    selections = [
        Selection(store.lines[sku].id, qty, store.reasons[reason].id, "note", (),
                  store.v[swap].id if swap else None)
        for sku, qty, reason, swap in picks
    ]  # fmt: skip
    return requests.request_return(store.order, store.shopper, store.shopper.email, selections,
                                   kind=kind, **kwargs)  # fmt: skip


def free(store, sku):
    return catalogue.available([store.v[sku].id])[store.v[sku].id]


def fresh(rma):
    return Return.get_by_id(rma.id)


def line(rma, sku):
    return ReturnLine.get((ReturnLine.rma == rma.id) & (ReturnLine.order_line == sku.id))


def orders_of(rma):
    return list(
        ExchangeOrder.select().where(ExchangeOrder.rma == rma.id).order_by(ExchangeOrder.id)
    )


def received(store, rma, units):
    """Approve and receive {sku: units}, accepted on receipt."""
    review.approve(rma, store.manager)
    receipts = {line(rma, store.lines[sku]).id: (n, 0) for sku, n in units.items()}
    return receiving.receive(fresh(rma), store.agent, receipts)


# --- the choice and its money -----------------------------------------------------------------------


def test_the_options_are_the_other_sizes_with_their_stock_and_price(store):
    options = catalogue.exchange_options([store.lines["TEE-M"]], requests.ReturnPolicy.current())
    got = [(o.variant.sku, o.available, o.price.total) for o in options[store.lines["TEE-M"].id]]
    assert got == [("TEE-L", 2, 3000), ("TEE-XL", 0, 3000)]
    assert store.lines["MUG"].id not in options  # not in the catalogue: nothing to offer


def test_a_same_price_size_swap_reserves_the_unit_and_refunds_nothing(store):
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    [rep] = Replacement.select()
    assert (rep.variant.sku, rep.quantity, rep.held, rep.unit_total, rep.due) == ("TEE-L", 1, 1,
                                                                                  3000, 0)  # fmt: skip
    assert free(store, "TEE-L") == 1
    assert rma.resolution == "exchange" and rma.estimated_refund == 0
    event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "requested"))
    assert event.payload["lines"][0]["replacement_sku"] == "TEE-L"


def test_the_whole_exchange_receive_ship_deliver_and_finish(store):
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    version = Order.get_by_id(store.order.id).version
    assert "ship_exchange" not in facts.next_actions(fresh(rma))
    received(store, rma, {"TEE-M": 1})
    [order] = orders_of(rma)
    assert (order.status, order.amount_due, order.reference) == ("ready", 0, f"{rma.reference}-X1")
    actions = facts.next_actions(fresh(rma))
    assert "ship_exchange" in actions and "finish" not in actions and "refund" not in actions
    with pytest.raises(InvalidTransition, match="hasn't shipped yet"):
        finishing.finish(fresh(rma), store.agent)

    exchanges.ship(order, store.agent, "DHL", "JD0001", store.main.id)
    assert StockLevel.get(StockLevel.sku == "TEE-L").quantity == 1
    [move] = StockMovement.select().where(StockMovement.reason == "exchange")
    assert (move.sku, move.quantity, move.location_id) == ("TEE-L", -1, store.main.id)
    rep = Replacement.get()
    assert (rep.held, rep.shipped, rep.reservation) == (0, 1, "shipped")
    assert free(store, "TEE-L") == 1  # stock and reservation went down together
    assert Order.get_by_id(store.order.id).version == version + 2  # received, then shipped
    new = OrderLine.get(OrderLine.replaces == store.lines["TEE-M"].id)
    assert (new.sku, new.quantity, new.unit_total, new.delivered_at) == ("TEE-L", 1, 3000, None)
    [mail] = OutboxMessage.select().where(OutboxMessage.dedupe_key.contains("exchange:"))
    assert mail.payload["template"] == "exchange_shipped"
    assert mail.payload["context"]["tracking_number"] == "JD0001"
    assert ExchangeOrder.get_by_id(order.id).status == "shipped"

    assert "finish" in facts.next_actions(fresh(rma))
    finishing.finish(fresh(rma), store.agent)
    assert fresh(rma).status == "completed"
    exchanges.deliver(order, store.agent)
    assert OrderLine.get_by_id(new.id).delivered_at is not None


def test_a_dearer_replacement_ships_once_its_difference_is_paid(store, make):
    make.policy(exchange_bonus=300, exchange_absorb_up_to=200)
    rma = ask(store, [("HOOD-GREY", 1, "changed_mind", "HOOD-FOREST")])
    rep = Replacement.get()
    # paid 8280 for grey; forest's list is 9480 against grey's 8280: 1200 more, minus the bonus
    # (300) and what the store absorbs (200)
    assert (rep.unit_total, rep.credited, rep.absorbed, rep.due) == (9480, 300, 200, 700)
    received(store, rma, {"HOOD-GREY": 1})
    [order] = orders_of(rma)
    assert (order.status, order.amount_due) == ("awaiting_payment", 700)
    assert "record_payment" in facts.next_actions(fresh(rma))
    with pytest.raises(InvalidTransition, match="waits for the shopper's payment of \\$7.00"):
        exchanges.ship(order, store.agent, "DHL", "JD0002", store.main.id)
    with pytest.raises(NotAllowed):
        exchanges.record_payment(order, store.agent, "card", "ch_diff")
    exchanges.record_payment(order, store.manager, "card", "ch_diff")
    payment = Payment.get(Payment.reference == "ch_diff")
    assert (payment.order_id, payment.amount) == (store.order.id, 700)
    exchanges.ship(ExchangeOrder.get_by_id(order.id), store.agent, "DHL", "JD0002", store.main.id)
    new = OrderLine.get(OrderLine.replaces == store.lines["HOOD-GREY"].id)
    assert new.unit_total == 9480 - 500  # what the shopper paid for it: no bonus as money


def test_a_cheaper_replacement_refunds_the_difference_as_its_own_row(store):
    store.lines["TEE-M"].unit_price = 3500  # the tee was bought dearer than the list price
    OrderLine.update(unit_price=3500).where(OrderLine.id == store.lines["TEE-M"].id).execute()
    Payment.update(amount=Payment.amount + 2000).execute()
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    # same list price: the shopper's own price carries over, so nothing comes back
    assert Replacement.get().unit_total == 4000 and rma.estimated_refund == 0
    cap = ask(store, [("TEE-M", 1, "fit_small", None)])
    assert cap.estimated_refund == 4000


def test_another_product_costs_its_list_price_when_the_store_lets_shoppers_shop(store, make):
    make.policy(exchange_any_product=True)
    rma = ask(store, [("TEE-M", 1, "changed_mind", "CAP-1")])
    assert Replacement.get().unit_total == 1500
    assert rma.estimated_refund == 3000 - 1500  # the cheaper cap: the difference comes back
    received(store, rma, {"TEE-M": 1})
    plan = refunding.plan_refund(fresh(rma))
    assert (plan.breakdown.items, plan.breakdown.exchange, plan.total) == (0, 1500, 1500)
    refunding.prepare_refund(fresh(rma), store.manager)
    [order] = orders_of(rma)
    exchanges.ship(order, store.agent, "UPS", "1Z", store.main.id)
    assert facts.next_actions(fresh(rma)) == ["restock", "hold"]  # the refund is on its way
    blocker = requests.states.finish_blocker(facts.facts_for(fresh(rma)))
    assert blocker.startswith("A refund is still pending")


def test_exchange_fees_are_off_by_default_and_settings_when_on(store, make):
    make.policy(restocking_fee_bps=1000, return_shipping_fee=500)
    rma = ask(store, [("TEE-M", 1, "changed_mind", "TEE-L"), ("MUG", 1, "changed_mind", None)])
    assert rma.estimated_refund == 1000 - 100 - 500  # the mug pays both fees, the tee none
    make.policy(exchange_restocking_fee=True)
    rma = ask(store, [("TEE-M", 1, "changed_mind", "TEE-L")])
    assert fresh(rma).policy_exchange_restocking_fee is True
    assert rma.estimated_refund == 0  # a fee is taken from a refund, never billed


def test_ship_early_makes_the_exchange_order_at_approval_and_says_so(store, make):
    make.policy(exchange_ship_early=True)
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    review.approve(rma, store.manager)
    [order] = orders_of(rma)
    assert order.early and order.status == "ready"
    event = ReturnEvent.get((ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "exchange_created"))
    assert event.payload["early"] is True
    assert "ship_exchange" in facts.next_actions(fresh(rma))


def test_an_exchange_can_be_returned_later_in_a_window_from_its_delivery(store, make):
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    received(store, rma, {"TEE-M": 1})
    [order] = orders_of(rma)
    exchanges.ship(order, store.agent, "DHL", "JD3", store.main.id)
    new = OrderLine.get(OrderLine.replaces == store.lines["TEE-M"].id)
    verdicts = {e.line.id: e.verdict for e in eligibility.for_order(store.order)}
    assert verdicts[new.id].code == eligibility.NOT_DELIVERED
    exchanges.deliver(ExchangeOrder.get_by_id(order.id), store.agent)
    later = now() + datetime.timedelta(days=25)  # the order's own window has closed by then
    verdicts = {e.line.id: e.verdict for e in eligibility.for_order(store.order, at=later)}
    assert verdicts[store.lines["HOOD-GREY"].id].code == eligibility.WINDOW_PASSED
    assert verdicts[new.id].returnable == 1
    again = requests.request_return(store.order, store.shopper, store.shopper.email,
                                    [Selection(new.id, 1, store.reasons["changed_mind"].id)])  # fmt: skip
    assert again.estimated_refund == 3000


# --- releasing the reserved unit ---------------------------------------------------------------


def test_rejecting_or_cancelling_the_return_releases_the_unit(store):
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    assert free(store, "TEE-L") == 1
    review.reject(rma, store.manager, "Worn.")
    assert free(store, "TEE-L") == 2 and Replacement.get().reservation == "released"
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    requests.cancel_return(rma, store.shopper)
    assert free(store, "TEE-L") == 2
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    review.approve(rma, store.manager)
    review.cancel(fresh(rma), store.manager, "Phoned.")
    assert free(store, "TEE-L") == 2
    assert ReturnEvent.select().where(ReturnEvent.kind == "replacement_released").count() == 3


def test_an_expired_return_releases_the_unit_and_its_early_exchange_order(store, make):
    make.policy(exchange_ship_early=True, expire_unshipped_days=7)
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    review.approve(rma, store.manager)
    assert expiry.expire_unshipped(at=now() + datetime.timedelta(days=9)) == [rma.reference]
    assert free(store, "TEE-L") == 2
    assert orders_of(rma)[0].status == "cancelled"


def test_a_line_rejected_at_inspection_releases_its_unit_and_cancels_its_shipment(store):
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L"),
                      ("HOOD-GREY", 1, "changed_mind", "HOOD-FOREST")])  # fmt: skip
    review.approve(rma, store.manager)
    receipts = {line(rma, store.lines["TEE-M"]).id: (1, 0),
                line(rma, store.lines["HOOD-GREY"]).id: (1, 0)}  # fmt: skip
    receiving.receive(fresh(rma), store.agent, receipts)
    [first] = orders_of(rma)
    inspection.inspect(fresh(rma), store.agent,
                       {line(rma, store.lines["HOOD-GREY"]).id: ("rejected", "Worn")})  # fmt: skip
    cancelled, again = orders_of(rma)
    assert (cancelled.id, cancelled.status) == (first.id, "cancelled")
    assert again.status == "ready" and [i.replacement.variant.sku for i in again.lines] == ["TEE-L"]
    assert free(store, "HOOD-FOREST") == 3 and free(store, "TEE-L") == 1


def test_finishing_releases_the_units_of_items_never_received(store):
    rma = ask(store, [("TEE-M", 2, "fit_small", "TEE-L")])
    received(store, rma, {"TEE-M": 1})
    [order] = orders_of(rma)
    assert [i.quantity for i in order.lines] == [1]
    exchanges.ship(order, store.agent, "DHL", "JD4", store.main.id)
    finishing.finish(fresh(rma), store.agent)
    rep = Replacement.get()
    assert (rep.shipped, rep.held, rep.reservation) == (1, 0, "released")
    assert free(store, "TEE-L") == 1


# --- shipping refusals ------------------------------------------------------------------------------


def test_shipping_needs_a_carrier_a_tracking_number_and_stock_where_it_ships_from(store, make):
    rma = ask(store, [("TEE-M", 1, "fit_small", "TEE-L")])
    received(store, rma, {"TEE-M": 1})
    [order] = orders_of(rma)
    other = make.location("STORE-1")
    for args, message in [
        (("", "JD5", store.main.id), "Enter the carrier"),
        (("DHL", " ", store.main.id), "Enter the tracking number"),
        (("DHL", "JD5", None), "Choose the active sellable location"),
        (("DHL", "JD5", other.id), "Store-1 has 0 of TEE-L"),
    ]:
        with pytest.raises(DomainError, match=message):
            exchanges.ship(order, store.agent, *args)
    assert ExchangeOrder.get_by_id(order.id).status == "ready"
    assert StockMovement.select().where(StockMovement.reason == "exchange").count() == 0
    with pytest.raises(NotAllowed):
        exchanges.ship(order, store.shopper, "DHL", "JD5", store.main.id)
    exchanges.ship(order, store.agent, "DHL", "JD5", store.main.id)
    with pytest.raises(InvalidTransition, match="shipped can't be shipped"):
        exchanges.ship(ExchangeOrder.get_by_id(order.id), store.agent, "DHL", "JD5",
                       store.main.id)  # fmt: skip

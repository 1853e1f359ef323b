"""Claims through the domain (a problem on the store's side: defective, damaged, wrong item,
missing), and the bad input of exchanges and claims: each refused with a clear message, and
nothing written."""

import pytest

from portal.models import (
    ExchangeOrder,
    OrderLine,
    Replacement,
    Return,
    ReturnLine,
    StockMovement,
    Variant,
)
from portal.returns import (
    catalogue,
    eligibility,
    exchanges,
    facts,
    finishing,
    inspection,
    receiving,
    refunding,
    requests,
    review,
)
from portal.returns.errors import DomainError
from portal.returns.requests import Selection
from tests.domain.test_exchanges import HOODIE, MUG, TEE, ask, fresh, line, orders_of
from tests.domain.test_exchanges import store as store  # noqa: F401  (the fixture)


def kept_claim(store, reason="missing", outcome="replacement", sku="TEE-M"):
    swap = sku if outcome == "replacement" else None
    return ask(store, [(sku, 1, reason, swap)], kind="claim")


def test_a_claim_for_a_missing_item_keeps_it_and_ships_a_replacement(store):
    rma = kept_claim(store)
    assert (rma.kind, rma.status) == ("claim", "requested")
    rep = Replacement.get()
    assert (rep.kind, rep.variant.sku, rep.unit_total, rep.due) == ("claim", "TEE-M", 3000, 0)
    assert line(rma, store.lines["TEE-M"]).kept
    review.approve(rma, store.manager)
    rma = fresh(rma)
    got = line(rma, store.lines["TEE-M"])
    # No parcel: counted received for settlement only, accepted; nothing to restock.
    assert rma.status == "received"
    assert (got.received_quantity, got.inspection, got.kept) == (1, "accepted", True)
    actions = facts.next_actions(rma)
    assert "receive" not in actions and "restock" not in actions and "inspect" not in actions
    assert "ship_exchange" in actions
    [order] = orders_of(rma)
    exchanges.ship(order, store.agent, "DHL", "JD9", store.main.id)
    assert "finish" in facts.next_actions(fresh(rma))
    finishing.finish(fresh(rma), store.agent)
    assert StockMovement.select().where(StockMovement.reason == "restock").count() == 0
    # The claimed unit counts as returned (rule 1): it can't be claimed or returned again.
    verdicts = {e.line.id: e.verdict for e in eligibility.for_order(store.order)}
    assert verdicts[store.lines["TEE-M"].id].returnable == 1  # of 2 bought


def test_a_claim_with_a_refund_goes_straight_to_the_refund_without_fees(store, make):
    make.policy(restocking_fee_bps=1000, return_shipping_fee=500)
    rma = kept_claim(store, outcome="refund")
    assert rma.estimated_refund == 3000 + 500  # no fees, shipping refunded (store's fault)
    review.approve(rma, store.manager)
    assert facts.next_actions(fresh(rma))[0] == "refund"
    [refund] = refunding.prepare_refund(fresh(rma), store.manager)
    assert refund.amount == 3500


def test_a_claim_whose_item_must_come_back_is_received_and_inspected(store, make):
    photo = ("a" * 32 + ".png", "image/png", 10)
    rma = requests.request_return(
        store.order, store.shopper, store.shopper.email,
        [Selection(store.lines["HOOD-GREY"].id, 1, store.reasons["damaged"].id, "", (photo,),
                   store.v["HOOD-GREY"].id)],
        kind="claim",
    )  # fmt: skip
    assert not line(rma, store.lines["HOOD-GREY"]).kept
    review.approve(rma, store.manager)
    assert fresh(rma).status == "approved" and orders_of(rma) == []
    receiving.receive(fresh(rma), store.agent, {line(rma, store.lines["HOOD-GREY"]).id: (1, 1)})
    assert orders_of(rma) == []  # damaged: waits for inspection
    inspection.inspect(fresh(rma), store.agent,
                       {line(rma, store.lines["HOOD-GREY"]).id: ("accepted", "")})  # fmt: skip
    [order] = orders_of(rma)
    assert order.status == "ready"


def test_low_value_claims_keep_the_item_by_the_stores_setting(store, make):
    make.policy(claim_keep_item_below=3500)
    rma = ask(store, [("TEE-M", 1, "defective", None)], kind="claim")
    assert line(rma, store.lines["TEE-M"]).kept
    rma = ask(store, [("HOOD-GREY", 1, "defective", None)], kind="claim")
    assert not line(rma, store.lines["HOOD-GREY"]).kept


# --- bad input: a clear message, nothing written -------------------------------------------------


def snapshot():
    return (Return.select().count(), ReturnLine.select().count(), Replacement.select().count(),
            ExchangeOrder.select().count(),
            [(v.sku, catalogue.available([v.id])[v.id]) for v in Variant.select()])  # fmt: skip


def refused(store, picks, message, kind="return"):
    before = snapshot()
    with pytest.raises(DomainError, match=message):
        ask(store, picks, kind=kind)
    assert snapshot() == before


def test_an_exchange_to_another_product_when_the_store_says_no(store):
    refused(store, [("TEE-M", 1, "fit_small", "CAP-1")],
            "“Classic tee” can only be exchanged for another size or colour of it.")  # fmt: skip


def test_an_out_of_stock_variant(store):
    refused(store, [("TEE-M", 1, "fit_small", "TEE-XL")],
            "“XL” is out of stock: choose another option for “Classic tee”, or a refund.")  # fmt: skip


def test_more_than_is_in_stock_above_the_buffer(store, make):
    make.policy(exchange_stock_buffer=1)
    refused(store, [("TEE-M", 2, "fit_small", "TEE-L")],
            "Only 1 of “L” can be sent now: choose fewer of “Classic tee”, or another option.")  # fmt: skip


def test_an_inactive_variant_or_product(store):
    Variant.update(active=False).where(Variant.sku == "TEE-L").execute()
    refused(store, [("TEE-M", 1, "fit_small", "TEE-L")],
            "“L” is no longer sold: choose another option for “Classic tee”.")  # fmt: skip


def test_a_variant_id_that_is_not_in_this_catalogue(store):
    before = snapshot()
    with pytest.raises(DomainError, match="isn't in our catalogue"):
        requests.request_return(store.order, store.shopper, store.shopper.email,
                                [Selection(store.lines["TEE-M"].id, 1,
                                           store.reasons["fit_small"].id, "", (), 99999)])  # fmt: skip
    assert snapshot() == before


def test_the_same_variant_is_not_an_exchange(store):
    refused(store, [("TEE-M", 1, "fit_small", "TEE-M")],
            "Choose a different size or colour of “Classic tee”, or a refund.")  # fmt: skip


def test_exchanges_switched_off(store, make):
    make.policy(exchanges_enabled=False)
    refused(store, [("TEE-M", 1, "fit_small", "TEE-L")], "Exchanges are switched off")


def test_a_claim_on_an_undelivered_line(store, make):
    order = make.order(customer=store.shopper, lines=[TEE], delivered=False)
    before = snapshot()
    with pytest.raises(DomainError, match="Not delivered yet"):
        requests.request_return(order, store.shopper, store.shopper.email,
                                [Selection(order.lines.get().id, 1, store.reasons["missing"].id,
                                           "It never came", (), store.v["TEE-M"].id)],
                                kind="claim")  # fmt: skip
    assert snapshot() == before


def test_a_claim_without_the_photo_its_reason_requires(store):
    refused(store, [("HOOD-GREY", 1, "damaged", "HOOD-GREY")],
            "Add at least one photo of “Zip hoodie”: a photo is needed when the reason is "
            "“Arrived damaged”.", kind="claim")  # fmt: skip


def test_a_claim_for_a_shoppers_change_of_mind(store):
    refused(store, [("TEE-M", 1, "changed_mind", None)], "A claim is for a problem on our side",
            kind="claim")  # fmt: skip


def test_a_claims_replacement_is_the_same_item(store):
    refused(store, [("TEE-M", 1, "missing", "TEE-L")], "A claim's replacement is the same item",
            kind="claim")  # fmt: skip
    mug = store.lines["MUG"]
    assert mug.product_variant_id is None
    before = snapshot()
    with pytest.raises(DomainError, match="We can't send a replacement of “Mug”"):
        requests.request_return(store.order, store.shopper, store.shopper.email,
                                [Selection(mug.id, 1, store.reasons["missing"].id, "gone", (),
                                           store.v["CAP-1"].id)], kind="claim")  # fmt: skip
    assert snapshot() == before


def test_unknown_kinds_are_refused(store):
    with pytest.raises(DomainError, match="a return or a claim"):
        ask(store, [("TEE-M", 1, "fit_small", None)], kind="withdrawal")


def test_the_lines_of_the_order_keep_their_catalogue_variant(store):
    assert OrderLine.get_by_id(store.lines["TEE-M"].id).product_variant_id == store.v["TEE-M"].id
    assert OrderLine.get_by_id(store.lines["MUG"].id).product_variant_id is None
    assert {HOODIE["sku"], MUG["sku"]} <= set(store.lines)


def test_a_final_sale_item_can_be_claimed_but_not_returned(store, make):
    socks = make.order(customer=store.shopper,
                       lines=[{"sku": "SOCKS", "title": "Socks", "quantity": 1,
                               "unit_price": 900, "final_sale": True}])  # fmt: skip
    line = socks.lines.get()
    with pytest.raises(DomainError, match="Final sale"):
        requests.request_return(socks, store.shopper, store.shopper.email,
                                [Selection(line.id, 1, store.reasons["changed_mind"].id)])  # fmt: skip
    rma = requests.request_return(socks, store.shopper, store.shopper.email,
                                  [Selection(line.id, 1, store.reasons["defective"].id,
                                             "The seam split")], kind="claim")  # fmt: skip
    assert rma.kind == "claim" and rma.estimated_refund == 900 + 500  # shipping: store's fault

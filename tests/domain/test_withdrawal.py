"""The EU withdrawal function in the domain (portal.returns.withdrawal): the period, lines,
the law's refund, the acknowledgment, and refusals that write nothing."""

import datetime

import pytest

from portal.models import Order, OrderLine, OutboxMessage, Return, ReturnEvent, now
from portal.returns import shopper_words, withdrawal
from portal.returns.amounts import refund_for_return
from portal.returns.errors import Conflict, Ineligible, QuantityExceeded
from tests import factories


def shop(days_ago=10, delivered=True, shipping=500, **policy):
    factories.policy(**policy)
    shopper = factories.user("wanda@example.com", name="Wanda")
    order = factories.order(customer=shopper, lines=[factories.TEE, factories.CAP,
                                                     factories.SOCKS],
                            days_ago=days_ago, delivered=delivered, shipping=shipping)  # fmt: skip
    lines = {ln.sku: ln for ln in order.lines.order_by(OrderLine.id)}
    return shopper, order, lines


def everything(lines):
    return {ln.id: ln.quantity for ln in lines.values()}


def acknowledgments():
    return [m.payload for m in OutboxMessage.select().order_by(OutboxMessage.id)
            if m.payload.get("template") == "withdrawal_received"]  # fmt: skip


def test_a_full_withdrawal_refunds_goods_and_delivery_with_no_fee_and_acknowledges(ctx):
    # The store's own terms would take a 10% fee and close returns: the law's right stays.
    shopper, order, lines = shop(restocking_fee_bps=1000, window_days=0, returns_enabled=False,
                                 return_shipping_fee=700, timezone="Europe/Berlin")  # fmt: skip
    at = datetime.datetime(2026, 12, 1, 11, 40)
    rma = withdrawal.withdraw(order, shopper, shopper.email, everything(lines),
                              version=order.version, at=order.delivered_at + datetime.timedelta(days=3))  # fmt: skip
    rma = Return.get_by_id(rma.id)
    assert (rma.kind, rma.status, rma.resolution) == ("withdrawal", "requested", "refund")
    assert {ln.order_line.sku: ln.quantity for ln in rma.lines} == {"TEE-M": 3, "CAP": 1,
                                                                    "SOCKS": 1}  # fmt: skip
    goods = 3 * 2400 + 1500 + 900
    assert rma.estimated_refund == goods + 500  # full price and delivery, no fee, no return cost
    assert rma.withdrawal_shipping == 500 and rma.policy_restocking_fee_bps == 0
    assert Order.get_by_id(order.id).version == order.version + 1
    (event,) = ReturnEvent.select().where(ReturnEvent.rma == rma.id)
    assert event.kind == "requested" and event.payload["withdrawal"] is True
    (ack,) = acknowledgments()
    assert ack["to"] == "wanda@example.com"
    context = ack["context"]
    assert context["statement"] == withdrawal.STATEMENT
    assert [(x["title"], x["quantity"]) for x in context["lines"]] == [
        ("Classic tee", 3), ("Wool cap", 1), ("Wool socks", 1)]  # fmt: skip
    assert context["withdrawn_at"] == event.payload["withdrawn_at"]
    assert context["withdrawn_at"].endswith("(UTC+01:00)") and " CET " in context["withdrawn_at"]
    assert context["estimate"]["total"] == goods + 500 and not context["shopper_pays_return"]
    assert shopper_words.moment(at, "Europe/Berlin") == "1 December 2026, 12:40 CET (UTC+01:00)"
    assert shopper_words.moment(at) == "1 December 2026, 11:40 UTC"


def test_the_refund_staff_prepare_is_the_laws(ctx):
    shopper, order, lines = shop(restocking_fee_bps=1500, withdrawal_standard_delivery=300,
                                 withdrawal_shopper_pays_return=True,
                                 withdrawal_return_cost=450)  # fmt: skip
    rma = withdrawal.withdraw(order, shopper, None, everything(lines))
    made = list(rma.lines)
    staff_side = refund_for_return(rma, made, {ln.id: ln.quantity for ln in made},
                                   refund_shipping=False)  # fmt: skip
    goods = 3 * 2400 + 1500 + 900
    # delivery at most the standard cost, no fee, the shopper's return cost as the terms say
    assert (staff_side.items, staff_side.restocking, staff_side.shipping) == (goods, 0, 300)
    assert staff_side.return_shipping == 450
    assert staff_side.total == rma.estimated_refund == goods + 300 - 450
    (ack,) = acknowledgments()
    assert ack["context"]["shopper_pays_return"] and ack["context"]["return_cost"] == 450


def test_part_of_the_order_refunds_its_share_of_delivery(ctx):
    shopper, order, lines = shop()
    rma = withdrawal.withdraw(order, shopper, None, {lines["CAP"].id: 1})
    goods_total = 3 * 2400 + 1500 + 900
    assert rma.withdrawal_shipping == (2 * 500 * 1500 + goods_total) // (2 * goods_total)
    assert rma.estimated_refund == 1500 + rma.withdrawal_shipping
    # the rest can still be withdrawn, the cap no more
    rows = {r.line.sku: r for r in withdrawal.lines_for(order, factories.policy())}
    assert (rows["CAP"].withdrawable, rows["TEE-M"].withdrawable) == (0, 3)
    with pytest.raises(QuantityExceeded, match="Only 3 of “Classic tee” can still be withdrawn"):
        withdrawal.withdraw(order, shopper, None, {lines["TEE-M"].id: 4})


def test_before_delivery_withdrawal_is_allowed_and_says_what_happens(ctx):
    shopper, order, lines = shop(delivered=False)
    when = withdrawal.period(order, factories.policy())
    assert when.open and not when.delivered
    assert "has not been delivered yet" in when.message and "not started" in when.message
    rma = withdrawal.withdraw(order, shopper, None, {lines["TEE-M"].id: 1})
    assert rma.kind == "withdrawal"
    assert acknowledgments()[0]["context"]["before_delivery"] is True


def unchanged():
    return (Return.select().count(), OutboxMessage.select().count(),
            ReturnEvent.select().count(), sum(o.version for o in Order.select()))  # fmt: skip


def test_outside_the_period_is_refused_and_nothing_changes(ctx):
    shopper, order, lines = shop(days_ago=20)  # delivered 18 days ago; the store gives 30
    before = unchanged()
    with pytest.raises(Ineligible, match="withdrawal period for order .* ended on"):
        withdrawal.withdraw(order, shopper, None, everything(lines))
    assert unchanged() == before
    factories.policy(withdrawal_days=30)  # a store may give longer
    assert withdrawal.withdraw(order, shopper, None, everything(lines)).kind == "withdrawal"


def test_a_second_confirmation_is_refused_and_nothing_changes(ctx):
    shopper, order, lines = shop()
    withdrawal.withdraw(order, shopper, None, everything(lines), version=order.version)
    before = unchanged()
    with pytest.raises(Conflict, match="changed since you opened this page"):
        withdrawal.withdraw(order, shopper, None, everything(lines), version=order.version)
    with pytest.raises(Ineligible, match="“Classic tee”: Already returned, withdrawn"):
        withdrawal.withdraw(order, shopper, None, {lines["TEE-M"].id: 1})
    assert unchanged() == before


def test_excluded_goods_are_the_stores_settings(ctx):
    shopper, order, lines = shop(
        withdrawal_excluded_skus="socks\n", withdrawal_excluded_categories=""
    )
    rows = {r.line.sku: r for r in withdrawal.lines_for(order, factories.policy())}
    assert rows["SOCKS"].withdrawable == 0 and "Excluded from withdrawal" in rows["SOCKS"].why_not
    before = unchanged()
    with pytest.raises(Ineligible, match="Wool socks"):
        withdrawal.withdraw(order, shopper, None, everything(lines))
    assert unchanged() == before
    OrderLine.update(category="hygiene").where(OrderLine.id == lines["CAP"].id).execute()
    factories.policy(withdrawal_excluded_categories="Hygiene")
    rows = {r.line.sku: r for r in withdrawal.lines_for(order, factories.policy())}
    assert rows["CAP"].withdrawable == 0 and rows["TEE-M"].withdrawable == 3


@pytest.mark.postgres
def test_withdrawal_on_postgres(pg_app):
    with pg_app.app_context():
        shopper, order, lines = shop()
        rma = withdrawal.withdraw(order, shopper, None, everything(lines), at=now())
        assert Return.get_by_id(rma.id).kind == "withdrawal"


def test_a_bundles_parts_are_withdrawn_and_carry_its_price(ctx):
    bundle = {"sku": "GIFT", "title": "Gift set", "quantity": 1, "unit_price": 5000,
              "unit_tax": 1000, "components": [
                  {"sku": "MUG", "title": "Mug", "quantity": 2, "unit_price": 1000,
                   "unit_tax": 200},
                  {"sku": "CANDLE", "title": "Candle", "quantity": 1, "unit_price": 3000,
                   "unit_tax": 600}]}  # fmt: skip
    shopper = factories.user("bea@example.com")
    order = factories.order(customer=shopper, lines=[bundle, factories.CAP], shipping=1000)
    rows = {r.line.sku: r for r in withdrawal.lines_for(order, factories.policy())}
    assert rows["GIFT"].withdrawable == 0 and rows["GIFT"].why_not.startswith("A bundle")
    assert (rows["MUG"].withdrawable, rows["CANDLE"].withdrawable) == (2, 1)
    with pytest.raises(Ineligible, match="Gift set"):
        withdrawal.withdraw(order, shopper, None, {rows["GIFT"].line.id: 1})
    rma = withdrawal.withdraw(order, shopper, None, {rows["MUG"].line.id: 2,
                                                     rows["CANDLE"].line.id: 1})  # fmt: skip
    # the set is 6000 of 7500 goods (the bundle line itself counts no more): 4/5 of delivery
    assert rma.withdrawal_shipping == 800 and rma.estimated_refund == 6000 + 800


def test_a_cancelled_order_has_nothing_to_withdraw_from(ctx):
    shopper, order, lines = shop()
    Order.update(status="cancelled").where(Order.id == order.id).execute()
    order = Order.get_by_id(order.id)
    before = unchanged()
    with pytest.raises(Ineligible, match="was cancelled: there is no contract left"):
        withdrawal.withdraw(order, shopper, None, everything(lines))
    assert unchanged() == before

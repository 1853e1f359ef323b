"""Payment gateways: the built-in ledger (one book entry per idempotency key, refusals) and the
Stripe adapter against a local HTTP endpoint that checks what it receives."""

import threading

import pytest

from portal import payments
from portal.local_redis import free_port
from portal.models import LedgerTransaction
from portal.payments import PermanentGatewayError, TransientGatewayError
from portal.payments.ledger import LedgerGateway
from portal.payments.stripe_gateway import StripeGateway
from tests.fake_stripe import API_KEY
from tests.waiting import wait_until


def card_payment(make, amount=5000, gateway="ledger", method="card"):
    _, payment = make.paid_order(amount, gateway, method, reference="pi_test_123")
    return payment


# --- ledger ------------------------------------------------------------------------------------


def test_ledger_writes_one_entry_per_key_and_replays_the_reference(ctx, make):
    payment = card_payment(make)
    ledger = LedgerGateway()
    first = ledger.refund(payment, 1200, "USD", "key-1")
    again = ledger.refund(payment, 1200, "USD", "key-1")
    assert first == again and first.startswith("ldg_card_")
    rows = list(LedgerTransaction.select())
    assert [(r.idempotency_key, r.amount, r.payment_id) for r in rows] == [
        ("key-1", 1200, payment.id)
    ]


def test_ledger_refuses_a_key_reused_for_another_amount(ctx, make):
    payment = card_payment(make)
    LedgerGateway().refund(payment, 1200, "USD", "key-1")
    with pytest.raises(PermanentGatewayError, match="1200 cents, not 1300"):
        LedgerGateway().refund(payment, 1300, "USD", "key-1")
    assert LedgerTransaction.select().count() == 1


def test_ledger_refuses_more_than_was_captured(ctx, make):
    payment = card_payment(make, amount=5000)
    LedgerGateway().refund(payment, 3000, "USD", "a")
    with pytest.raises(PermanentGatewayError, match="2000 cents are left"):
        LedgerGateway().refund(payment, 2001, "USD", "b")
    assert LedgerGateway().refund(payment, 2000, "USD", "c")
    assert LedgerTransaction.select().count() == 2


def test_ledger_store_credit_and_gift_card(ctx, make):
    gift = card_payment(make, method="gift_card")
    assert LedgerGateway().refund(gift, 100, "USD", "g").startswith("ldg_gift_")
    ref = LedgerGateway().refund(None, 700, "USD", "s", order=gift.order_id,
                                 method="store_credit")  # fmt: skip
    row = LedgerTransaction.get(LedgerTransaction.idempotency_key == "s")
    assert ref.startswith("ldg_credit_") and row.payment_id is None
    assert (row.order_id, row.method, row.amount) == (gift.order_id, "store_credit", 700)


def test_ledger_two_threads_one_key_one_entry(ctx, make):
    payment = card_payment(make)
    app = ctx
    references, start = [], threading.Barrier(6)

    def call():
        with app.app_context():
            from portal.db import db

            with db.connection_context():
                start.wait()
                references.append(LedgerGateway().refund(payment, 999, "USD", "race"))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(references) == 6 and len(set(references)) == 1
    assert LedgerTransaction.select().count() == 1


# --- Stripe ------------------------------------------------------------------------------------


def stripe(fake, timeout=5):
    return StripeGateway(API_KEY, api_base=fake.url, timeout=timeout)


def test_stripe_sends_amount_payment_intent_and_idempotency_key(ctx, make, fake_stripe):
    payment = card_payment(make, gateway="stripe")
    reference = stripe(fake_stripe).refund(payment, 1234, "USD", "idem-1")
    assert reference == "re_fake_00001"
    [request] = fake_stripe.requests
    assert request["path"] == "/v1/refunds"
    assert request["key"] == "idem-1"
    assert request["fields"]["amount"] == "1234"
    assert request["fields"]["payment_intent"] == "pi_test_123"
    assert fake_stripe.executions == ["idem-1"]


def test_stripe_replays_a_known_key_without_moving_money_again(ctx, make, fake_stripe):
    payment = card_payment(make, gateway="stripe")
    first = stripe(fake_stripe).refund(payment, 500, "USD", "idem-2")
    second = stripe(fake_stripe).refund(payment, 500, "USD", "idem-2")
    assert first == second
    assert fake_stripe.executions == ["idem-2"]
    assert [r["outcome"] for r in fake_stripe.requests] == ["executed", "replayed"]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_stripe_server_errors_and_rate_limits_are_transient(ctx, make, fake_stripe, status):
    payment = card_payment(make, gateway="stripe")
    fake_stripe.fail_next, fake_stripe.fail_status = 1, status
    with pytest.raises(TransientGatewayError):
        stripe(fake_stripe).refund(payment, 500, "USD", "idem-3")
    assert fake_stripe.executions == []
    # then it answers: the same key goes through, once
    assert stripe(fake_stripe).refund(payment, 500, "USD", "idem-3")
    assert fake_stripe.executions == ["idem-3"]


@pytest.mark.parametrize("status", [402, 400])
def test_stripe_card_and_invalid_request_errors_are_permanent(ctx, make, fake_stripe, status):
    payment = card_payment(make, gateway="stripe")
    fake_stripe.always_fail, fake_stripe.fail_status = True, status
    with pytest.raises(PermanentGatewayError):
        stripe(fake_stripe).refund(payment, 500, "USD", "idem-4")


def test_stripe_key_reused_with_other_amount_is_permanent(ctx, make, fake_stripe):
    payment = card_payment(make, gateway="stripe")
    stripe(fake_stripe).refund(payment, 500, "USD", "idem-5")
    with pytest.raises(PermanentGatewayError):
        stripe(fake_stripe).refund(payment, 600, "USD", "idem-5")
    assert fake_stripe.executions == ["idem-5"]


def test_stripe_key_still_running_is_transient(ctx, make, fake_stripe):
    payment = card_payment(make, gateway="stripe")
    fake_stripe.delay = 1.0
    results = []
    first = threading.Thread(
        target=lambda: results.append(stripe(fake_stripe).refund(payment, 500, "USD", "idem-6"))
    )
    first.start()
    wait_until(lambda: fake_stripe.requests, 10, 0.01, "the first request at Stripe")
    with pytest.raises(TransientGatewayError, match="409|still busy"):
        stripe(fake_stripe).refund(payment, 500, "USD", "idem-6")
    first.join(10)
    assert results == ["re_fake_00001"] and fake_stripe.executions == ["idem-6"]


def test_stripe_unreachable_is_transient(ctx, make):
    payment = card_payment(make, gateway="stripe")
    gateway = StripeGateway(API_KEY, api_base=f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(TransientGatewayError, match="unreachable"):
        gateway.refund(payment, 500, "USD", "idem-7")


def test_stripe_refuses_store_credit_and_needs_a_key():
    with pytest.raises(PermanentGatewayError, match="STRIPE_API_KEY"):
        StripeGateway("")


# --- the registry ------------------------------------------------------------------------------


def test_registry_picks_the_gateway_per_payment(ctx, make, fake_stripe):
    config = {"PAYMENT_GATEWAY": "ledger", "STRIPE_API_KEY": API_KEY,
              "STRIPE_API_BASE": fake_stripe.url}  # fmt: skip
    stripe_payment = card_payment(make, gateway="stripe")
    ledger_payment = card_payment(make, gateway="ledger")
    assert isinstance(payments.gateway_for(stripe_payment, config), StripeGateway)
    assert isinstance(payments.gateway_for(ledger_payment, config), LedgerGateway)
    assert isinstance(payments.gateway_for(None, config), LedgerGateway)  # store credit
    ledger_payment.gateway = ""
    assert isinstance(payments.gateway_for(ledger_payment, {**config,
                      "PAYMENT_GATEWAY": "stripe"}), StripeGateway)  # fmt: skip
    ledger_payment.gateway = "paypal"
    with pytest.raises(PermanentGatewayError, match="paypal"):
        payments.gateway_for(ledger_payment, config)


def test_the_worker_reads_gateway_settings_from_the_app(ctx, make, fake_stripe):
    ctx.config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_stripe.url)
    ctx.config.pop("STRIPE_TIMEOUT", None)  # not set: the default timeout applies
    payment = card_payment(make, gateway="stripe")
    gateway = payments.gateway_for(payment, ctx.config)
    assert gateway.refund(payment, 100, "USD", "from-settings") == "re_fake_00001"

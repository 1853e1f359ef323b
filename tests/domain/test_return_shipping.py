"""Getting the parcel back (issue 14), called directly: return shipping methods and their
snapshot on a request, the estimate equal to the staff prefill with a method, labels made by the
outbox's `label` handler (the built-in carrier, and the HTTP adapter against a local fake label
API: retried, failed, retried by staff), tracking numbers and signed carrier updates, the return
invoice number, the documents of a 20-line return, scan to receive, and the exports."""

import datetime
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.carriers import PermanentCarrierError
from portal.carriers.builtin import BuiltinCarrier
from portal.db import db
from portal.documents import sheet_pdf
from portal.models import (
    AuditEntry,
    CarrierEvent,
    Invoice,
    OrderLine,
    OutboxMessage,
    Return,
    ReturnEvent,
    ReturnLabel,
    ReturnShippingMethod,
    now,
)
from portal.outbox import delivery
from portal.returns import (
    calendars,
    documents,
    exports,
    inspection,
    queue,
    receiving,
    refunding,
    review,
    scanning,
    shipping,
)
from portal.returns.amounts import refund_for_return
from portal.returns.errors import (
    DomainError,
    InvalidTransition,
    NotAllowed,
    NotFound,
)
from portal.returns.refund_execution import execute_refund
from portal.returns.requests import Selection, estimate, request_return
from tests import factories, pdfs
from tests.fake_carrier import API_KEY, FakeCarrier

TEE = {"sku": "TEE-M", "title": "Classic tee", "quantity": 3, "unit_price": 2000, "unit_tax": 400}
CAP = {"sku": "CAP", "title": "Wool cap", "quantity": 1, "unit_price": 1500}


@pytest.fixture
def shop(ctx):
    """Methods for US parcels (a prepaid label, a QR drop-off charged even for the store's fault,
    ship-it-yourself anywhere), one for Germany only, and a US order of a tee (3) and a cap."""
    factories.policy(restocking_fee_bps=1000, return_shipping_fee=700, expire_unshipped_days=14)
    store = factories.store()
    store.label = factories.method("Prepaid label", 495, "prepaid_label", "US CA", position=0)
    store.qr = factories.method("QR drop-off", 350, "qr_dropoff", "US",
                                free_for_merchant_fault=False, position=1)  # fmt: skip
    store.yourself = factories.method("Ship it yourself", 0, "ship_yourself", "", position=2)
    store.germany = factories.method("Paket", 600, "prepaid_label", "DE", position=3)
    store.order = factories.order(customer=store.shopper, lines=[TEE, CAP], country="US")
    store.tee, store.cap = store.order.lines.order_by(OrderLine.id)
    return store


def ask(store, method, lines=None, order=None):
    order = order or store.order
    lines = lines or [Selection(store.tee.id, 2, store.changed_mind.id)]
    return request_return(order, order.customer, order.email, lines,
                          shipping_method_id=method.id if method else None)  # fmt: skip


def config(ctx, **extra):
    return {**ctx.config, **extra}


def deliver_all(ctx, kind, **extra):
    """Deliver every pending message of `kind` now; their outcomes."""
    ids = [m.id for m in OutboxMessage.select().where((OutboxMessage.kind == kind)
                                                       & (OutboxMessage.status == "pending"))]  # fmt: skip
    OutboxMessage.update(available_at=now()).where(OutboxMessage.id.in_(ids)).execute()
    return [delivery.deliver(i, config(ctx, **extra)) for i in ids]


def emails(rma):
    return [m.payload["template"] for m in OutboxMessage.select().where(
        (OutboxMessage.rma == rma.id) & (OutboxMessage.kind == "email")).order_by(OutboxMessage.id)]  # fmt: skip


def kinds(rma):
    return [e.kind for e in ReturnEvent.select().where(ReturnEvent.rma == rma.id)
            .order_by(ReturnEvent.id)]  # fmt: skip


# --- the methods ----------------------------------------------------------------------------------


def test_managers_add_change_deactivate_and_delete_methods_with_audit_entries(shop):
    added = shipping.save_method(shop.manager, name=" Locker  drop ", price=250, kind="qr_dropoff",
                                 countries="us, ca;de")  # fmt: skip
    assert (added.name, added.countries) == ("Locker drop", "CA DE US")
    shipping.save_method(shop.manager, added.id, name="Locker drop", price=300, kind="qr_dropoff",
                         countries="US")  # fmt: skip
    shipping.set_method_active(shop.manager, added.id, False)
    shipping.delete_method(shop.manager, added.id)
    actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions == ["shipping_method.added", "shipping_method.changed",
                       "shipping_method.deactivated", "shipping_method.deleted"]  # fmt: skip
    changed = AuditEntry.get(AuditEntry.action == "shipping_method.changed")
    assert changed.before == {"price": 250, "countries": "CA DE US"}
    assert changed.after == {"price": 300, "countries": "US"}


@pytest.mark.parametrize(
    "values, message",
    [
        ({"countries": "USA"}, "two-letter ISO codes"),
        ({"countries": "u1"}, "two-letter ISO codes"),
        ({"price": -1}, "from 0.00"),
        ({"price": None}, "from 0.00"),
        ({"kind": "pigeon"}, "Choose a prepaid label"),
        ({"name": "  "}, "needs a name"),
    ],
)
def test_bad_method_values_are_refused_and_nothing_changes(shop, values, message):
    before = ReturnShippingMethod.select().count()
    fields = {"name": "Courier", "price": 100, "kind": "prepaid_label", **values}
    with pytest.raises(DomainError, match=message):
        shipping.save_method(shop.manager, **fields)
    assert ReturnShippingMethod.select().count() == before
    assert not AuditEntry.select().exists()


def test_only_managers_change_methods(shop):
    with pytest.raises(NotAllowed):
        shipping.save_method(shop.agent, name="X", price=0, kind="ship_yourself")
    with pytest.raises(NotAllowed):
        shipping.delete_method(shop.agent, shop.label.id)
    assert ReturnShippingMethod.get_by_id(shop.label.id).name == "Prepaid label"


def test_shoppers_see_the_active_methods_for_their_country(shop, ctx):
    assert [m.name for m in shipping.methods_for(shop.order)] == [
        "Prepaid label", "QR drop-off", "Ship it yourself"]  # fmt: skip
    german = factories.order(customer=shop.shopper, country="DE")
    assert [m.name for m in shipping.methods_for(german)] == ["Ship it yourself", "Paket"]
    nowhere = factories.order(customer=shop.shopper)  # an old order: no address
    assert [m.name for m in shipping.methods_for(nowhere)] == ["Ship it yourself"]
    shipping.set_method_active(shop.manager, shop.qr.id, False)
    assert "QR drop-off" not in [m.name for m in shipping.methods_for(shop.order)]


# --- choosing one on a request ----------------------------------------------------------------------


def test_a_request_snapshots_the_method_and_its_price(shop):
    rma = ask(shop, shop.label)
    assert (rma.shipping_method_id, rma.shipping_method_name, rma.shipping_method_kind) == (
        shop.label.id, "Prepaid label", "prepaid_label")  # fmt: skip
    assert rma.policy_return_shipping_fee == 495  # the method's, not the policy's 700
    assert rma.policy_return_shipping_free_merchant_fault is True
    # A later price change, or deleting the method, changes nothing on the open return.
    shipping.save_method(shop.manager, shop.label.id, name="Prepaid label", price=999,
                         kind="prepaid_label", countries="US")  # fmt: skip
    shipping.delete_method(shop.manager, shop.label.id)
    rma = Return.get_by_id(rma.id)
    assert (rma.shipping_method_id, rma.shipping_method_name) == (None, "Prepaid label")
    assert rma.policy_return_shipping_fee == 495


@pytest.mark.parametrize(
    "method_of, error, message",
    [
        (lambda s: s.germany.id, DomainError, "isn't available for parcels from US"),
        (lambda s: 987654, NotFound, "no longer offered"),
        (lambda s: "abc", DomainError, "from the list"),
        (lambda s: None, DomainError, "Choose how you'll send the parcel back"),
    ],
)
def test_a_method_that_cant_be_chosen_is_refused_and_nothing_is_written(shop, method_of, error,
                                                                        message):  # fmt: skip
    before = factories.counts()
    with pytest.raises(error, match=message):
        request_return(shop.order, shop.shopper, shop.shopper.email,
                       [Selection(shop.tee.id, 1, shop.changed_mind.id)],
                       shipping_method_id=method_of(shop))  # fmt: skip
    assert factories.counts() == before


def test_a_deleted_or_deactivated_method_posted_anyway_is_refused(shop):
    shipping.set_method_active(shop.manager, shop.qr.id, False)
    shipping.delete_method(shop.manager, shop.label.id)
    for gone in (shop.qr, shop.label):
        with pytest.raises(NotFound, match="no longer offered"):
            ask(shop, gone)
    assert not Return.select().exists()


def test_without_methods_for_the_country_the_policys_fee_applies(shop):
    german = factories.order(customer=shop.shopper, lines=[CAP], country="DE")
    shipping.delete_method(shop.manager, shop.germany.id)
    shipping.delete_method(shop.manager, shop.yourself.id)
    line = german.lines.get()
    rma = ask(shop, None, [Selection(line.id, 1, shop.changed_mind.id)], order=german)
    assert (rma.shipping_method_id, rma.policy_return_shipping_fee) == (None, 700)


def test_the_estimate_uses_the_methods_price_and_equals_the_staff_prefill(shop):
    lines = [Selection(shop.tee.id, 2, shop.changed_mind.id)]
    shown = estimate(shop.order, lines, shipping_method_id=shop.qr.id)
    assert (shown.items, shown.restocking, shown.return_shipping) == (4800, 480, 350)
    rma = ask(shop, shop.qr, lines)
    prefill = refund_for_return(rma, list(rma.lines), {ln.id: ln.quantity for ln in rma.lines})
    assert prefill == shown and rma.estimated_refund == shown.total == 4800 - 480 - 350


def test_a_method_free_for_the_stores_fault_is_free_when_a_line_is(shop):
    faulty = [Selection(shop.cap.id, 1, shop.defective.id)]
    assert estimate(shop.order, faulty, shipping_method_id=shop.label.id).return_shipping == 0
    # QR drop-off is charged for every reason.
    assert estimate(shop.order, faulty, shipping_method_id=shop.qr.id).return_shipping == 350


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    price=st.integers(0, 3000),
    free=st.booleans(),
    tees=st.integers(0, 3),
    cap=st.booleans(),
    tee_fault=st.booleans(),
    cap_fault=st.booleans(),
)
def test_property_the_estimate_equals_the_staff_prefill_for_any_method(shop, price, free, tees,
                                                                       cap, tee_fault, cap_fault):  # fmt: skip
    if not tees and not cap:
        cap = True
    method = factories.method("Courier", price, "prepaid_label", "US",
                              free_for_merchant_fault=free)  # fmt: skip
    order = factories.order(customer=shop.shopper, lines=[TEE, CAP], country="US")
    tee_line, cap_line = order.lines.order_by(OrderLine.id)
    reason = lambda fault: shop.defective if fault else shop.changed_mind  # noqa: E731
    lines = ([Selection(tee_line.id, tees, reason(tee_fault).id)] if tees else []) + (
        [Selection(cap_line.id, 1, reason(cap_fault).id)] if cap else [])  # fmt: skip
    shown = estimate(order, lines, shipping_method_id=method.id)
    faulty = (tees and tee_fault) or (cap and cap_fault)
    assert shown.return_shipping == (0 if faulty and free else min(price, shown.items
                                                                 - shown.restocking))  # fmt: skip
    rma = ask(shop, method, lines, order=order)
    review.approve(rma, shop.manager)
    receiving.receive(rma, shop.agent, {ln.id: (ln.quantity, 0) for ln in rma.lines})
    plan = refunding.plan_refund(Return.get_by_id(rma.id))
    assert plan.breakdown == shown


# --- labels ---------------------------------------------------------------------------------------


def test_approval_queues_the_label_and_the_worker_makes_it_with_the_approval_email(shop, ctx):
    rma = ask(shop, shop.label)
    review.approve(rma, shop.manager)
    assert emails(rma) == ["return_requested"]  # the approval email waits for the label
    [message] = OutboxMessage.select().where(OutboxMessage.kind == "label")
    assert (message.payload, message.dedupe_key) == ({"rma_id": rma.id}, f"return:{rma.id}:label")
    assert deliver_all(ctx, "label") == ["sent"]
    label = ReturnLabel.get(ReturnLabel.rma == rma.id)
    rma = Return.get_by_id(rma.id)
    assert (rma.carrier, rma.tracking_number) == ("Store post", label.tracking_number)
    assert pdfs.codes(label.pdf)["QRCode"] == [rma.reference]
    assert "label_created" in kinds(rma)
    approved = OutboxMessage.get(
        OutboxMessage.dedupe_key == f"return:{rma.id}:email:return_approved"
    )
    assert approved.payload["context"]["label"] is True
    # Asked again (a message delivered twice), the same label stands.
    assert shipping.create_label(rma.id, BuiltinCarrier()) == label
    assert ReturnLabel.select().count() == 1 and emails(rma).count("return_approved") == 1


def test_ship_it_yourself_needs_no_label_and_the_shopper_types_the_tracking_number(shop):
    rma = ask(shop, shop.yourself)
    review.approve(rma, shop.manager)
    assert emails(rma) == ["return_requested", "return_approved"]
    assert not OutboxMessage.select().where(OutboxMessage.kind == "label").exists()
    shipping.set_tracking(rma, shop.shopper, " UPS ", "1Z 999 AA1")
    rma = Return.get_by_id(rma.id)
    assert (rma.carrier, rma.tracking_number) == ("UPS", "1Z 999 AA1")
    assert kinds(rma)[-1] == "tracking_added"
    with pytest.raises(DomainError, match="tracking number: 4 to 40"):
        shipping.set_tracking(rma, shop.shopper, "UPS", "<script>")
    with pytest.raises(DomainError, match="Enter the carrier"):
        shipping.set_tracking(rma, shop.shopper, "", "1Z999")


def test_a_return_with_our_label_keeps_its_tracking_number(shop, ctx):
    rma = ask(shop, shop.label)
    with pytest.raises(InvalidTransition, match="once the return is approved"):
        shipping.set_tracking(rma, shop.shopper, "UPS", "1Z999AA1")
    review.approve(rma, shop.manager)
    deliver_all(ctx, "label")
    with pytest.raises(NotAllowed, match="prepaid label"):
        shipping.set_tracking(rma, shop.shopper, "UPS", "1Z999AA1")


@pytest.fixture
def fake_carrier():
    fake = FakeCarrier().start()
    yield fake
    fake.stop()


def http_carrier(fake):
    return {"CARRIER": "http", "CARRIER_API_BASE": fake.url, "CARRIER_API_KEY": API_KEY,
            "CARRIER_TIMEOUT": 5, "LABEL_SIZE": "4x6"}  # fmt: skip


def test_the_http_carrier_is_retried_after_a_transient_failure_and_buys_one_label(shop, ctx,
                                                                                  fake_carrier):  # fmt: skip
    rma = ask(shop, shop.label)
    review.approve(rma, shop.manager)
    fake_carrier.fail_next = 1  # 503
    assert deliver_all(ctx, "label", **http_carrier(fake_carrier)) == ["retry"]
    message = OutboxMessage.get(OutboxMessage.kind == "label")
    assert message.status == "pending" and "carrier busy (503)" in message.last_error
    assert not ReturnLabel.select().exists()
    assert deliver_all(ctx, "label", **http_carrier(fake_carrier)) == ["sent"]
    label = ReturnLabel.get(ReturnLabel.rma == rma.id)
    assert (label.carrier, label.tracking_number, label.size) == ("FakePost", "FP0000000001", "4x6")
    assert pdfs.page_size(label.pdf) == (288, 432) and "FP0000000001" in pdfs.text(label.pdf)
    [(_, _, key, _)] = [r for r in fake_carrier.requests if r[0] == "POST"][-1:]
    assert key == f"return-label:{rma.reference}"
    assert len(fake_carrier.shipments) == 1  # two requests, one shipment bought
    sent = fake_carrier.shipments[key]["request"]
    assert sent["from_address"]["country"] == "US" and sent["is_return"] is True


def test_a_refused_label_fails_visibly_the_shopper_is_told_and_a_retry_makes_it(shop, ctx,
                                                                               fake_carrier):  # fmt: skip
    rma = ask(shop, shop.label)
    review.approve(rma, shop.manager)
    fake_carrier.fail_next, fake_carrier.fail_status = 1, 400
    assert deliver_all(ctx, "label", **http_carrier(fake_carrier)) == ["failed"]
    message = OutboxMessage.get(OutboxMessage.kind == "label")
    assert message.status == "failed" and "carrier refused (400)" in message.last_error
    assert "label_failed" in kinds(rma)
    assert emails(rma) == ["return_requested", "return_approved"]  # without the label
    # A manager retries it from the operations page: the label comes, in an email of its own.
    assert delivery.retry(message.id, shop.manager) == 1
    assert deliver_all(ctx, "label", **http_carrier(fake_carrier)) == ["sent"]
    assert ReturnLabel.select().where(ReturnLabel.rma == rma.id).exists()
    assert emails(rma) == ["return_requested", "return_approved", "return_label"]


def test_no_label_is_made_for_a_return_cancelled_meanwhile(shop, ctx):
    rma = ask(shop, shop.label)
    review.approve(rma, shop.manager)
    review.cancel(rma, shop.manager, "The shopper phoned: keeping it.")
    assert deliver_all(ctx, "label") == ["sent"]
    assert not ReturnLabel.select().exists()


# --- carrier updates ------------------------------------------------------------------------------


def approved_with_label(shop, ctx, method=None):
    rma = ask(shop, method or shop.label)
    review.approve(rma, shop.manager)
    deliver_all(ctx, "label")
    return Return.get_by_id(rma.id)


def test_a_carrier_update_is_a_timeline_event_once_per_event_id(shop, ctx):
    rma = approved_with_label(shop, ctx)
    got = shipping.record_carrier_update("evt_1", rma.tracking_number, "in_transit",
                                         {"location": "Springfield hub", "kind": "x"})  # fmt: skip
    assert got.id == rma.id and Return.get_by_id(rma.id).status == "approved"  # not a status
    event = (
        ReturnEvent.select().where(ReturnEvent.rma == rma.id).order_by(ReturnEvent.id.desc()).get()
    )
    assert event.kind == "carrier_in_transit" and event.payload["location"] == "Springfield hub"
    assert "kind" not in event.payload  # only the fields we read are kept
    events = ReturnEvent.select().count()
    with pytest.raises(shipping.Duplicate, match="applied already"):
        shipping.record_carrier_update("evt_1", rma.tracking_number, "delivered")
    assert ReturnEvent.select().count() == events and CarrierEvent.select().count() == 1


@pytest.mark.parametrize(
    "number, status, error, message",
    [
        ("NOPE123", "in_transit", NotFound, "No return has tracking number NOPE123"),
        (None, "in_transit", DomainError, "no tracking number"),
        ("TRACK", "lost_in_space", DomainError, "Unknown status"),
    ],
)
def test_updates_that_match_nothing_change_nothing(shop, ctx, number, status, error, message):
    rma = approved_with_label(shop, ctx)
    number = rma.tracking_number if number == "TRACK" else number
    events = ReturnEvent.select().count()
    with pytest.raises(error, match=message):
        shipping.record_carrier_update("evt_9", number, status)
    assert ReturnEvent.select().count() == events and not CarrierEvent.select().exists()


# --- the return invoice and the documents -----------------------------------------------------------


def twenty_line_return(shop):
    lines = [{"sku": f"SKU-{i:02d}", "title": f"Item {i}", "quantity": 2, "unit_price": 1000 + i,
              "unit_tax": 200} for i in range(20)]  # fmt: skip
    order = factories.order(customer=shop.shopper, lines=lines, country="US", shipping=0)
    rma = ask(shop, shop.label, [Selection(ln.id, 2, shop.changed_mind.id)
                                 for ln in order.lines.order_by(OrderLine.id)], order=order)  # fmt: skip
    return rma


def test_the_first_refund_sent_issues_a_return_invoice_number_of_its_own(shop, ctx):
    rma = approved_with_label(shop, ctx)
    receiving.receive(rma, shop.agent, {ln.id: (ln.quantity, 0) for ln in rma.lines})
    [refund] = refunding.prepare_refund(Return.get_by_id(rma.id), shop.manager)
    assert execute_refund(refund.id, {"PAYMENT_GATEWAY": "ledger"}) == "succeeded"
    rma = Return.get_by_id(rma.id)
    assert rma.return_invoice_number == f"CN-{now().year}-00001"
    invoice = Invoice.get(Invoice.number == rma.return_invoice_number)
    assert invoice.kind == "return" and invoice.order_id == rma.order_id
    assert "return_invoice_issued" in kinds(rma)
    sale = {i.number for i in Invoice.select().where(Invoice.kind == "sale")}
    assert rma.return_invoice_number not in sale


def test_a_number_staff_entered_is_kept(shop, ctx):
    rma = approved_with_label(shop, ctx)
    receiving.receive(rma, shop.agent, {ln.id: (ln.quantity, 0) for ln in rma.lines})
    [refund] = refunding.prepare_refund(Return.get_by_id(rma.id), shop.manager,
                                        return_invoice_number="RET-77")  # fmt: skip
    execute_refund(refund.id, {"PAYMENT_GATEWAY": "ledger"})
    assert Return.get_by_id(rma.id).return_invoice_number == "RET-77"
    assert Invoice.select().where(Invoice.kind == "return").count() == 1


def test_the_documents_of_a_20_line_return_print_whole(shop, ctx):
    rma = twenty_line_return(shop)
    review.approve(rma, shop.manager)
    deliver_all(ctx, "label")
    rma = Return.get_by_id(rma.id)
    first = factories.line_of(rma)
    receiving.receive(rma, shop.agent, {ln.id: (2, 1 if ln.id == first.id else 0)
                                        for ln in rma.lines})  # fmt: skip
    rma = Return.get_by_id(rma.id)
    inspection.inspect(rma, shop.agent, {factories.line_of(rma).id: ("accepted", "")})
    [refund] = refunding.prepare_refund(Return.get_by_id(rma.id), shop.manager)
    execute_refund(refund.id, {"PAYMENT_GATEWAY": "ledger"})
    rma = Return.get_by_id(rma.id)

    label = ReturnLabel.get(ReturnLabel.rma == rma.id).pdf
    assert pdfs.pages(label) == 1 and rma.reference in pdfs.text(label)
    assert pdfs.codes(label)["QRCode"] == [rma.reference]

    slip = sheet_pdf(documents.packing_slip(rma))
    text = pdfs.all_text(slip)
    assert "Packing slip" in pdfs.text(slip) and rma.reference in pdfs.text(slip)
    assert all(f"SKU-{i:02d}" in text for i in range(20)) and "40" in text  # total units
    assert pdfs.codes(slip)["Code128"] == [rma.reference]

    report = sheet_pdf(documents.return_report(rma))
    text = pdfs.all_text(report)
    assert "Return report" in pdfs.text(report)
    assert all(f"SKU-{i:02d}" in text for i in range(20))
    for words in ("Refund breakdown", "Restocking fee", "Return shipping", "Timeline",
                  "Items received", "Return label ready", "Credit note issued"):  # fmt: skip
        assert words in text, words

    note = sheet_pdf(documents.credit_note(rma))
    text = pdfs.all_text(note)
    assert "Credit note" in pdfs.text(note) and rma.return_invoice_number in pdfs.text(note)
    assert f"INV-{rma.order.number}" in text  # the sale invoice it credits
    assert "$80.00" in text  # tax refunded: 40 units x 2.00
    assert all(f"SKU-{i:02d}" in text for i in range(20))


def test_there_is_no_credit_note_before_a_refund_is_sent(shop):
    with pytest.raises(NotFound, match="no credit note yet"):
        documents.credit_note(ask(shop, shop.label))


# --- scan to receive --------------------------------------------------------------------------------


def test_scans_count_units_into_received_and_wrong_codes_count_nothing(shop, ctx):
    rma = approved_with_label(shop, ctx, shop.yourself)
    session = scanning.session(scanning.find_return(rma.reference.lower()))
    assert (session.expected, session.units) == (2, 0)
    scanning.scan(session, "tee-m")  # a wedge scanner's case doesn't matter
    with pytest.raises(NotFound, match="“SOCKS” is not an item"):
        scanning.scan(session, "SOCKS")
    scanning.scan(session, "TEE-M")
    with pytest.raises(DomainError, match="All 2 unit\\(s\\) of TEE-M are scanned already"):
        scanning.scan(session, "TEE-M")
    assert session.complete and session.encoded == " ".join([str(session.lines[0].line.id)] * 2)
    # The page carries the scans; tampered ids are dropped.
    again = scanning.session(rma, session.encoded + " 99999 abc")
    assert again.units == 2
    scanning.record(again, shop.agent, rma.version)
    line = factories.line_of(rma)
    assert (line.received_quantity, line.inspection) == (2, "accepted")
    assert Return.get_by_id(rma.id).status == "received"


@pytest.mark.parametrize(
    "state, message",
    [("unknown", "No return has the reference"), ("requested", "not approved yet"),
     ("rejected", "is rejected: nothing more is expected")],
)  # fmt: skip
def test_scanning_a_reference_that_cant_be_received_says_why(shop, state, message):
    rma = ask(shop, shop.yourself)
    if state == "rejected":
        review.reject(rma, shop.manager, "Outside the policy.")
    with pytest.raises(DomainError, match=message):
        scanning.find_return("RMA-NOPE" if state == "unknown" else rma.reference)


def test_recording_a_stale_scan_session_is_refused(shop, ctx):
    rma = approved_with_label(shop, ctx, shop.yourself)
    session = scanning.session(rma)
    scanning.scan(session, "TEE-M")
    receiving.receive(rma, shop.agent, {factories.line_of(rma).id: (2, 0)})  # someone else
    with pytest.raises(DomainError):
        scanning.record(session, shop.agent, rma.version)
    assert factories.line_of(rma).received_quantity == 2


# --- exports ------------------------------------------------------------------------------------------


def test_the_queue_export_streams_the_filtered_tab_in_chunks(shop, ctx):
    made = []
    for _ in range(7):
        order = factories.order(customer=shop.shopper, lines=[CAP], country="US")
        made.append(
            ask(
                shop,
                shop.yourself,
                [Selection(order.lines.get().id, 1, shop.changed_mind.id)],
                order=order,
            )
        )
    for rma in made[:5]:
        review.approve(rma, shop.manager)
    filters = queue.Filters(status="approved", user_id=shop.manager.id)
    rows = list(exports.queue_rows(filters, size=2))
    assert rows[0] == exports.EXPORT_HEADER
    assert [r[0] for r in rows[1:]] == [rma.reference for rma in made[:5]]
    assert rows[1][3] == "approved" and rows[1][5:7] == (1, 0)
    everything = list(exports.queue_rows(queue.Filters(status="all"), size=3))
    assert len(everything) == 1 + 7


def test_the_calendar_lists_target_dates_and_leaves_out_completed_unless_asked(shop, ctx):
    open_one = ask(shop, shop.yourself, [Selection(shop.cap.id, 1, shop.changed_mind.id)])
    review.approve(open_one, shop.manager)
    done = ask(shop, shop.yourself)
    review.approve(done, shop.manager)
    Return.update(status="completed").where(Return.id == done.id).execute()
    due = Return.get_by_id(open_one.id).target_date
    text = "".join(exports.calendar_lines("https://shop.example/"))
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert f"DTSTART;VALUE=DATE:{due:%Y%m%d}" in text
    assert f"DTEND;VALUE=DATE:{due + datetime.timedelta(days=1):%Y%m%d}" in text
    assert open_one.reference in text and done.reference not in text
    assert "URL:https://shop.example/merchant/returns/" in text
    assert done.reference in "".join(exports.calendar_lines("https://x", include_completed=True))


def test_a_reset_calendar_token_stops_working_at_once(shop):
    first = calendars.reset_token(shop.agent)
    assert calendars.user_for(first).id == shop.agent.id
    second = calendars.reset_token(shop.agent)
    with pytest.raises(NotFound, match="reset or never existed"):
        calendars.user_for(first)
    assert calendars.user_for(second).id == shop.agent.id
    assert calendars.token_of(shop.agent).token_hash != second  # only its hash is stored
    with pytest.raises(NotAllowed):
        calendars.reset_token(shop.shopper)
    with db.atomic():
        shop.agent.active = False
        shop.agent.save()
    with pytest.raises(NotFound):
        calendars.user_for(second)


def test_labels_updates_and_return_invoices_on_both_databases(any_app):
    """The same path on SQLite and PostgreSQL: a label through the outbox, a carrier update and
    its replay (the unique event id, whichever arrives second), a return invoice number."""
    with any_app.app_context():
        store = factories.store()
        method = factories.method("Prepaid label", 495, "prepaid_label", "US")
        order = factories.order(customer=store.shopper, lines=[TEE], country="US")
        rma = request_return(order, store.shopper, store.shopper.email,
                             [Selection(order.lines.get().id, 3, store.changed_mind.id)],
                             shipping_method_id=method.id)  # fmt: skip
        review.approve(rma, store.manager)
        assert deliver_all(any_app, "label") == ["sent"]
        rma = Return.get_by_id(rma.id)
        shipping.record_carrier_update("evt_pg", rma.tracking_number, "delivered")
        with pytest.raises(shipping.Duplicate):
            shipping.record_carrier_update("evt_pg", rma.tracking_number, "delivered")
        receiving.receive(rma, store.agent, {ln.id: (ln.quantity, 0) for ln in rma.lines})
        [refund] = refunding.prepare_refund(Return.get_by_id(rma.id), store.manager)
        execute_refund(refund.id, {"PAYMENT_GATEWAY": "ledger"})
        rma = Return.get_by_id(rma.id)
        assert rma.return_invoice_number.startswith("CN-")
        assert kinds(rma).count("carrier_delivered") == 1
        assert refund.amount == 3 * 2400 - 495


def test_the_api_key_never_goes_to_a_label_host_other_than_the_apis(fake_carrier):
    """A label stored on another host (a signed storage URL) is fetched without the bearer key."""
    from portal.carriers.http_api import HttpLabelCarrier

    storage = FakeCarrier().start()
    try:
        carrier = HttpLabelCarrier(fake_carrier.url, API_KEY, timeout=5)
        for fake in (fake_carrier, storage):
            with pytest.raises(PermanentCarrierError, match="404"):
                carrier._call(urllib.request.Request(fake.url + "/labels/none.pdf"), "label")
        assert fake_carrier.authorizations == [f"Bearer {API_KEY}"]
        assert storage.authorizations == [None]
    finally:
        storage.stop()

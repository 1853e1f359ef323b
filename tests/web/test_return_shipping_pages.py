"""Getting the parcel back (issue 14) through the test client: the shipping settings page, the
method on the request form and its estimate, bad methods posted anyway, the label and QR code
(the owner's and staff's only), the tracking number form, the signed carrier endpoint, the
receiving page a scanner types into, the documents, the CSV export and the calendar feed."""

import base64
import json
import re
import time
from urllib.parse import urlsplit

import pytest

from portal.carriers.builtin import BuiltinCarrier
from portal.carriers.signing import sign
from portal.models import (
    AuditEntry,
    OrderLine,
    OutboxMessage,
    Return,
    ReturnEvent,
    ReturnLine,
    ReturnShippingMethod,
)
from portal.returns import receiving, refunding, review, shipping
from portal.returns.refund_execution import execute_refund
from portal.returns.requests import Selection, request_return
from tests import factories, pages
from tests.pages import login
from tests.querycount import count_queries

SECRET = "whsec_" + base64.b64encode(b"web-test-secret").decode()
TEE = {"sku": "TEE-M", "title": "Classic tee", "quantity": 3, "unit_price": 2000, "unit_tax": 400}


@pytest.fixture
def shop(app):
    """Staff, a US shopper with an order of 3 tees, the store's methods, and another shopper."""
    app.config["CARRIER_WEBHOOK_SECRET"] = SECRET
    with app.app_context():
        store = factories.store()
        store.label = factories.method("Prepaid label", 495, "prepaid_label", "US")
        store.qr = factories.method("QR drop-off", 350, "qr_dropoff", "US", position=1)
        store.yourself = factories.method("Ship it yourself", 0, "ship_yourself", "", position=2)
        store.germany = factories.method("Paket", 600, "prepaid_label", "DE", position=3)
        store.order = factories.order(customer=store.shopper, lines=[TEE], number="US-1",
                                      country="US")  # fmt: skip
        store.tee = store.order.lines.get()
        store.jo = factories.user("jo@example.com")
    return store


def make_return(app, shop, method, approve=True, label=True):
    with app.app_context():
        rma = request_return(shop.order, shop.shopper, shop.shopper.email,
                             [Selection(shop.tee.id, 2, shop.changed_mind.id)],
                             shipping_method_id=method.id)  # fmt: skip
        if approve:
            review.approve(rma, shop.manager)
            if label and shipping.needs_label(rma):
                shipping.create_label(rma.id, BuiltinCarrier())
        return Return.get_by_id(rma.id)


# --- settings -------------------------------------------------------------------------------------


def test_managers_manage_methods_on_the_settings_page(app, client, shop):
    login(client, shop.manager.email)
    page = client.get("/merchant/settings/shipping").get_data(as_text=True)
    assert "Prepaid label" in page and "Paket" in page
    response = client.post("/merchant/settings/shipping", data={
        "new-name": "Locker", "new-price": "2.50", "new-kind": "qr_dropoff",
        "new-countries": "us ca", "new-position": "5"})  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        locker = ReturnShippingMethod.get(ReturnShippingMethod.name == "Locker")
        assert (locker.price, locker.countries, locker.free_for_merchant_fault) == (
            250,
            "CA US",
            False,
        )
        assert AuditEntry.get(AuditEntry.action == "shipping_method.added").subject == (
            f"shipping_method:{locker.id}")  # fmt: skip
    response = client.post(f"/merchant/settings/shipping/{locker.id}/delete",
                           data={})  # fmt: skip
    assert response.status_code == 303
    client.post("/logout")
    login(client, shop.admin.email)  # admins read the audit log
    audit = client.get("/merchant/audit").get_data(as_text=True)
    assert "Return shipping method deleted" in audit and "shipping method Locker" in audit


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"new-countries": "USA"}, "two-letter ISO codes"),
        ({"new-price": "lots"}, "Enter an amount like 12.50"),
        ({"new-price": ""}, "Enter the price"),
        ({"new-kind": "pigeon"}, "Not a valid choice"),
    ],
)
def test_bad_method_fields_are_a_422_and_nothing_is_added(app, client, shop, fields, message):
    login(client, shop.manager.email)
    data = {"new-name": "Courier", "new-price": "1.00", "new-kind": "prepaid_label", **fields}
    response = client.post("/merchant/settings/shipping", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert ReturnShippingMethod.select().count() == 4


def test_agents_and_shoppers_cant_change_methods(app, client, shop):
    login(client, shop.agent.email)
    response = client.post(f"/merchant/settings/shipping/{shop.label.id}/delete")
    assert response.status_code == 403
    assert "Only managers can change the return shipping methods" in response.get_data(as_text=True)
    with app.app_context():
        assert ReturnShippingMethod.select().count() == 4


# --- the request form -------------------------------------------------------------------------------


def request_fields(client, shop, method_id, step="review"):
    html = client.get("/orders/US-1/return").get_data(as_text=True)
    data = pages.request_data(pages.line_indexes(html), {shop.tee.id: (2, shop.changed_mind.id, "")},
                              step=step)  # fmt: skip
    if method_id is not None:
        data["shipping_method"] = str(method_id)
    return html, data


def test_the_shopper_picks_a_method_and_the_estimate_takes_its_price(app, client, shop):
    login(client, shop.shopper.email)
    html, data = request_fields(client, shop, shop.label.id)
    for label in ("Prepaid label ($4.95)", "QR drop-off ($3.50)", "Ship it yourself (free)"):
        assert label in html
    assert "Paket" not in html  # Germany only
    review_page = client.post("/orders/US-1/return", data=data).get_data(as_text=True)
    assert "Return shipping (Prepaid label)" in review_page and "−$4.95" in review_page
    digest = pages.reviewed_digest(review_page)
    response = client.post("/orders/US-1/return", data={**data, "step": "confirm",
                                                        "reviewed": digest})  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        rma = Return.get()
        assert (rma.shipping_method_name, rma.policy_return_shipping_fee) == ("Prepaid label", 495)
        assert rma.estimated_refund == 2 * 2400 - 495


def test_changing_the_method_after_the_review_shows_the_new_estimate_first(app, client, shop):
    login(client, shop.shopper.email)
    _, data = request_fields(client, shop, shop.label.id)
    digest = pages.reviewed_digest(
        client.post("/orders/US-1/return", data=data).get_data(as_text=True)
    )
    response = client.post("/orders/US-1/return", data={**data, "step": "confirm", "reviewed": digest,
                                                        "shipping_method": str(shop.qr.id)})  # fmt: skip
    assert response.status_code == 422 and "choices changed" in response.get_data(as_text=True)
    with app.app_context():
        assert not Return.select().exists()


@pytest.mark.parametrize("which, message", [
    ("germany", "“Paket” isn&#39;t available for parcels from US"),
    ("deleted", "no longer offered"),
    (None, "Choose how you&#39;ll send the parcel back"),
])  # fmt: skip
def test_a_method_that_cant_be_chosen_is_a_422_beside_the_choice(app, client, shop, which,
                                                                  message):  # fmt: skip
    login(client, shop.shopper.email)
    if which == "deleted":
        with app.app_context():
            shipping.delete_method(shop.manager, shop.qr.id)
        method_id = shop.qr.id
    else:
        method_id = getattr(shop, which).id if which else None
    before = pages_counts(app)
    for step in ("review", "confirm"):
        _, data = request_fields(client, shop, method_id, step=step)
        response = client.post("/orders/US-1/return", data=data)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html and 'id="shipping_method-error"' in html
    assert pages_counts(app) == before


def pages_counts(app):
    with app.app_context():
        return factories.counts()


# --- the label, the QR code, tracking ------------------------------------------------------------------


def test_the_label_is_the_owners_and_staffs_only(app, client, shop):
    rma = make_return(app, shop, shop.label)
    url = f"/returns/{rma.reference}/label.pdf"
    login(client, shop.shopper.email)
    page = client.get(f"/returns/{rma.reference}").get_data(as_text=True)
    assert "Download the return label (PDF)" in page and "Print your return label" in page
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and "no-store" in response.headers["Cache-Control"]
    client.post("/logout")
    login(client, "jo@example.com")
    assert client.get(url).status_code == 404  # another shopper's return: it doesn't exist
    assert client.get(f"/returns/{rma.reference}/qr.svg").status_code == 404
    client.post("/logout")
    assert client.get(url).status_code == 302  # a visitor signs in first
    login(client, shop.agent.email)
    assert client.get(url).status_code == 200


def test_a_qr_drop_off_shows_the_qr_code_on_the_page(app, client, shop):
    rma = make_return(app, shop, shop.qr)
    login(client, shop.shopper.email)
    page = client.get(f"/returns/{rma.reference}").get_data(as_text=True)
    assert f'src="/returns/{rma.reference}/qr.svg"' in page and "drop-off point" in page
    svg = client.get(f"/returns/{rma.reference}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_a_shopper_who_ships_it_themselves_adds_the_tracking_number(app, client, shop):
    rma = make_return(app, shop, shop.yourself)
    login(client, shop.shopper.email)
    page = client.get(f"/returns/{rma.reference}").get_data(as_text=True)
    assert "Save tracking number" in page
    bad = client.post(f"/returns/{rma.reference}/tracking", data={"carrier": "UPS",
                                                                  "tracking_number": "!"})  # fmt: skip
    assert bad.status_code == 422 and "4 to 40 letters" in bad.get_data(as_text=True)
    response = client.post(f"/returns/{rma.reference}/tracking",
                           data={"carrier": "UPS", "tracking_number": "1Z999AA10123"})  # fmt: skip
    assert response.status_code == 303
    page = client.get(f"/returns/{rma.reference}").get_data(as_text=True)
    assert "UPS 1Z999AA10123" in page and "Tracking number added" in page
    client.post("/logout")
    login(client, "jo@example.com")
    assert client.post(f"/returns/{rma.reference}/tracking",
                       data={"carrier": "X", "tracking_number": "12345"}).status_code == 404  # fmt: skip


# --- the carrier endpoint ----------------------------------------------------------------------------


def post_update(client, body, event_id="evt_1", secret=SECRET, timestamp=None, signed=True):
    raw = json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {"webhook-id": event_id, "webhook-timestamp": str(timestamp)}
    if signed:
        headers["webhook-signature"] = sign(secret, event_id, timestamp, raw)
    return client.post("/webhooks/carrier", data=raw, headers=headers,
                       content_type="application/json")  # fmt: skip


def events(app, rma):
    with app.app_context():
        return [e.kind for e in ReturnEvent.select().where(ReturnEvent.rma == rma.id)]


def test_a_signed_carrier_update_shows_on_the_tracking_and_staff_pages(app, client, shop):
    rma = make_return(app, shop, shop.label)
    response = post_update(client, {"tracking_number": rma.tracking_number, "status": "in_transit"})
    assert response.status_code == 200 and response.json["reference"] == rma.reference
    login(client, shop.shopper.email)
    page = client.get(f"/returns/{rma.reference}").get_data(as_text=True)
    assert re.search(r'id="parcel-status">Parcel in transit to us<', page)
    client.post("/logout")
    login(client, shop.agent.email)
    staff_page = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert 'id="staff-parcel-status">Parcel in transit to us<' in staff_page


@pytest.mark.parametrize("case, status, message", [
    ("unsigned", 401, "not signed"),
    ("wrong secret", 401, "does not match"),
    ("too old", 401, "too old"),
    ("replayed", 409, "applied already"),
    ("unknown tracking", 404, "No return has tracking number"),
    ("unknown status", 422, "Unknown status"),
    ("not json", 400, "not a JSON object"),
])  # fmt: skip
def test_bad_carrier_updates_are_refused_and_change_nothing(app, client, shop, case, status,
                                                             message):  # fmt: skip
    rma = make_return(app, shop, shop.label)
    body = {"tracking_number": rma.tracking_number, "status": "delivered"}
    if case == "replayed":
        assert post_update(client, body, event_id="evt_once").status_code == 200
    before = events(app, rma)
    if case == "not json":
        stamp = int(time.time())
        raw = b"not json"
        response = client.post("/webhooks/carrier", data=raw, headers={
            "webhook-id": "evt_x", "webhook-timestamp": str(stamp),
            "webhook-signature": sign(SECRET, "evt_x", stamp, raw)})  # fmt: skip
    else:
        response = post_update(
            client,
            {**body, "tracking_number": "NOPE-1"} if case == "unknown tracking"
            else {**body, "status": "lost"} if case == "unknown status" else body,
            event_id="evt_once" if case == "replayed" else "evt_2",
            secret="whsec_" + base64.b64encode(b"guess").decode() if case == "wrong secret" else SECRET,
            timestamp=int(time.time()) - 3600 if case == "too old" else None,
            signed=case != "unsigned",
        )  # fmt: skip
    assert response.status_code == status
    assert message in response.json["message"]
    assert events(app, rma) == before


def test_the_carrier_endpoint_needs_no_csrf_token_but_a_signature(csrf_app, shop):
    # (the shop fixture built its data on `app`; this one has CSRF protection on)
    csrf_app.config["CARRIER_WEBHOOK_SECRET"] = SECRET
    client = csrf_app.test_client()
    response = post_update(client, {"tracking_number": "X", "status": "in_transit"})
    assert response.status_code == 404  # past CSRF and the signature: no such return there


# --- receiving by scanning -----------------------------------------------------------------------------


def scan(client, rma, code, scans="", action="scan", htmx=False):
    return client.post(f"/merchant/receive/{rma.reference}",
                       data={"code": code, "scans": scans, "version": str(rma.version),
                             "action": action},
                       headers={"HX-Request": "true"} if htmx else {})  # fmt: skip


def scans_of(html):
    return re.search(r'name="scans" value="([^"]*)"', html).group(1)


def test_scanning_the_reference_then_each_unit_receives_the_parcel(app, client, shop):
    rma = make_return(app, shop, shop.label)
    login(client, shop.agent.email)
    page = client.get("/merchant/receive").get_data(as_text=True)
    assert 'id="scan-reference"' in page and "autofocus" in page
    opened = client.get("/merchant/receive", query_string={"code": rma.reference})
    html = opened.get_data(as_text=True)
    assert opened.status_code == 200 and "0 of 2 unit(s) scanned" in html
    html = scan(client, rma, "TEE-M").get_data(as_text=True)
    assert "1 of 2 unit(s) scanned" in html and "TEE-M counted" in html
    wrong = scan(client, rma, "SOCKS", scans_of(html), htmx=True)
    assert wrong.status_code == 422
    wrong_html = wrong.get_data(as_text=True)
    assert "“SOCKS” is not an item" in wrong_html and "1 of 2 unit(s) scanned" in wrong_html
    html = scan(client, rma, "TEE-M", scans_of(html)).get_data(as_text=True)
    assert "everything expected is here" in html
    extra = scan(client, rma, "TEE-M", scans_of(html))
    assert extra.status_code == 422 and "this one is extra" in extra.get_data(as_text=True)
    # Scanning the reference again records the receipt.
    done = scan(client, rma, rma.reference, scans_of(html))
    assert done.status_code == 303
    with app.app_context():
        line = ReturnLine.get(ReturnLine.rma == rma.id)
        assert line.received_quantity == 2 and Return.get_by_id(rma.id).status == "received"
    assert "2 unit(s) received" in client.get("/merchant/receive").get_data(as_text=True)


@pytest.mark.parametrize("code, status, message", [
    ("RMA-NOPE-1", 404, "No return has the reference “RMA-NOPE-1”"),
    ("", 422, "Scan or type a return"),
])  # fmt: skip
def test_an_unknown_reference_is_said_clearly(app, client, shop, code, status, message):
    login(client, shop.agent.email)
    response = client.get("/merchant/receive", query_string={"code": code})
    assert response.status_code == status and message in response.get_data(as_text=True)


def test_a_requested_return_cant_be_scanned_in(app, client, shop):
    rma = make_return(app, shop, shop.label, approve=False)
    login(client, shop.agent.email)
    response = client.get("/merchant/receive", query_string={"code": rma.reference})
    assert response.status_code == 422 and "not approved yet" in response.get_data(as_text=True)
    assert scan(client, rma, "TEE-M").status_code == 422


def test_shoppers_cant_use_the_receiving_page(app, client, shop):
    rma = make_return(app, shop, shop.label)
    login(client, shop.shopper.email)
    assert client.get("/merchant/receive").status_code == 403
    assert scan(client, rma, rma.reference, str(0)).status_code == 403


def test_the_scan_page_runs_as_many_queries_for_8_lines_as_for_1(app, client, shop):
    with app.app_context():
        big = factories.order(customer=shop.shopper, country="US", number="BIG",
                              lines=[{"sku": f"S{i}", "quantity": 1} for i in range(8)])  # fmt: skip
        small = request_return(shop.order, shop.shopper, shop.shopper.email,
                               [Selection(shop.tee.id, 1, shop.changed_mind.id)],
                               shipping_method_id=shop.yourself.id)  # fmt: skip
        large = request_return(big, shop.shopper, shop.shopper.email,
                               [Selection(ln.id, 1, shop.changed_mind.id)
                                for ln in big.lines.order_by(OrderLine.id)],
                               shipping_method_id=shop.yourself.id)  # fmt: skip
        for rma in (small, large):
            review.approve(rma, shop.manager)
    login(client, shop.agent.email)

    def queries(rma):
        with app.app_context(), count_queries() as counter:
            assert (
                client.get("/merchant/receive", query_string={"code": rma.reference}).status_code
                == 200
            )
        return counter.count

    queries(small)  # warm up
    # The signed-in user, the return by its reference, its lines (one join): none per line.
    assert queries(small) == queries(large) == 3


# --- documents, exports, the calendar -------------------------------------------------------------------


def test_staff_print_the_packing_slip_and_report_and_shoppers_get_the_credit_note(
    app, client, shop
):
    rma = make_return(app, shop, shop.label)
    with app.app_context():
        receiving.receive(rma, shop.agent, {ReturnLine.get(ReturnLine.rma == rma.id).id: (2, 0)})
        [refund] = refunding.prepare_refund(Return.get_by_id(rma.id), shop.manager)
        execute_refund(refund.id, {"PAYMENT_GATEWAY": "ledger"})
        number = Return.get_by_id(rma.id).return_invoice_number
    login(client, shop.agent.email)
    detail = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    for link in ("packing-slip.pdf", "report.pdf", "label.pdf", "credit-note.pdf"):
        assert f"/{rma.reference}/{link}" in detail
    for url in (f"/merchant/returns/{rma.reference}/packing-slip.pdf",
                f"/merchant/returns/{rma.reference}/report.pdf",
                f"/returns/{rma.reference}/credit-note.pdf"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200 and response.data.startswith(b"%PDF"), url
    client.post("/logout")
    login(client, shop.shopper.email)
    assert client.get(f"/merchant/returns/{rma.reference}/report.pdf").status_code == 403
    page = client.get(f"/returns/{rma.reference}").get_data(as_text=True)
    assert f"Download the credit note {number} (PDF)" in page
    assert client.get(f"/returns/{rma.reference}/credit-note.pdf").status_code == 200
    client.post("/logout")
    login(client, "jo@example.com")
    assert client.get(f"/returns/{rma.reference}/credit-note.pdf").status_code == 404


def test_the_csv_export_streams_the_queue_with_its_filters(app, client, shop):
    approved = make_return(app, shop, shop.yourself)
    with app.app_context():
        other = factories.order(customer=shop.shopper, lines=[TEE], country="US", number="US-2")
        requested = request_return(other, shop.shopper, shop.shopper.email,
                                   [Selection(other.lines.get().id, 1, shop.changed_mind.id)],
                                   shipping_method_id=shop.yourself.id)  # fmt: skip
    login(client, shop.agent.email)
    queue_page = client.get("/merchant/returns?status=approved").get_data(as_text=True)
    assert 'href="/merchant/returns/export.csv?status=approved"' in queue_page
    response = client.get("/merchant/returns/export.csv?status=approved")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    rows = response.get_data(as_text=True).splitlines()
    assert rows[0].startswith("reference,order,email,status")
    assert [r.split(",")[0] for r in rows[1:]] == [approved.reference]
    everything = client.get("/merchant/returns/export.csv?status=all&q=US-2").get_data(as_text=True)
    assert requested.reference in everything and approved.reference not in everything
    client.post("/logout")
    login(client, shop.shopper.email)
    assert client.get("/merchant/returns/export.csv").status_code == 403


def test_the_calendar_feed_lives_at_a_secret_url_that_can_be_reset(app, client, shop):
    rma = make_return(app, shop, shop.yourself)
    login(client, shop.agent.email)
    made = client.post("/merchant/calendar").get_data(as_text=True)
    url = re.search(r'id="calendar-url" readonly value="([^"]+)"', made).group(1)
    assert url.startswith(app.config["PUBLIC_URL"] + "/merchant/calendar/")
    path = urlsplit(url).path
    client.post("/logout")  # a calendar app has no session: the secret is the key
    feed = client.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert rma.reference in feed.get_data(as_text=True)
    assert f"URL:{app.config['PUBLIC_URL']}/merchant/returns/{rma.reference}" in feed.get_data(
        as_text=True
    )
    login(client, shop.agent.email)
    page = client.get("/merchant/calendar").get_data(as_text=True)
    assert "Reset my calendar address" in page and path not in page  # shown once only
    client.post("/merchant/calendar")
    client.post("/logout")
    gone = client.get(path)
    assert gone.status_code == 404 and "reset or never existed" in gone.get_data(as_text=True)
    assert client.get("/merchant/calendar/made-up-token.ics").status_code == 404


# --- staff-created returns ---------------------------------------------------------------------------


def test_staff_create_a_return_with_the_stores_default_method_or_another(app, client, shop):
    login(client, shop.manager.email)
    page = client.get("/merchant/orders/US-1").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="shipping_method".*?</select>', page, re.S).group(0)
    assert re.search(rf'<option selected value="{shop.label.id}">Prepaid label \(\$4\.95\)', select)
    assert "Paket" not in select
    indexes = pages.line_indexes(page)
    data = {"resolution": "refund", "note": "", "override_reason": "",
            "shipping_method": str(shop.germany.id)}  # fmt: skip
    for line_id, index in indexes.items():
        data.update({f"lines-{index}-order_line_id": str(line_id), f"lines-{index}-quantity": "1",
                     f"lines-{index}-reason": str(shop.changed_mind.id), f"lines-{index}-note": ""})  # fmt: skip
    refused = client.post("/merchant/orders/US-1/returns", data=data)
    assert refused.status_code == 422
    assert "isn&#39;t available for parcels from US" in refused.get_data(as_text=True)
    with app.app_context():
        assert not Return.select().exists()
    made = client.post("/merchant/orders/US-1/returns",
                       data={**data, "shipping_method": str(shop.qr.id)})  # fmt: skip
    assert made.status_code == 303
    with app.app_context():
        rma = Return.get()
        assert (rma.shipping_method_name, rma.policy_return_shipping_fee) == ("QR drop-off", 350)
        assert rma.status == "approved"  # staff-created returns start approved (the store's rule)
        assert shipping.needs_label(rma)


def test_a_failed_label_shows_on_the_operations_page_and_a_manager_retries_it(app, client, shop):
    rma = make_return(app, shop, shop.label, label=False)
    with app.app_context():
        message = OutboxMessage.get(OutboxMessage.kind == "label")
        OutboxMessage.update(status="failed", attempts=8,
                             last_error="creating the shipment: carrier refused (422): bad address",
                             ).where(OutboxMessage.id == message.id).execute()  # fmt: skip
    login(client, shop.agent.email)
    page = client.get("/merchant/operations").get_data(as_text=True)
    row = re.search(rf'<tr id="message-{message.id}">.*?</tr>', page, re.S).group(0)
    assert "the return label, from the carrier" in row and rma.reference in row
    assert "carrier refused (422): bad address" in row
    client.post("/logout")
    login(client, shop.manager.email)
    response = client.post(f"/merchant/operations/messages/{message.id}/retry")
    assert response.status_code == 302
    with app.app_context():
        assert OutboxMessage.get_by_id(message.id).status == "pending"


def test_the_documents_speak_the_readers_language(app, client, shop):
    """Issue 16: the packing slip and the credit note in German for a German reader: words,
    money and dates; English stays the default."""
    from tests.pdfs import all_text

    rma = make_return(app, shop, shop.label)
    with app.app_context():
        receiving.receive(rma, shop.agent, {ReturnLine.get(ReturnLine.rma == rma.id).id: (2, 0)})
        [refund] = refunding.prepare_refund(Return.get_by_id(rma.id), shop.manager)
        execute_refund(refund.id, {"PAYMENT_GATEWAY": "ledger"})
    login(client, shop.agent.email)
    german = {"Accept-Language": "de"}
    client.post("/language", data={"lang": "de"})
    slip = all_text(client.get(f"/merchant/returns/{rma.reference}/packing-slip.pdf").data)
    assert "Packzettel" in slip and "In diesem Paket" in slip and "Stück gesamt" in slip
    note = all_text(client.get(f"/returns/{rma.reference}/credit-note.pdf", headers=german).data)
    assert "Gutschrift" in note and "Insgesamt erstattet" in note
    assert re.search(r"\d+,\d\d", note)  # a decimal comma
    client.post("/language", data={"lang": "en"})
    english = all_text(client.get(f"/merchant/returns/{rma.reference}/packing-slip.pdf").data)
    assert "Packing slip" in english and "Packzettel" not in english

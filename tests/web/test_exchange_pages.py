"""Exchanges and claims through the pages: the shopper's choice of another size or colour with
its stock and price, the amount due shown before submitting, bad input refused beside its input
with nothing written; the claim form; the tracking page with the shipment; the return's page
with "ship exchange" among its next actions; the fulfilment list; the claims tab."""

import re

import pytest

from portal.models import (
    ExchangeOrder,
    Payment,
    Replacement,
    Return,
    ReturnPolicy,
    StockLevel,
    Variant,
)
from portal.returns import receiving, review
from portal.returns.requests import Selection, request_return
from tests import factories, pages
from tests.pages import login as sign_in
from tests.querycount import count_queries

NUMBER = "R-2001"


def login(client, email):
    client.post("/logout")
    return sign_in(client, email)


@pytest.fixture
def store(app):
    with app.app_context():
        return factories.catalogue_store()


def ids(store):
    return {sku: ln.id for sku, ln in store.lines.items()}


def form(client, kind="return"):
    html = client.get(f"/orders/{NUMBER}/{kind}").get_data(as_text=True)
    return pages.line_indexes(html), html


def snapshot(app):
    with app.app_context():
        return (factories.counts(), Replacement.select().count(),
                sorted((v.sku, v.active) for v in Variant.select()))  # fmt: skip


def post(client, picks, step="review", kind="return", files=None, digest=None):
    indexes, _ = form(client, kind)
    data = pages.request_data(indexes, picks, step=step)
    if digest:
        data["reviewed"] = digest
    if files:
        data.update(files)
        return client.post(f"/orders/{NUMBER}/{kind}", data=data,
                           content_type="multipart/form-data")  # fmt: skip
    return client.post(f"/orders/{NUMBER}/{kind}", data=data)


def submit(client, picks, kind="return"):
    """Review, then submit what was reviewed (the no-JavaScript flow)."""
    reviewed = post(client, picks, kind=kind)
    assert reviewed.status_code == 200, pages.errors(reviewed.get_data(as_text=True))
    digest = pages.reviewed_digest(reviewed.get_data(as_text=True))
    return post(client, picks, step="confirm", kind=kind, digest=digest, files={})


# --- the shopper's request ----------------------------------------------------------------------


def test_the_form_offers_the_other_sizes_with_stock_and_price(app, client, store):
    login(client, "sam@example.com")
    indexes, html = form(client)
    tee = indexes[store.lines["TEE-M"].id]
    select = re.search(rf'<select name="lines-{tee}-replacement".*?</select>', html, re.S).group(0)
    assert f'<label for="lines-{tee}-replacement">Refund or exchange' in html
    assert '<option value="">A refund</option>' in select
    assert f'value="{store.v["TEE-L"].id}">Exchange for L · $30.00 · 2 in stock' in select
    assert re.search(rf'value="{store.v["TEE-XL"].id}" disabled>Exchange for XL · \$30\.00 · out '
                     r"of stock", select)  # fmt: skip
    assert "CAP-1" not in select and f'value="{store.v["CAP-1"].id}"' not in select
    mug = indexes[store.lines["MUG"].id]
    assert f'name="lines-{mug}-replacement"' not in html  # not in the catalogue: a refund only


def test_a_dearer_exchange_shows_what_is_due_before_submitting(app, client, store, make):
    with app.app_context():
        make.policy(exchange_bonus=300)
    login(client, "sam@example.com")
    r = store.reasons
    picks = {store.lines["TEE-M"].id: (1, r["fit_small"].id, "", store.v["TEE-L"].id),
             store.lines["HOOD-GREY"].id: (1, r["changed_mind"].id, "", store.v["HOOD-FOREST"].id)}  # fmt: skip
    response = post(client, picks)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Exchange for L · nothing to pay" in page
    assert "Exchange for Forest · $9.00 to pay" in page  # 1200 more, 300 bonus credit
    assert re.search(r'id="amount-due">\$9\.00<', page)
    assert "Exchange bonus credit used</dt><dd>−$3.00" in page
    assert re.search(r"Estimated refund</dt><dd>\$0\.00", page)
    digest = pages.reviewed_digest(page)
    done = post(client, picks, step="confirm", digest=digest, files={})
    assert done.status_code == 303
    with app.app_context():
        rma = Return.get()
        assert rma.resolution == "exchange"
        dues = sorted((rep.variant.sku, rep.due) for rep in Replacement.select())
        assert dues == [("HOOD-FOREST", 900), ("TEE-L", 0)]
    tracking = client.get(done.headers["Location"]).get_data(as_text=True)
    assert (
        "Exchange for Classic tee — L" in tracking
        and "Exchange for Zip hoodie — Forest" in tracking
    )
    assert "To pay before it ships: $9.00" in tracking


def test_changing_the_exchange_after_the_review_asks_to_review_again(app, client, store):
    login(client, "sam@example.com")
    r = store.reasons
    picks = {store.lines["TEE-M"].id: (1, r["fit_small"].id, "", store.v["TEE-L"].id)}
    digest = pages.reviewed_digest(post(client, picks).get_data(as_text=True))
    picks = {store.lines["TEE-M"].id: (1, r["fit_small"].id, "", "")}
    before = snapshot(app)
    response = post(client, picks, step="confirm", digest=digest, files={})
    assert response.status_code == 422 and "Your choices changed" in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("swap", "message"),
    [
        ("CAP-1", "“Classic tee” can only be exchanged for another size or colour of it."),
        ("TEE-XL", "“XL” is out of stock: choose another option for “Classic tee”, or a refund."),
        ("inactive", "“L” is no longer sold: choose another option for “Classic tee”."),
        ("99999", "That replacement for “Classic tee” isn't in our catalogue"),
        ("nonsense", "Choose what you'd like instead of “Classic tee” from the list."),
    ],
)
def test_bad_exchanges_are_refused_beside_their_input(app, client, store, swap, message):
    if swap == "inactive":
        with app.app_context():
            Variant.update(active=False).where(Variant.sku == "TEE-L").execute()
        swap = "TEE-L"
    value = store.v[swap].id if swap in store.v else swap
    login(client, "sam@example.com")
    before = snapshot(app)
    picks = {store.lines["TEE-M"].id: (1, store.reasons["fit_small"].id, "", value)}
    index = form(client)[0][store.lines["TEE-M"].id]
    shown = re.escape(message.replace("'", "&#39;"))
    for step in ("review", "confirm"):
        response = post(client, picks, step=step, digest="x", files={})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert re.search(rf'<p class="error" id="lines-{index}-replacement-error">[^<]*{shown}',
                         html), pages.errors(html)  # fmt: skip
    assert snapshot(app) == before


# --- claims ---------------------------------------------------------------------------------------


def test_the_claim_form_offers_the_stores_reasons_and_a_replacement(app, client, store):
    login(client, "sam@example.com")
    order_page = client.get(f"/orders/{NUMBER}").get_data(as_text=True)
    assert f'href="/orders/{NUMBER}/claim"' in order_page
    indexes, html = form(client, "claim")
    assert "Report a problem with order #R-2001" in html
    assert "Missing from the parcel" in html and "I changed my mind" not in html
    tee = indexes[store.lines["TEE-M"].id]
    assert re.search(rf'name="lines-{tee}-replacement".*?A replacement: the same item \(5 in '
                     r"stock\)", html, re.S)  # fmt: skip
    response = submit(client, {store.lines["TEE-M"].id: (1, store.reasons["missing"].id,
                                                         "Not in the box", store.v["TEE-M"].id)},
                      kind="claim")  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        rma = Return.get()
        assert (rma.kind, rma.lines.get().kept) == ("claim", True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Claim (a problem on our side)" in page and "Claim opened" in page
    assert "There is nothing to send back." in page
    assert "Claim" in client.get("/returns").get_data(as_text=True)


def test_a_claim_without_the_photo_its_reason_requires_is_refused(app, client, store):
    login(client, "sam@example.com")
    before = snapshot(app)
    picks = {store.lines["HOOD-GREY"].id: (1, store.reasons["damaged"].id, "",
                                           store.v["HOOD-GREY"].id)}  # fmt: skip
    response = submit(client, picks, kind="claim")
    assert response.status_code == 422
    assert ("Add at least one photo of “Zip hoodie”: a photo is needed when the reason is "
            "“Arrived damaged”.") in pages.errors(response.get_data(as_text=True))  # fmt: skip
    assert snapshot(app) == before


def test_a_claim_on_an_undelivered_order_is_refused(app, client, store, make):
    with app.app_context():
        later = make.order(customer=store.shopper, lines=[factories.CAT_TEE], delivered=False,
                           number="R-2002")  # fmt: skip
        line = later.lines.get()
    login(client, "sam@example.com")
    response = client.get("/orders/R-2002/claim")
    assert response.status_code == 302  # nothing can be claimed yet: back to the order
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing on this order can be claimed right now" in page
    assert "Not delivered yet" in page
    before = snapshot(app)
    data = {"step": "review", "resolution": "refund", "lines-0-order_line_id": line.id,
            "lines-0-quantity": 1, "lines-0-reason": store.reasons["missing"].id}  # fmt: skip
    response = client.post("/orders/R-2002/claim", data=data)
    assert response.status_code == 422
    assert any("Not delivered yet" in m for m in pages.errors(response.get_data(as_text=True)))
    assert snapshot(app) == before


def test_another_shoppers_order_is_a_404_for_claims(app, client, store, make):
    with app.app_context():
        make.user("jo@example.com")
    login(client, "jo@example.com")
    assert client.get(f"/orders/{NUMBER}/claim").status_code == 404
    assert client.post(f"/orders/{NUMBER}/claim/review", data={}).status_code == 404


# --- staff: next actions, shipping, the fulfilment list -------------------------------------------


def exchange_received(app, store, swap="TEE-L", sku="TEE-M", reason="fit_small"):
    with app.app_context():
        rma = request_return(store.order, store.shopper, store.shopper.email,
                             [Selection(store.lines[sku].id, 1, store.reasons[reason].id, "", (),
                                        store.v[swap].id)])  # fmt: skip
        review.approve(rma, store.manager)
        line = rma.lines.get()
        receiving.receive(Return.get_by_id(rma.id), store.agent, {line.id: (1, 0)})
        return rma.reference, ExchangeOrder.get(ExchangeOrder.rma == rma.id).id


def test_ship_exchange_is_a_next_action_and_ships_from_the_returns_page(app, client, store):
    reference, order_id = exchange_received(app, store)
    login(client, store.agent.email)
    html = client.get(f"/merchant/returns/{reference}").get_data(as_text=True)
    actions = re.search(r'data-actions="([^"]*)"', html).group(1).split()
    assert "ship_exchange" in actions and "finish" not in actions
    assert f"Mark {reference}-X1 shipped" in html
    fields = {"carrier": "DHL", "tracking_number": "JD014600", "location": store.main.id}
    response = pages.act(client, reference, f"exchanges/{order_id}/ship", fields, htmx=True,
                         prefix=f"ship{order_id}")  # fmt: skip
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Exchange order {reference}-X1 shipped" in html
    actions = re.search(r'data-actions="([^"]*)"', html).group(1).split()
    assert "ship_exchange" not in actions and "finish" in actions
    login(client, "sam@example.com")
    page = client.get(f"/returns/{reference}").get_data(as_text=True)
    assert re.search(r'id="return-status">Exchange shipped<', page)
    assert "JD014600" in page and "Exchange shipped with DHL, tracking number JD014600" in page


def test_shipping_refusals_show_on_the_page_and_change_nothing(app, client, store):
    reference, order_id = exchange_received(app, store)
    login(client, store.agent.email)
    response = pages.act(client, reference, f"exchanges/{order_id}/ship",
                         {"carrier": "DHL", "tracking_number": "", "location": store.main.id},
                         prefix=f"ship{order_id}")  # fmt: skip
    assert response.status_code == 422
    assert "Enter the tracking number." in response.get_data(as_text=True)
    with app.app_context():
        assert ExchangeOrder.get_by_id(order_id).status == "ready"


def test_recording_a_payment_is_for_managers(app, client, store):
    reference, order_id = exchange_received(app, store, swap="HOOD-FOREST", sku="HOOD-GREY",
                                            reason="changed_mind")  # fmt: skip
    login(client, store.agent.email)
    html = client.get(f"/merchant/returns/{reference}").get_data(as_text=True)
    assert "record_payment" in re.search(r'data-actions="([^"]*)"', html).group(1)
    assert "A manager records payments." in html
    fields = {"method": "card", "reference": "ch_9"}
    response = pages.act(client, reference, f"exchanges/{order_id}/payment", fields,
                         prefix=f"pay{order_id}")  # fmt: skip
    assert response.status_code == 403
    login(client, store.manager.email)
    response = pages.act(client, reference, f"exchanges/{order_id}/payment", fields,
                         prefix=f"pay{order_id}")  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        assert ExchangeOrder.get_by_id(order_id).status == "ready"
        assert Payment.get(Payment.reference == "ch_9").amount == 1200


def test_the_fulfilment_list_ships_and_runs_the_same_queries_for_1_and_6_rows(app, client, store,
                                                                              make):  # fmt: skip
    reference, order_id = exchange_received(app, store)
    login(client, store.agent.email)

    def queries():
        client.get("/merchant/fulfilment")
        with app.app_context(), count_queries() as counter:
            response = client.get("/merchant/fulfilment")
        assert response.status_code == 200
        return counter.count, response.get_data(as_text=True)

    few, html = queries()
    assert f"{reference}-X1" in html and "Main: 2" in html  # TEE-L's stock where it ships from
    with app.app_context():
        StockLevel.update(quantity=10).where(StockLevel.sku == "TEE-L").execute()
        for _ in range(5):
            other = make.order(customer=store.shopper, lines=[factories.CAT_TEE])
            line = other.lines.get()
            rma = request_return(other, store.shopper, store.shopper.email,
                                 [Selection(line.id, 1, store.reasons["fit_small"].id, "", (),
                                            store.v["TEE-L"].id)])  # fmt: skip
            review.approve(rma, store.manager)
            receiving.receive(Return.get_by_id(rma.id), store.agent, {rma.lines.get().id: (1, 0)})
    many, html = queries()
    assert html.count("Mark RMA-") == 6
    assert many == few, (few, many)
    response = client.post(f"/merchant/fulfilment/{order_id}/ship",
                           data={f"ship{order_id}-carrier": "UPS",
                                 f"ship{order_id}-tracking_number": "1Z999",
                                 f"ship{order_id}-location": store.main.id})  # fmt: skip
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "shipped with UPS (1Z999)" in html
    html = client.get("/merchant/fulfilment?status=shipped").get_data(as_text=True)
    assert "1Z999" in html and f"Mark {reference}-X1 delivered" in html


def test_the_queue_has_a_claims_tab(app, client, store):
    with app.app_context():
        request_return(store.order, store.shopper, store.shopper.email,
                       [Selection(store.lines["TEE-M"].id, 1, store.reasons["missing"].id, "gone",
                                  (), store.v["TEE-M"].id)], kind="claim")  # fmt: skip
        request_return(store.order, store.shopper, store.shopper.email,
                       [Selection(store.lines["MUG"].id, 1, store.reasons["changed_mind"].id)])  # fmt: skip
    login(client, store.agent.email)
    html = client.get("/merchant/returns").get_data(as_text=True)
    assert "Claims (1)" in html
    claims = client.get("/merchant/returns?status=claims").get_data(as_text=True)
    assert len(re.findall(r'class="order-number" href="/merchant/returns/', claims)) == 1
    assert '<span class="badge kind-claim">Claim</span>' in claims


def test_managers_set_the_exchange_settings(app, client, store):
    login(client, store.manager.email)
    page = client.get("/merchant/settings/policy").get_data(as_text=True)
    data = {name: value for name, value in re.findall(
        r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}  # fmt: skip
    data.update({"window_days": "30", "restocking_fee_percent": "0", "auto_approve": "never",
                 "reference_pattern": "RMA-{year}-{seq:05d}", "expire_unshipped_days": "30",
                 "timezone": "UTC", "return_address": "1 Road", "returns_enabled": "y",
                 "exchanges_enabled": "y", "exchange_any_product": "y", "exchange_bonus": "5.00",
                 "exchange_absorb_up_to": "2.50", "exchange_stock_buffer": "1",
                 "exchange_ship_early": "y", "claim_keep_item_below": "10.00"})  # fmt: skip
    response = client.post("/merchant/settings/policy", data=data)
    assert response.status_code == 303, pages.errors(response.get_data(as_text=True))
    with app.app_context():
        policy = ReturnPolicy.current()
        assert (policy.exchange_any_product, policy.exchange_bonus, policy.exchange_absorb_up_to,
                policy.exchange_stock_buffer, policy.exchange_ship_early,
                policy.claim_keep_item_below) == (True, 500, 250, 1, True, 1000)  # fmt: skip
    data["exchange_stock_buffer"] = "-1"
    assert client.post("/merchant/settings/policy", data=data).status_code == 422


# --- staff open a claim from the staff order view --------------------------------------------------


def staff_post(client, picks, claim=True):
    html = client.get(f"/merchant/orders/{NUMBER}").get_data(as_text=True)
    data = pages.request_data(pages.line_indexes(html), picks)
    data.pop("step"), data.pop("shopper_note")
    data.update({"note": "Phoned", **({"claim": "y"} if claim else {})})
    return html, client.post(f"/merchant/orders/{NUMBER}/returns", data=data)


def test_a_manager_opens_a_claim_with_a_replacement_from_the_order_view(app, client, store):
    login(client, store.manager.email)
    picks = {store.lines["TEE-M"].id: (1, store.reasons["missing"].id, "Not in the box",
                                       store.v["TEE-M"].id)}  # fmt: skip
    html, response = staff_post(client, picks)
    assert "Claim: a replacement, the same item (5 in stock)" in html
    assert f'value="{store.v["TEE-L"].id}">Exchange for L · $30.00 · 2 in stock' in html
    assert response.status_code == 303, pages.errors(response.get_data(as_text=True))
    with app.app_context():
        rma = Return.get()
        assert (rma.kind, rma.status) == ("claim", "received")  # approved, kept: nothing comes back
        assert ExchangeOrder.get(ExchangeOrder.rma == rma.id).status == "ready"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Claim {rma.reference}" in page and "ship_exchange" in page


def test_a_staff_claim_needs_a_reason_of_the_stores_fault(app, client, store):
    login(client, store.manager.email)
    before = snapshot(app)
    picks = {store.lines["TEE-M"].id: (1, store.reasons["changed_mind"].id, "", "")}
    _, response = staff_post(client, picks)
    assert response.status_code == 422
    assert any("A claim is for a problem on our side" in m
               for m in pages.errors(response.get_data(as_text=True)))  # fmt: skip
    assert snapshot(app) == before

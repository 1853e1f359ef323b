"""The merchant side's pages (issue 11): the defects users hit (a 10% fee shown as 1%, a tampered
choice giving a 500, no location to restock into, a rejection the shopper never read, the staff
email's button), extra lines on a return, and the queue's new columns and bulk actions."""

import csv
import datetime
import html as htmllib
import importlib.util
import io
import re
from pathlib import Path

import pytest

from portal import mail
from portal.models import OrderLine, OutboxMessage, Return, ReturnExtraLine, ReturnPolicy
from portal.returns import facts, inspection, receiving, refunding, requests, review
from tests import factories
from tests.apps import close_db
from tests.pages import act, login
from tests.querycount import count_queries

ROOT = Path(__file__).resolve().parents[2]


def text_of(html):
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def text(response):
    return text_of(response.get_data(as_text=True))


def received(app, store, units=3):
    with app.app_context():
        rma = factories.create_return(store.order, reason=store.changed_mind)
        review.approve(rma, store.manager)
        receiving.receive(rma, store.agent, {factories.line_of(rma).id: (units, 0)})
        reference = rma.reference
    close_db()
    return reference


# --- defect 1: a 10% restocking fee silently became 1% ----------------------------------------


def test_a_ten_percent_fee_shows_as_ten_and_survives_saving_other_fields(app, client, store):
    with app.app_context():
        factories.policy(restocking_fee_bps=1000)
    close_db()
    login(client, store.manager.email)
    page = client.get("/merchant/settings/policy").get_data(as_text=True)
    assert re.search(r'name="restocking_fee_percent"[^>]*value="10"', page), "prefilled 10"
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*type="text"[^>]*value="([^"]*)"',
                             page))  # fmt: skip
    assert fields["restocking_fee_percent"] == "10"
    fields.update(window_days="40", return_address="Returns\n1 Dock", auto_approve="never",
                  returns_enabled="y", inventory_tracking="y", expire_unshipped_days="30")  # fmt: skip
    response = client.post("/merchant/settings/policy", data=fields)
    assert response.status_code == 303, text(response)
    with app.app_context():
        policy = ReturnPolicy.current()
        assert (policy.window_days, policy.restocking_fee_bps) == (40, 1000)
    reference = received(app, store)
    assert "restocking 10%" in text(client.get(f"/merchant/returns/{reference}"))


def test_the_expiry_can_be_switched_off_with_zero(app, client, store):
    login(client, store.manager.email)
    page = client.get("/merchant/settings/policy").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*type="text"[^>]*value="([^"]*)"',
                             page))  # fmt: skip
    fields.update(expire_unshipped_days="0", return_address="Returns", auto_approve="never",
                  window_days="30")  # fmt: skip
    assert client.post("/merchant/settings/policy", data=fields).status_code == 303
    with app.app_context():
        assert ReturnPolicy.current().expire_unshipped_days == 0


# --- defect 2: a choice posted outside its options was a 500 -------------------------------------


def test_a_tampered_resolution_on_the_shoppers_form_is_a_422_with_a_message(app, client):
    with app.app_context():
        reasons = factories.reasons()
        factories.shop()
        line = OrderLine.select().where(OrderLine.sku == "TEE-M").get()
    close_db()
    login(client, "sam@example.com")
    page = client.get("/orders/R-1001/return").get_data(as_text=True)
    index = re.search(rf'name="lines-(\d+)-order_line_id" type="hidden" value="{line.id}"', page)
    data = {"step": "review", "resolution": "exchange", f"lines-{index.group(1)}-order_line_id":
            line.id, f"lines-{index.group(1)}-quantity": 1,
            f"lines-{index.group(1)}-reason": reasons["changed_mind"].id}  # fmt: skip
    response = client.post("/orders/R-1001/return", data=data)
    assert response.status_code == 422
    assert "Choose a refund to your original payment or store credit." in text(response)


@pytest.mark.parametrize(
    ("action", "fields"),
    [("inspect", {"lines-0-decision": "destroyed"}),
     ("refund", {"refund_shipping": "maybe"}),
     ("refund", {"destination": "bitcoin"}),
     ("extra-lines", {"description": "Fee", "kind": "bribe", "amount": "5.00"})],
)  # fmt: skip
def test_every_merchant_choice_posted_outside_its_options_is_a_422(app, client, store, action,
                                                                   fields):  # fmt: skip
    reference = received(app, store)
    with app.app_context():
        line_id = facts.lines_of(Return.get(Return.reference == reference).id)[0].id
        prefix = {"extra-lines": "extra"}.get(action, action)
        fields = {"lines-0-line_id": line_id, **fields} if action == "inspect" else fields
        before = (OutboxMessage.select().count(), ReturnExtraLine.select().count())
    login(client, store.manager.email)
    response = act(client, reference, action, fields, prefix=prefix)
    assert response.status_code == 422
    assert "Not a valid choice" in text(response)
    with app.app_context():
        assert (OutboxMessage.select().count(), ReturnExtraLine.select().count()) == before


def test_a_tampered_policy_choice_and_role_are_422(app, client, store):
    login(client, store.admin.email)
    response = client.post("/merchant/staff", data={"email": "n@example.com", "name": "N",
                                                     "role": "owner", "password": "x" * 12})  # fmt: skip
    assert response.status_code == 422 and "Not a valid choice" in text(response)
    response = client.post("/merchant/settings/policy", data={"auto_approve": "sometimes"})
    assert response.status_code == 422


# --- defect 3: a fresh install could not restock, and nothing said why ---------------------------


def test_with_no_location_the_detail_page_says_so_and_where_to_add_one(app, client, store):
    reference = received(app, store)
    with app.app_context():
        for location in (store.main, store.quarantine):
            location.active = False
            location.save()
    close_db()
    login(client, store.manager.email)
    page = client.get(f"/merchant/returns/{reference}").get_data(as_text=True)
    assert 'id="no-locations"' in page and 'href="/merchant/settings/locations"' in page
    agent = app.test_client()
    login(agent, store.agent.email)
    assert "Ask a manager to add one" in text(agent.get(f"/merchant/returns/{reference}"))


# --- defect 4: a rejection at inspection was never told to the shopper ---------------------------


def test_the_shopper_reads_why_an_item_was_not_accepted(app, client, store):
    reference = received(app, store)
    with app.app_context():
        rma = Return.get(Return.reference == reference)
        inspection.inspect(rma, store.agent, {factories.line_of(rma).id: ("rejected",
                                                                          "Worn and washed")})  # fmt: skip
        [message] = OutboxMessage.select().where(OutboxMessage.dedupe_key.contains("items_rej"))
        subject, body, html = mail.render(message.payload["template"], rma=rma,
                                          **message.payload["context"])  # fmt: skip
    close_db()
    assert "could not be accepted" in subject and "Worn and washed" in body and "Worn" in html
    login(client, store.shopper.email)
    page = text(client.get(f"/returns/{reference}"))
    assert "Not accepted after inspection: Worn and washed" in page


# --- defect 5: links in emails ------------------------------------------------------------------


def test_make_run_points_email_links_at_the_port_it_serves_on():
    spec = importlib.util.spec_from_file_location("run_script", ROOT / "scripts" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    env, port = run.child_env({"PORT": "5077"})
    assert port == 5077 and env["PUBLIC_URL"] == "http://127.0.0.1:5077"
    env, _ = run.child_env({"PORT": "5077", "PUBLIC_URL": "https://returns.shop.example"})
    assert env["PUBLIC_URL"] == "https://returns.shop.example"
    assert run.child_env({})[0]["PUBLIC_URL"] == "http://127.0.0.1:5000"


def test_the_staff_emails_main_button_opens_the_staff_page(app, store):
    with app.app_context():
        rma = factories.create_return(store.order, reason=store.changed_mind)
        app.config["PUBLIC_URL"] = "http://returns.example"
        _, body, html = mail.render("staff_new_return", rma=rma)
        _, _, failed = mail.render("staff_refund_failed", rma=rma, refund_id=1, amount=100,
                                   currency="USD", method="card", error="x", attempts=3)  # fmt: skip
    staff_url = f"http://returns.example/merchant/returns/{rma.reference}"
    assert f'href="{staff_url}"' in html and f'href="{staff_url}"' in failed
    assert "Follow your return" not in html and f'/returns/{rma.reference}"' not in html.replace(
        staff_url, ""
    )


# --- defect 9: the window's last day, in the store's time zone ------------------------------------


def test_the_order_page_says_the_last_day_and_the_time_zone(app, client):
    with app.app_context():
        factories.policy(timezone="Europe/Berlin", window_days=30)
        _, order, _ = factories.shop()
        delivered = order.delivered_at
    close_db()
    login(client, "sam@example.com")
    page = text(client.get("/orders/R-1001"))
    day = delivered.date() + datetime.timedelta(days=30)
    assert f"Returnable until {day.day:02d} {day:%b %Y} (the last day, Europe/Berlin time)" in page


# --- extra lines ----------------------------------------------------------------------------------


def test_a_manager_adds_a_repair_fee_and_the_shopper_sees_it_with_the_refund(app, client, store):
    reference = received(app, store)
    login(client, store.manager.email)
    response = act(client, reference, "extra-lines",
                   {"description": "Repair fee", "kind": "charge", "amount": "5.00"},
                   prefix="extra")  # fmt: skip
    assert response.status_code == 303
    page = text(client.get(f"/merchant/returns/{reference}"))
    assert "Repair fee −$5.00 charge" in page and "With the next refund" in page
    assert "Repair fee (extra line) −$5.00" in page  # a row of the refund's breakdown
    with app.app_context():
        rma = Return.get(Return.reference == reference)
        [refund] = refunding.prepare_refund(rma, store.manager)
        assert refund.amount == 3000 - 500
    close_db()
    shopper = app.test_client()
    login(shopper, store.shopper.email)
    page = text(shopper.get(f"/returns/{reference}"))
    assert "Repair fee −$5.00" in page and "Total $25.00" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"description": "", "kind": "charge", "amount": "5.00"}, "Describe the extra line"),
     ({"description": "Fee", "kind": "charge", "amount": "five"}, "is not an amount"),
     ({"description": "Fee", "kind": "charge", "amount": ""}, "Enter the amount"),
     ({"description": "Fee", "kind": "credit", "amount": "0"}, "more than zero")],
)  # fmt: skip
def test_bad_extra_lines_are_refused_and_change_nothing(app, client, store, fields, message):
    reference = received(app, store)
    login(client, store.manager.email)
    response = act(client, reference, "extra-lines", fields, prefix="extra")
    assert response.status_code == 422 and message in text(response)
    with app.app_context():
        assert ReturnExtraLine.select().count() == 0


def test_an_agent_cannot_add_or_remove_extra_lines(app, client, store):
    reference = received(app, store)
    login(client, store.agent.email)
    response = act(client, reference, "extra-lines",
                   {"description": "Fee", "kind": "charge", "amount": "1.00"}, prefix="extra")  # fmt: skip
    assert response.status_code == 403
    assert client.post(f"/merchant/returns/{reference}/extra-lines/1/remove").status_code == 403


def test_the_detail_page_shows_the_shoppers_earlier_returns_and_links_the_order(app, client,
                                                                                store):  # fmt: skip
    first = received(app, store, units=1)
    with app.app_context():
        second = factories.create_return(factories.order(customer=store.shopper),
                                         reason=store.changed_mind).reference  # fmt: skip
    login(client, store.agent.email)
    page = client.get(f"/merchant/returns/{second}").get_data(as_text=True)
    assert f'href="/merchant/orders/{store.order.number}"' not in page  # its own order instead
    assert "1 earlier return, $0.00 refunded" in text(client.get(f"/merchant/returns/{second}"))
    page = client.get(f"/merchant/returns/{first}").get_data(as_text=True)
    assert f'href="/merchant/orders/{store.order.number}"' in page


# --- the queue: refund and age columns, bulk actions ------------------------------------------------


def test_the_queue_shows_the_estimate_then_the_refund_and_the_age(app, client, store):
    with app.app_context():
        line = store.order.lines.get()
        rma = requests.request_return(store.order, store.shopper, store.order.email,
                                                [(line.id, 2, store.changed_mind.id)])  # fmt: skip
        reference = rma.reference
    close_db()
    login(client, store.agent.email)

    def row():
        html = client.get("/merchant/returns").get_data(as_text=True)
        return text_of(re.search(rf">{reference}</a>.*?</tr>", html, re.S).group(0))

    assert "$20.00 est." in row() and "0 d" in row()
    with app.app_context():
        rma = factories.fresh(rma)
        review.approve(rma, store.manager)
        receiving.receive(rma, store.agent, {factories.line_of(rma).id: (1, 0)})
        refunding.prepare_refund(factories.fresh(rma), store.manager)
    close_db()
    assert "$10.00" in row() and "est." not in row()


def test_bulk_approve_assign_and_export(app, client, store):
    with app.app_context():
        made = [factories.create_return(factories.order(customer=store.shopper),
                                        reason=store.changed_mind) for _ in range(3)]  # fmt: skip
        rejected = factories.create_return(factories.order(customer=store.shopper),
                                           reason=store.changed_mind, status="rejected")  # fmt: skip
    close_db()
    ids = [str(r.id) for r in made] + [str(rejected.id)]
    agent = app.test_client()
    login(agent, store.agent.email)
    response = agent.post("/merchant/returns/bulk", data={"action": "approve", "rma": ids})
    assert response.status_code == 403 and "Only managers can approve returns." in text(response)
    with app.app_context():
        assert {factories.fresh(r).status for r in made} == {"requested"}  # agents can't
    login(client, store.manager.email)
    response = client.post("/merchant/returns/bulk", data={"action": "approve", "rma": ids},
                           follow_redirects=True)  # fmt: skip
    page = text(response)
    assert "3 return(s) approved" in page and f"{rejected.reference}: You can't approve" in page
    response = client.post("/merchant/returns/bulk", data={
        "action": "assign", "assignee": str(store.agent.id), "rma": ids[:2]})  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        assert [factories.fresh(r).responsible_id for r in made] == [store.agent.id] * 2 + [None]
    response = client.post("/merchant/returns/bulk", data={"action": "export", "rma": ids})
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["reference", "order", "email", "status"]
    assert sorted(r[0] for r in rows[1:]) == sorted([r.reference for r in made]
                                                    + [rejected.reference])  # fmt: skip
    response = client.post("/merchant/returns/bulk", data={"action": "approve"},
                           follow_redirects=True)  # fmt: skip
    assert "Select at least one return first." in text(response)
    response = client.post("/merchant/returns/bulk", data={"action": "assign", "assignee": "x",
                                                           "rma": ids}, follow_redirects=True)  # fmt: skip
    assert "Choose a staff member" in text(response)


def test_the_queue_still_runs_a_fixed_number_of_queries(app, client, store):
    def queries():
        client.get("/merchant/returns?status=all")
        with app.app_context(), count_queries() as counter:
            assert client.get("/merchant/returns?status=all").status_code == 200
        return counter.count

    login(client, store.manager.email)
    with app.app_context():
        for _ in range(2):
            factories.create_return(
                factories.order(customer=store.shopper), reason=store.changed_mind
            )
    few = queries()
    with app.app_context():
        for _ in range(12):
            factories.create_return(
                factories.order(customer=store.shopper), reason=store.changed_mind
            )
    assert queries() == few


def test_receiving_and_restocking_prefill_the_default_location(app, client, store):
    reference = received(app, store)
    with app.app_context():
        other = factories.location("OTHER")
        factories.policy(default_location=other.id)
    close_db()
    login(client, store.agent.email)
    page = client.get(f"/merchant/returns/{reference}").get_data(as_text=True)
    chosen = re.search(r'name="restock-location">(.*?)</select>', page, re.S).group(1)
    assert re.search(rf'<option selected value="{other.id}">', chosen), chosen

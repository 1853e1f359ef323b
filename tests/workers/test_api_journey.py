"""The whole journey through the API alone, with a real Celery worker on Redis: the shop PUTs
an order, asks for a return on the shopper's behalf, then drives it to `completed` choosing
each call from the return's `actions` (the refund is carried out by the worker meanwhile); the
shopper then sees the same return, completed, on their tracking page."""

import html as htmllib

from portal.models import LedgerTransaction, Refund
from tests import factories
from tests.api_client import body_for, call, next_call, order_body
from tests.pages import login
from tests.waiting import wait_until

CALLS = ("approve", "receive", "inspect", "restock", "refund", "finish")


def test_a_return_goes_from_creation_to_completed_through_the_api(ctx, celery_worker):
    made = factories.store()
    _, token = factories.api_key()
    client = ctx.test_client()
    order = call(client, "PUT", "/api/v1/orders/J-1", token,
                 json=order_body(email=made.shopper.email)).get_json()  # fmt: skip
    created = call(client, "POST", "/api/v1/returns", token, json={
        "order": "J-1", "on_behalf_of": "shopper",
        "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 2,
                   "reason": made.changed_mind.code}]})  # fmt: skip
    assert created.status_code == 201, created.data
    rma = created.get_json()
    path = f"/api/v1/returns/{rma['reference']}"
    taken = []
    while rma["status"] != "completed":
        offered = [a["name"] for a in rma["actions"]]
        if not set(offered) & set(CALLS):  # nothing to do but wait: the refund is being sent
            wait_until(lambda: Refund.get().status == "succeeded", 30, message="refund sent")
            rma = call(client, "GET", path, token).get_json()
            continue
        action = next_call(rma, CALLS)
        answer = call(client, "POST", action["path"], token,
                      json=body_for(action, rma, made.main.code),
                      headers={"Idempotency-Key": f"{action['name']}-{rma['version']}"})  # fmt: skip
        assert answer.status_code == 200, answer.data
        rma = answer.get_json()
        taken.append(action["name"])
    assert taken == ["approve", "receive", "restock", "refund", "finish"]
    assert rma["actions"] == [] and rma["refunds"][0]["status"] == "succeeded"
    [entry] = LedgerTransaction.select()
    assert entry.amount == rma["refunds"][0]["amount"] == 5000

    login(client, made.shopper.email)
    page = htmllib.unescape(client.get(f"/returns/{rma['reference']}").get_data(as_text=True))
    assert rma["reference"] in page
    assert 'class="badge status-completed" id="return-status">Refunded<' in page
    assert "Return completed" in page and "Refund sent" in page

"""Calling the JSON API from tests: the bearer header, JSON bodies, and reading problems."""

import json as jsonlib


def bearer(token, **headers):
    return {"Authorization": f"Bearer {token}", **headers}


def call(client, method, path, token=None, json=None, data=None, headers=None):
    """One request; `json` is sent as a JSON body, `data` as raw bytes (malformed bodies)."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    body = data if data is not None else (jsonlib.dumps(json) if json is not None else None)
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    return client.open(path, method=method, data=body, headers=sent)


def is_problem(response, status):
    """The answer is a problem document (RFC 9457) with `status` and a readable detail."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"], body
    return body


def order_body(email="sam@example.com", quantity=2, unit_price=2500, shipping=500, days_ago=5):
    """A delivered, invoiced, paid order as the shop would PUT it."""
    import datetime

    placed = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(
        days=days_ago
    )
    total = quantity * unit_price + shipping
    return {
        "email": email,
        "currency": "USD",
        "status": "delivered",
        "placed_at": placed.isoformat(),
        "delivered_at": (placed + datetime.timedelta(days=2)).isoformat(),
        "shipping_total": shipping,
        "lines": [{"sku": "TEE-M", "title": "Classic tee", "quantity": quantity,
                   "unit_price": unit_price, "invoice": "INV-1"}],
        "payments": [{"method": "card", "reference": "ch_1", "amount": total}],
        "invoices": [{"number": "INV-1"}],
    }  # fmt: skip


def next_call(rma, wanted):
    """The first of the return's `actions` named in `wanted` (its path and line ids)."""
    for action in rma["actions"]:
        if action["name"] in wanted and action["path"]:
            return action
    raise AssertionError(f"none of {wanted} in {[a['name'] for a in rma['actions']]}")


def body_for(action, rma, location=None):
    """The body of the call `action` picks, from the return as the API answered it."""
    lines = {line["id"]: line for line in rma["lines"]}
    ids = action["line_ids"]
    name = action["name"]
    if name == "receive":
        return {"lines": [{"line_id": i, "received": lines[i]["requested"] - lines[i]["received"]}
                          for i in ids], "version": rma["version"]}  # fmt: skip
    if name == "inspect":
        return {"lines": [{"line_id": i, "decision": "accepted"} for i in ids],
                "version": rma["version"]}  # fmt: skip
    if name == "restock":
        return {"lines": [{"line_id": i, "quantity": lines[i]["received"] - lines[i]["damaged"]
                           - lines[i]["restocked"]} for i in ids],
                "location": location, "version": rma["version"]}  # fmt: skip
    return {"version": rma["version"]}

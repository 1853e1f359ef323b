"""The webhook endpoints' pages (admins): adding one shows its secret once, bad fields are a 422
with a clear message and save nothing, the delivery log and redeliver, rotating the secret."""

import html

import pytest

from portal.models import AuditEntry, OutboxMessage, WebhookEndpoint
from portal.returns import review
from tests import factories
from tests.pages import login

GOOD = {"url": "https://shop.example.com/hooks", "event_types": ["return.approved", "refund.failed"],
        "active": "y", "description": "ERP"}  # fmt: skip


def endpoints(app):
    with app.app_context():
        return list(WebhookEndpoint.select())


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(app, client, store):
    login(client, store.admin.email)
    page = client.get("/merchant/webhooks").get_data(as_text=True)
    assert "No endpoints yet" in page and 'value="return.expired"' in page
    assert 'href="/merchant/webhooks"' in page  # in the merchant nav
    response = client.post("/merchant/webhooks", data=GOOD)
    assert response.status_code == 200
    [endpoint] = endpoints(app)
    shown = response.get_data(as_text=True)
    assert endpoint.secret in shown and "shown this once" in shown
    assert endpoint.event_types == ["return.approved", "refund.failed"] and endpoint.active
    again = client.get("/merchant/webhooks").get_data(as_text=True)
    assert endpoint.secret not in again and "https://shop.example.com/hooks" in again
    detail = client.get(f"/merchant/webhooks/{endpoint.id}").get_data(as_text=True)
    assert endpoint.secret not in detail and "No events sent" in detail
    with app.app_context():
        [entry] = AuditEntry.select().where(AuditEntry.action == "webhook.added")
        assert endpoint.secret not in str(entry.after)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"url": ""}, "Enter the endpoint"),
        ({"url": "ftp://shop.example.com/x"}, "must start with https://"),
        ({"url": "https://bob:pw@shop.example.com/"}, "Leave user names and passwords out"),
        ({"url": "https://shop.example.com/a b"}, "no spaces"),
        ({"url": "https://shop.example.com:70000/"}, "is not a valid URL"),
        ({"url": "https://" + "x" * 600}, "at most 500 characters"),
        ({"event_types": []}, "Choose at least one event"),
        ({"event_types": ["return.exploded"]}, "not a valid choice"),
    ],
)
def test_bad_endpoint_fields_are_a_422_and_nothing_is_saved(app, client, store, fields, message):
    login(client, store.admin.email)
    response = client.post("/merchant/webhooks", data={**GOOD, **fields})
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert endpoints(app) == []


def test_managers_and_agents_cant_see_or_change_endpoints(app, client, store):
    login(client, store.manager.email)
    assert client.get("/merchant/webhooks").status_code == 403
    assert client.post("/merchant/webhooks", data=GOOD).status_code == 403
    assert endpoints(app) == []


def test_editing_rotating_and_redelivering_from_the_endpoint_page(app, client, store):
    login(client, store.admin.email)
    client.post("/merchant/webhooks", data=GOOD)
    [endpoint] = endpoints(app)
    response = client.post(f"/merchant/webhooks/{endpoint.id}",
                           data={**GOOD, "url": "http://erp.internal:8080/in", "active": ""})  # fmt: skip
    assert response.status_code == 303
    [saved] = endpoints(app)
    assert (saved.url, saved.active) == ("http://erp.internal:8080/in", False)
    bad = client.post(f"/merchant/webhooks/{endpoint.id}", data={**GOOD, "url": "mailto:x@y"})
    assert bad.status_code == 422 and endpoints(app)[0].url == saved.url
    assert client.get("/merchant/webhooks/999").status_code == 404

    rotated = client.post(f"/merchant/webhooks/{endpoint.id}/rotate")
    [after] = endpoints(app)
    assert after.secret != saved.secret and after.previous_secret == saved.secret
    assert after.secret in rotated.get_data(as_text=True)
    assert "old secret also signs until" in rotated.get_data(as_text=True)

    client.post(f"/merchant/webhooks/{endpoint.id}", data=GOOD)  # active again
    with app.app_context():
        rma = factories.create_return(store.order, reason=store.changed_mind)
        review.approve(rma, store.manager)
        [message] = OutboxMessage.select().where(OutboxMessage.kind == "webhook")
    log = client.get(f"/merchant/webhooks/{endpoint.id}").get_data(as_text=True)
    assert message.payload["event_id"] in log and rma.reference in log and "not tried yet" in log
    # still pending: no redeliver button, and a post is refused
    assert "Redeliver" not in log
    refused = client.post(f"/merchant/webhooks/{endpoint.id}/deliveries/{message.id}/redeliver")
    assert refused.status_code == 422 and "still on its way" in refused.get_data(as_text=True)
    with app.app_context():
        OutboxMessage.update(status="failed").execute()
    assert "Redeliver" in client.get(f"/merchant/webhooks/{endpoint.id}").get_data(as_text=True)
    done = client.post(f"/merchant/webhooks/{endpoint.id}/deliveries/{message.id}/redeliver")
    assert done.status_code == 303
    with app.app_context():
        hooks = OutboxMessage.select().where(OutboxMessage.kind == "webhook")
        statuses = [m.status for m in hooks.order_by(OutboxMessage.id)]
        assert statuses == ["superseded", "pending"]
        assert AuditEntry.select().where(AuditEntry.action.startswith("webhook.")).count() == 5
    audit = client.get("/merchant/audit").get_data(as_text=True)
    assert "Webhook secret rotated" in audit and "Webhook event redelivered" in audit
    assert after.secret not in audit and saved.secret not in audit

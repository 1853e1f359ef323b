"""A failed refund on a completed (locked) return is retried on no path: the return's page, the
operations page's refund button, and retrying its failed outbox message all refuse, and nothing
changes. With the store's "edit completed returns" setting on, the same retry goes through."""

import pytest

from portal.db import db
from portal.models import OutboxMessage, Refund
from tests import factories
from tests.apps import close_db
from tests.pages import act, login


@pytest.fixture
def failed_on_completed(app, store):
    """A completed return of the store's order whose refund failed, with its failed message."""
    with app.app_context():
        rma = factories.create_return(store.order, status="completed")
        with db.atomic():
            refund = factories.make_refund(rma, 500, payment=store.order.payments.get())
        Refund.update(status="failed", last_error="card closed").execute()
        OutboxMessage.update(status="failed", last_error="card closed").execute()
        message = OutboxMessage.get(OutboxMessage.kind == "refund")
    close_db()
    return rma.reference, refund.id, message.id


def state(app, refund_id, message_id):
    with app.app_context():
        messages = sorted((m.dedupe_key, m.status) for m in OutboxMessage.select())
        state = (Refund.get_by_id(refund_id).status, messages)
    close_db()
    return state


PATHS = {
    "return page": lambda ref, rid, mid: (f"/merchant/returns/{ref}/refunds/{rid}/retry", True),
    "operations refund": lambda ref, rid, mid: (f"/merchant/operations/refunds/{rid}/retry", False),
    "outbox message": lambda ref, rid, mid: (f"/merchant/operations/messages/{mid}/retry", False),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_every_retry_path_refuses_a_locked_return(app, client, store, failed_on_completed, path):
    reference, refund_id, message_id = failed_on_completed
    before = state(app, refund_id, message_id)
    login(client, store.manager.email)
    url, on_return_page = PATHS[path](reference, refund_id, message_id)
    if on_return_page:
        response = act(client, reference, url.split(f"{reference}/", 1)[1], prefix="refund_action")
    else:
        response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "completed and locked" in response.get_data(as_text=True)
    assert state(app, refund_id, message_id) == before


@pytest.mark.parametrize("path", list(PATHS))
def test_with_editing_completed_returns_allowed_every_path_retries(app, client, store,
                                                                    failed_on_completed, path):  # fmt: skip
    reference, refund_id, message_id = failed_on_completed
    with app.app_context():
        factories.policy(allow_edit_completed=True)
    close_db()
    login(client, store.manager.email)
    url, on_return_page = PATHS[path](reference, refund_id, message_id)
    if on_return_page:
        response = act(client, reference, url.split(f"{reference}/", 1)[1], prefix="refund_action")
        assert response.status_code == 303
    else:
        assert client.post(url, headers={"HX-Request": "true"}).status_code == 200
    status, messages = state(app, refund_id, message_id)
    assert status == "pending"
    assert [s for _, s in messages] == ["superseded", "pending"]

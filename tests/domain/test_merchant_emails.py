"""Staff decisions tell the shopper: approve, reject and cancel each queue their email."""

import pytest

from portal.models import OutboxMessage, Return
from portal.returns import review
from tests import factories


def emails_for(rma):
    return {
        m.payload["template"]: m.payload
        for m in OutboxMessage.select().where(
            (OutboxMessage.rma == rma.id) & (OutboxMessage.kind == "email")
        )
    }


def test_approval_queues_the_approved_email_with_the_return_address(store):
    rma = factories.create_return(store.order, reason=store.changed_mind)
    review.approve(rma, store.manager)
    sent = emails_for(rma)
    assert sent["return_approved"]["to"] == store.order.email
    assert "Warehouse" in sent["return_approved"]["context"]["return_address"]
    assert Return.get_by_id(rma.id).target_date is not None


def test_rejection_queues_the_rejected_email_with_the_reason(store):
    rma = factories.create_return(store.order, reason=store.changed_mind)
    review.reject(rma, store.manager, "Worn items can't be returned.")
    assert emails_for(rma)["return_rejected"]["context"]["rejection_reason"] == (
        "Worn items can't be returned."
    )


def test_staff_cancel_queues_the_cancelled_email(store):
    rma = factories.create_return(store.order, reason=store.changed_mind)
    review.cancel(rma, store.manager, "The shopper phoned to keep it.")
    assert emails_for(rma)["return_cancelled"]["context"]["reason"] == (
        "The shopper phoned to keep it."
    )


def test_a_refused_approval_queues_nothing(store):
    rma = factories.create_return(store.order, reason=store.changed_mind)
    with pytest.raises(Exception, match="Only managers"):
        review.approve(rma, store.agent)
    assert emails_for(rma) == {}

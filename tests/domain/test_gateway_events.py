"""The gateway's events applied to refunds (portal.returns.gateway_events) without HTTP: a
reversal on a completed (locked) return can still be fixed by a manager, an older "succeeded"
arriving after a failure changes nothing, and the reversal is a refund.failed webhook."""

import pytest

from portal.models import OutboxMessage, Refund, ReturnPolicy
from portal.returns import facts, gateway_events, refund_execution, webhook_endpoints
from portal.returns.errors import InvalidTransition, NotAllowed
from tests import factories


@pytest.fixture
def completed(ctx, make):
    """A completed return whose one ledger refund succeeded (reference ref-1)."""
    order, payment = make.paid_order(5000, reference="pi_done")
    rma, refund = make.one_refund(order, payment, 1500)
    refund_execution.succeed(refund.id, "re_done_1")
    rma.status = "completed"
    rma.save()
    return factories.fresh(rma), Refund.get_by_id(refund.id)


def failed_event(reason="lost_or_stolen_card"):
    return {"id": "re_done_1", "object": "refund", "status": "failed", "failure_reason": reason,
            "metadata": {}}  # fmt: skip


def test_a_reversal_on_a_locked_return_can_still_be_retried(completed):
    rma, refund = completed
    manager, agent = factories.staff("manager"), factories.staff("agent")
    assert gateway_events.apply_stripe_event("evt_1", "refund.failed", failed_event()) == "reversed"
    assert facts.next_actions(factories.fresh(rma)) == ["retry_refund"]
    with pytest.raises(NotAllowed):
        refund_execution.retry_refund(refund, agent)
    retried = refund_execution.retry_refund(refund, manager)
    assert retried.status == "pending" and retried.idempotency_key != refund.idempotency_key
    assert not ReturnPolicy.current().allow_edit_completed


def test_a_plain_failure_on_a_locked_return_is_still_refused(completed):
    rma, refund = completed
    Refund.update(status="failed", gateway_status="").execute()
    with pytest.raises(InvalidTransition, match="locked"):
        refund_execution.retry_refund(refund, factories.staff("manager"))


def test_an_older_success_after_the_failure_changes_nothing(completed):
    _, refund = completed
    gateway_events.apply_stripe_event("evt_1", "refund.failed", failed_event())
    late = {**failed_event(), "status": "succeeded"}
    outcome = gateway_events.apply_stripe_event("evt_0", "refund.updated", late)
    assert "ignored" in outcome
    assert Refund.get_by_id(refund.id).status == "failed"


def test_the_reversal_is_a_refund_failed_webhook(completed):
    rma, _ = completed
    admin = factories.staff("admin")
    webhook_endpoints.add_endpoint(admin, url="https://erp.example/hooks",
                                   event_types=["refund.failed"])  # fmt: skip
    gateway_events.apply_stripe_event("evt_1", "refund.failed", failed_event("expired_card"))
    [message] = OutboxMessage.select().where(OutboxMessage.kind == "webhook")
    body = message.payload["payload"]
    assert body["type"] == "refund.failed" and body["data"]["return"]["reference"] == rma.reference
    assert body["data"]["refund"]["status"] == "failed"
    assert body["data"]["refund"]["gateway_status"] == "failed"

"""The additional value is no back door (issue 15): one manager could refund the order's whole
remaining amount through it. Above the store's limit (default: the order's original shipping
total) it needs the "referred to" note and a second manager's approval, like a refund over the
threshold; the preparer can't approve it, and of two managers approving at once one does."""

import pytest

from portal.models import AuditEntry, OutboxMessage, Refund, ReturnEvent
from portal.returns import receiving, refunding, review, settings
from portal.returns.errors import DomainError, NotAllowed
from tests import factories
from tests.domain.test_merchant_concurrency import at_once, errors


def received_return(shop):
    rma = factories.create_return(shop.order, reason=shop.changed_mind)
    review.approve(rma, shop.manager)
    line = factories.line_of(rma)
    receiving.receive(rma, shop.agent, {line.id: (1, 0)})
    return factories.fresh(rma)


@pytest.fixture
def shop(ctx):
    # 3 tees at 10.00 and 5.00 shipping, paid 35.00; no refund threshold.
    return factories.store(quantity=3, unit_price=1000, shipping=500)


def test_up_to_the_shipping_total_one_manager_may_add_it(shop):
    rma = received_return(shop)
    [refund] = refunding.prepare_refund(rma, shop.manager, additional=500,
                                        additional_note="Referred to ticket 7")  # fmt: skip
    assert (refund.status, refund.amount) == ("pending", 1000 + 500)
    assert OutboxMessage.select().where(OutboxMessage.kind == "refund").count() == 1


def test_above_the_shipping_total_it_waits_for_a_second_manager(shop):
    rma = received_return(shop)
    with pytest.raises(DomainError, match="referred to"):  # the note is required
        refunding.prepare_refund(rma, shop.manager, additional=2500)
    assert Refund.select().count() == 0
    [refund] = refunding.prepare_refund(rma, shop.manager, additional=2500,
                                        additional_note="Referred to complaint 12")  # fmt: skip
    # The whole rest of the order (10.00 + 25.00 = 35.00) is not sent by one manager.
    assert (refund.status, refund.amount) == ("awaiting_approval", 3500)
    assert OutboxMessage.select().where(OutboxMessage.kind == "refund").count() == 0
    event = ReturnEvent.get(ReturnEvent.kind == "refund_created")
    assert event.payload["additional_over_limit"] is True
    with pytest.raises(NotAllowed, match="another manager must approve"):
        refunding.approve_refund(refund, shop.manager)
    refunding.approve_refund(refund, shop.manager2)
    assert Refund.get_by_id(refund.id).status == "pending"
    entry = AuditEntry.get(AuditEntry.action == "refund.approved")
    assert entry.actor_id == shop.manager2.id and entry.subject == f"return:{rma.reference}"
    assert entry.after["prepared_by"] == shop.manager.id and entry.after["amount"] == 3500


def test_the_store_sets_its_own_limit(shop):
    settings.update_policy(shop.manager, additional_approval_limit=0)
    rma = received_return(shop)
    [refund] = refunding.prepare_refund(rma, shop.manager, additional=1,
                                        additional_note="Goodwill")  # fmt: skip
    assert refund.status == "awaiting_approval"
    with pytest.raises(DomainError, match="The additional value limit must be an amount"):
        settings.update_policy(shop.manager, additional_approval_limit=-1)
    settings.update_policy(shop.manager, additional_approval_limit=None)  # back to shipping
    assert factories.policy().additional_approval_limit is None


def test_two_managers_approving_an_additional_value_at_once_approve_it_once(any_app):
    with any_app.app_context():
        for _ in range(3):
            shop = factories.store(quantity=3, unit_price=1000, shipping=500)
            rma = received_return(shop)
            [refund] = refunding.prepare_refund(rma, shop.manager, additional=2000,
                                                additional_note="Referred to ticket 9")  # fmt: skip
            assert refund.status == "awaiting_approval"
            outcomes = at_once(
                lambda r=refund, s=shop: refunding.approve_refund(r, s.manager2),
                lambda r=refund, s=shop: refunding.approve_refund(r, s.admin),
                lambda r=refund, s=shop: refunding.approve_refund(r, s.manager),  # the preparer
            )
            assert len(errors(outcomes)) == 2, outcomes
            assert isinstance(outcomes[2], DomainError)  # never the preparer
            winner = Refund.get_by_id(refund.id)
            assert winner.status == "pending"
            assert winner.approved_by_id in (shop.manager2.id, shop.admin.id)
            sent = OutboxMessage.select().where(
                (OutboxMessage.kind == "refund") & (OutboxMessage.rma == rma.id)
            )
            assert sent.count() == 1
            approvals = AuditEntry.select().where(
                (AuditEntry.action == "refund.approved")
                & (AuditEntry.subject == f"return:{rma.reference}")
            )
            assert approvals.count() == 1

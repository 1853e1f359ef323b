"""A return's detail page and its actions through the views: what it shows, a next-actions
panel that matches the domain, plain form posts (no JavaScript) and htmx swaps."""

import re

import pytest

from portal.models import OutboxMessage, Refund, ReturnEvent, ReturnPhoto, StockLevel
from portal.returns import facts, finishing, inspection, receiving, refunding, review
from tests import factories, pages
from tests.pages import login


@pytest.fixture
def rma(app, store):
    with app.app_context():
        return factories.create_return(store.order, reason=store.changed_mind, note="Too big")


def panel_actions(html):
    return re.search(r'data-actions="([^"]*)"', html).group(1).split()


def domain_actions(rma):
    return facts.next_actions(factories.fresh(rma))


def test_the_detail_page_shows_order_shopper_lines_timeline_and_notes(app, client, store, rma):
    with app.app_context():
        line = factories.line_of(rma)
        line.note = "Seams came loose"
        line.save()
        photo = ReturnPhoto.create(line=line, stored_name="abc.jpg", content_type="image/jpeg",
                                   size=10)  # fmt: skip
        review.add_internal_note(rma, store.agent, "Shopper sounded upset")
        review.assign_responsible(rma, store.agent, store.agent)
    login(client, store.agent.email)
    html = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert store.order.number in html and store.shopper.email in html
    for header in ("Ordered", "Requested", "Received", "Damaged", "Restocked", "Refunded"):
        assert f">{header}</th>" in html
    assert "Classic tee" in html and "Changed my mind" in html and "Too big" in html
    assert "“Seams came loose”" in html
    assert f"/returns/{rma.reference}/photos/{photo.id}" in html
    assert "Shopper sounded upset" in html and "Staff only" in html
    assert f'<dd id="responsible">{store.agent.email}</dd>' in html
    assert panel_actions(html) == domain_actions(rma) == ["review", "hold", "cancel"]
    # An agent sees the review step but not the manager's buttons.
    assert "A manager approves or rejects" in html and ">Approve</button>" not in html


def test_internal_notes_never_reach_the_shopper(app, client, store, rma):
    with app.app_context():
        review.add_internal_note(rma, store.agent, "Secret staff remark")
    login(client, store.shopper.email)
    response = client.get(f"/returns/{rma.reference}")
    assert response.status_code == 200
    assert "Secret staff remark" not in response.get_data(as_text=True)


def test_the_panel_offers_exactly_the_domains_next_actions(app, client, store, rma):
    login(client, store.manager.email)
    url = f"/merchant/returns/{rma.reference}"

    def check():
        html = client.get(url).get_data(as_text=True)
        assert panel_actions(html) == domain_actions(rma)
        return panel_actions(html)

    assert check() == ["review", "hold", "cancel"]
    with app.app_context():
        review.approve(rma, store.manager)
        assert check() == ["receive", "hold", "cancel"]
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (2, 1)})
        assert check() == ["receive", "inspect", "hold"]
        review.hold(rma, store.agent)
        assert check() == ["resume"]
        review.resume(rma, store.agent)
        inspection.inspect(rma, store.agent, {line.id: ("accepted", "")})
        assert check() == ["receive", "restock", "refund", "hold"]
        refunding.prepare_refund(rma, store.manager)
        Refund.update(status="failed").execute()
        assert check() == ["receive", "restock", "retry_refund", "hold"]
        Refund.update(status="succeeded").execute()
        assert check() == ["receive", "restock", "finish", "hold"]
        finishing.finish(rma, store.agent)
        assert check() == []


def test_the_whole_flow_with_plain_form_posts(app, client, store, rma):
    """Without JavaScript: each action posts, redirects back and flashes what happened."""
    login(client, store.manager.email)
    ref = rma.reference
    response = pages.act(client, ref, "approve")
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/merchant/returns/{ref}"
    )
    page = client.get(f"/merchant/returns/{ref}").get_data(as_text=True)
    assert f"Return {ref} approved." in page
    # The receive form is prefilled with the outstanding units.
    assert 'name="receive-lines-0-received" type="text" value="3"' in page or re.search(
        r'name="receive-lines-0-received"[^>]*value="3"', page)  # fmt: skip
    assert pages.act(client, ref, "receive", pages.receive_fields(rma, 3)).status_code == 303
    with app.app_context():
        line = factories.line_of(rma)
        assert (line.received_quantity, line.inspection) == (3, "accepted")
    restock = {"location": store.main.id, "lines-0-line_id": line.id, "lines-0-quantity": 3}
    assert pages.act(client, ref, "restock", restock).status_code == 303
    refund = {"destination": "auto", "refund_shipping": "auto", "lines-0-line_id": line.id,
              "submit": "Issue refund"}  # fmt: skip
    assert pages.act(client, ref, "refund", refund).status_code == 303
    page = client.get(f"/merchant/returns/{ref}").get_data(as_text=True)
    assert "Refund of $30.00 created" in page
    with app.app_context():
        assert StockLevel.get(StockLevel.location == store.main).quantity == 3
        [made] = list(Refund.select())
        assert made.amount == 3000 and made.status == "pending"
        response = pages.act(client, ref, "finish")
        assert response.status_code == 422 and "refund is still pending" in response.get_data(
            as_text=True
        )
        Refund.update(status="succeeded").execute()  # the worker's part
    assert pages.act(client, ref, "finish").status_code == 303
    with app.app_context():
        assert factories.fresh(rma).status == "completed"
    assert "completed and locked" in client.get(f"/merchant/returns/{ref}").get_data(as_text=True)


def test_htmx_actions_swap_the_detail_in_place(app, client, store, rma):
    login(client, store.manager.email)
    response = pages.act(client, rma.reference, "approve", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="return-detail"') and "<html" not in body
    assert f"Return {rma.reference} approved." in body
    refused = pages.act(client, rma.reference, "approve", htmx=True)
    assert refused.status_code == 422
    assert "You can&#39;t approve a return that is approved." in refused.get_data(as_text=True)


def test_refund_form_recalculates_with_overrides_before_anything_is_created(
    app, client, store, rma
):
    with app.app_context():
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 0)})
    login(client, store.manager.email)
    fields = {"destination": "auto", "refund_shipping": "yes", "lines-0-line_id": line.id,
              "lines-0-override": "25.00", "lines-0-note": "box crushed",
              "additional": "1.50", "additional_note": "Referred to ticket 9", "preview": "y"}  # fmt: skip
    response = pages.act(client, rma.reference, "refund", fields, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Refund recalculated." in html
    # 25.00 overridden + 5.00 shipping + 1.50 additional
    assert '<td class="num" id="refund-total">$31.50</td>' in html
    assert Refund.select().count() == 0
    fields.pop("preview")
    fields["submit"] = "Issue refund"
    assert pages.act(client, rma.reference, "refund", fields, htmx=True).status_code == 200
    [refund] = list(Refund.select())
    assert (
        refund.amount == 3150
        and refund.breakdown["overrides"][str(line.id)]["note"] == "box crushed"
    )
    assert factories.line_of(rma).override_note == "box crushed"


def test_the_prefilled_refund_equals_the_shoppers_estimate(app, client, store):
    with app.app_context():
        factories.policy(restocking_fee_bps=1500, return_shipping_fee=300)
        rma = factories.create_return(store.order, reason=store.changed_mind)
        lines = facts.lines_of(rma.id)
        estimate = refunding.amounts.refund_for_return(rma, lines, {lines[0].id: 3})
        review.approve(rma, store.manager)
        receiving.receive(rma, store.agent, {lines[0].id: (3, 0)})
    login(client, store.manager.email)
    html = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert estimate.total == 3000 - 450 - 300
    assert f'id="refund-total">${estimate.total / 100:.2f}</td>' in html
    assert f"Issue refund of ${estimate.total / 100:.2f}" in html


def test_a_second_manager_approves_a_refund_over_the_threshold(app, client, store, rma):
    with app.app_context():
        factories.policy(refund_approval_threshold=1000)
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 0)})
        [refund] = refunding.prepare_refund(rma, store.manager)
    login(client, store.manager.email)
    html = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert "another manager must approve it" in html and "Approve refund</button>" not in html
    response = pages.act(
        client, rma.reference, f"refunds/{refund.id}/approve", prefix="refund_action"
    )
    assert response.status_code == 422 and "maker-checker" in response.get_data(as_text=True)
    client.post("/logout")
    login(client, store.manager2.email)
    assert "Approve refund</button>" in client.get(f"/merchant/returns/{rma.reference}").get_data(
        as_text=True
    )
    response = pages.act(
        client, rma.reference, f"refunds/{refund.id}/approve", prefix="refund_action"
    )
    assert response.status_code == 303
    assert Refund.get_by_id(refund.id).status == "pending"
    assert OutboxMessage.select().where(OutboxMessage.kind == "refund").count() == 1


def test_hold_resume_assign_note_and_reject_through_the_page(app, client, store, rma):
    login(client, store.manager.email)
    ref = rma.reference
    assert pages.act(client, ref, "hold", {"note": "Checking photos"}).status_code == 303
    assert factories.fresh(rma).status == "on_hold"
    assert pages.act(client, ref, "resume").status_code == 303
    assert factories.fresh(rma).status == "requested"
    assert pages.act(client, ref, "assign", {"responsible": store.agent.id}).status_code == 303
    assert factories.fresh(rma).responsible_id == store.agent.id
    assert (
        pages.act(client, ref, "notes", {"text": "Called the shopper"}, prefix="note").status_code
        == 303
    )
    refused = pages.act(client, ref, "reject", {"reason": ""})
    assert refused.status_code == 422 and "Say why" in refused.get_data(as_text=True)
    assert factories.fresh(rma).status == "requested"
    assert pages.act(client, ref, "reject", {"reason": "Outside the window"}).status_code == 303
    assert factories.fresh(rma).status == "rejected"
    kinds = [e.kind for e in ReturnEvent.select().where(ReturnEvent.rma == rma.id)]
    assert kinds == ["requested", "on_hold", "resumed", "assigned", "note", "rejected"]


def test_restock_with_quarantine_through_the_page(app, client, store, rma):
    with app.app_context():
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 1)})
        inspection.inspect(rma, store.agent, {line.id: ("accepted", "")})
    login(client, store.agent.email)
    html = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert re.search(r'name="restock-lines-0-quantity"[^>]*value="2"', html)
    fields = {"location": store.main.id, "quarantine_location": store.quarantine.id,
              "lines-0-line_id": line.id, "lines-0-quantity": 2, "lines-0-quarantine": 1}  # fmt: skip
    assert pages.act(client, rma.reference, "restock", fields).status_code == 303
    line = factories.line_of(rma)
    assert (line.restocked_quantity, line.quarantined_quantity) == (2, 1)


def test_an_additional_value_over_the_limit_waits_for_a_second_manager(app, client, store, rma):
    """Issue 15: the refund form says the limit (the order's shipping, 5.00, by default); one
    manager's additional value above it is prepared but waits for another manager."""
    with app.app_context():
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (1, 0)})
    login(client, store.manager.email)
    html = client.get(f"/merchant/returns/{rma.reference}").get_data(as_text=True)
    assert "An additional value needs the note; above $5.00 a second manager must approve" in html
    fields = {"destination": "auto", "refund_shipping": "auto", "additional": "20.00",
              "submit": "Issue refund"}  # fmt: skip
    response = pages.act(client, rma.reference, "refund", fields)
    assert response.status_code == 422 and "referred to" in response.get_data(as_text=True)
    assert Refund.select().count() == 0
    fields["additional_note"] = "Referred to complaint 4"
    assert pages.act(client, rma.reference, "refund", fields).status_code == 303
    [refund] = list(Refund.select())
    assert refund.status == "awaiting_approval"
    assert OutboxMessage.select().where(OutboxMessage.kind == "refund").count() == 0

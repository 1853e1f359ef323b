"""Store settings (managers): the return policy and nested reasons. Staff accounts (admins)."""

import pytest

from portal.models import ReturnPolicy, ReturnReason, User
from tests import factories
from tests.pages import login

POLICY = {
    "returns_enabled": "y",
    "window_days": "45",
    "restocking_fee_percent": "12.5",
    "return_shipping_fee": "4.95",
    "auto_approve": "under_amount",
    "auto_approve_max": "50.00",
    "reference_pattern": "RET-{year}-{seq:04d}",
    "require_responsible": "y",
    "refund_approval_threshold": "200",
    "require_return_invoice": "y",
    "expire_unshipped_days": "21",
    "return_address": "Returns\n5 Dock Street",
    "timezone": "Europe/Berlin",
    "inventory_tracking": "y",
    "staff_returns_approved": "y",
}


@pytest.fixture
def people(app):
    with app.app_context():
        return {role: factories.staff(role, email=f"{role}@example.com")
                for role in ("agent", "manager", "admin")}  # fmt: skip


def test_a_manager_saves_the_policy(app, client, people):
    login(client, "manager@example.com")
    page = client.get("/merchant/settings/policy").get_data(as_text=True)
    assert 'name="restocking_fee_percent"' in page and 'value="RMA-{year}-{seq:05d}"' in page
    response = client.post("/merchant/settings/policy", data=POLICY)
    assert response.status_code == 303
    policy = ReturnPolicy.current()
    assert policy.window_days == 45 and policy.restocking_fee_bps == 1250
    assert (policy.return_shipping_fee, policy.auto_approve_max) == (495, 5000)
    assert (
        policy.auto_approve == "under_amount" and policy.reference_pattern == "RET-{year}-{seq:04d}"
    )
    assert policy.require_responsible and policy.require_return_invoice
    assert not policy.allow_edit_completed and policy.refund_approval_threshold == 20000
    assert policy.expire_unshipped_days == 21 and policy.return_address == "Returns\n5 Dock Street"
    page = client.get("/merchant/settings/policy").get_data(as_text=True)
    assert 'value="12.5"' in page and 'value="4.95"' in page
    assert policy.additional_approval_limit is None  # left blank: the order's shipping
    response = client.post("/merchant/settings/policy",
                           data={**POLICY, "additional_approval_limit": "7.50"})  # fmt: skip
    assert response.status_code == 303 and ReturnPolicy.current().additional_approval_limit == 750


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("reference_pattern", "RMA-{year}", "must contain {seq}"),
        ("reference_pattern", "RMA-{customer}-{seq}", "may only use"),
        ("restocking_fee_percent", "150", "between 0 and 100"),
        ("restocking_fee_percent", "12.345", "at most two decimals"),
        ("restocking_fee_percent", "ten", "not a percentage"),
        ("window_days", "-1", "Return window"),
        ("return_shipping_fee", "4.999", "more than two decimals"),
        ("additional_approval_limit", "ten", "Enter an amount like 12.50."),
        ("additional_approval_limit", "-3", "Enter an amount like 12.50."),
    ],
)
def test_bad_policy_values_are_refused_and_nothing_changes(
    app, client, people, field, value, message
):
    login(client, "manager@example.com")
    ReturnPolicy.current()  # the row exists (created on first use); read it back as stored
    before = ReturnPolicy.get_by_id(1).__data__
    response = client.post("/merchant/settings/policy", data={**POLICY, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert ReturnPolicy.current().__data__ == before


def test_reasons_nest_edit_and_deactivate(app, client, people):
    login(client, "manager@example.com")
    response = client.post("/merchant/settings/reasons",
                           data={"new_reason-code": "fit", "new_reason-label": "It doesn't fit"})  # fmt: skip
    assert response.status_code == 303
    fit = ReturnReason.get(ReturnReason.code == "fit")
    response = client.post("/merchant/settings/reasons", data={
        "new_reason-code": "fit_small", "new_reason-label": "Too small",
        "new_reason-parent": str(fit.id), "new_reason-requires_note": "y"})  # fmt: skip
    assert response.status_code == 303
    small = ReturnReason.get(ReturnReason.code == "fit_small")
    assert small.parent_id == fit.id and small.requires_note and not small.merchant_fault
    page = client.get("/merchant/settings/policy").get_data(as_text=True)
    assert page.index("It doesn&#39;t fit") < page.index("Too small")
    # A parent can't be nested under its own child (reasons nest one level deep, as shoppers
    # pick them); codes stay unique.
    response = client.post(f"/merchant/settings/reasons/{fit.id}", data={
        f"reason{fit.id}-code": "fit", f"reason{fit.id}-label": "Fit",
        f"reason{fit.id}-parent": str(small.id)})  # fmt: skip
    assert response.status_code == 422
    assert "reasons nest one level deep" in response.get_data(as_text=True)
    assert ReturnReason.get_by_id(fit.id).parent_id is None
    response = client.post("/merchant/settings/reasons",
                           data={"new_reason-code": "fit", "new_reason-label": "Again"})  # fmt: skip
    assert response.status_code == 422 and "already used" in response.get_data(as_text=True)
    response = client.post(f"/merchant/settings/reasons/{small.id}", data={
        f"reason{small.id}-code": "fit_small", f"reason{small.id}-label": "Runs small",
        f"reason{small.id}-parent": str(fit.id), f"reason{small.id}-merchant_fault": "y"})  # fmt: skip
    assert response.status_code == 303
    small = ReturnReason.get_by_id(small.id)
    assert small.label == "Runs small" and small.merchant_fault and not small.requires_note
    assert client.post(f"/merchant/settings/reasons/{small.id}/deactivate").status_code == 303
    assert not ReturnReason.get_by_id(small.id).active
    assert client.post(f"/merchant/settings/reasons/{small.id}/activate").status_code == 303
    assert ReturnReason.get_by_id(small.id).active


def test_an_admin_adds_and_deactivates_staff(app, client, people):
    login(client, "admin@example.com")
    response = client.post("/merchant/staff", data={
        "email": "New.Agent@Example.com", "name": "Nia", "role": "agent",
        "password": "long-enough-pass"})  # fmt: skip
    assert response.status_code == 303
    member = User.by_email("new.agent@example.com")
    assert member.role == "agent" and member.name == "Nia"
    response = client.post("/merchant/staff", data={
        "email": "new.agent@example.com", "name": "Again", "role": "agent",
        "password": "long-enough-pass"})  # fmt: skip
    assert response.status_code == 422 and "already an account" in response.get_data(as_text=True)
    response = client.post("/merchant/staff", data={
        "email": "x@example.com", "name": "Short", "role": "agent", "password": "short"})  # fmt: skip
    assert response.status_code == 422
    assert client.post(f"/merchant/staff/{member.id}/deactivate").status_code == 303
    assert not User.get_by_id(member.id).active
    me = people["admin"]
    response = client.post(f"/merchant/staff/{me.id}/deactivate")
    assert response.status_code == 422 and "your own account" in response.get_data(as_text=True)
    other = app.test_client()
    response = other.post("/login", data={"email": "new.agent@example.com",
                                          "password": "long-enough-pass"})  # fmt: skip
    assert response.status_code == 422  # a deactivated account can't sign in
    assert client.post(f"/merchant/staff/{member.id}/activate").status_code == 303
    login(other, "new.agent@example.com", "long-enough-pass")
    assert other.get("/merchant/returns").status_code == 200


def test_the_navigation_shows_settings_and_staff_to_the_right_roles(app, client, people):
    expected = {"agent": (False, False), "manager": (True, False), "admin": (True, True)}
    for role, (settings, staff) in expected.items():
        browser = app.test_client()
        login(browser, f"{role}@example.com")
        html = browser.get("/merchant/returns").get_data(as_text=True)
        assert ('href="/merchant/settings/policy"' in html) is settings, role
        assert ('href="/merchant/staff"' in html) is staff, role

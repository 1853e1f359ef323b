"""Staff role changes on the staff page (admins): who may, what is refused, and that the new
role applies from the member's next request."""

import html as htmllib
import re

import pytest

from portal.models import AuditEntry, User
from tests import factories
from tests.pages import login


def text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def role_of(member):
    return User.get_by_id(member.id).role


def change(client, member, role):
    return client.post(f"/merchant/staff/{member.id}/role", data={f"member{member.id}-role": role})


def test_the_staff_page_offers_a_role_change_for_everyone_but_me(app, client, store):
    login(client, store.admin.email)
    html = client.get("/merchant/staff").get_data(as_text=True)
    for member in (store.agent, store.manager, store.manager2):
        assert f'action="/merchant/staff/{member.id}/role"' in html
        assert f'<label class="visually-hidden" for="member{member.id}-role">' in html
        assert f'Change role <span class="visually-hidden">of {member.email}</span>' in html
    assert f'action="/merchant/staff/{store.admin.id}/role"' not in html
    assert f'name="member{store.agent.id}-role"' in html
    assert '<option selected value="agent">Agent</option>' in html


def test_an_admin_changes_a_role_and_it_applies_on_the_next_request(app, client, store):
    agent = app.test_client()
    login(agent, store.agent.email)
    assert agent.get("/merchant/settings/locations").status_code == 403
    login(client, store.admin.email)
    response = change(client, store.agent, "manager")
    assert response.status_code == 303 and response.headers["Location"] == "/merchant/staff"
    assert role_of(store.agent) == "manager"
    assert f"{store.agent.email} is now manager." in text(client.get("/merchant/staff"))
    assert agent.get("/merchant/settings/locations").status_code == 200
    entry = AuditEntry.get(AuditEntry.action == "staff.role_changed")
    assert entry.actor_id == store.admin.id and entry.subject == f"user:{store.agent.id}"
    assert (entry.before, entry.after) == ({"role": "agent"}, {"role": "manager"})
    assert change(client, store.agent, "agent").status_code == 303
    assert role_of(store.agent) == "agent"
    assert agent.get("/merchant/settings/locations").status_code == 403


def test_an_admin_cant_change_their_own_role(app, client, store):
    login(client, store.admin.email)
    response = change(client, store.admin, "agent")
    assert response.status_code == 422
    assert "You can't change your own role; ask another admin." in text(response)
    assert role_of(store.admin) == "admin"
    assert AuditEntry.select().where(AuditEntry.action != "signin.succeeded").count() == 0


@pytest.mark.parametrize("role", ["owner", "shopper", ""])
def test_a_role_outside_the_choices_is_a_field_error(app, client, store, role):
    login(client, store.admin.email)
    response = change(client, store.agent, role)
    assert response.status_code == 422
    assert "Not a valid choice" in text(response)
    assert role_of(store.agent) == "agent"


def test_a_shopper_or_unknown_account_is_not_a_staff_member(app, client, store):
    login(client, store.admin.email)
    response = change(client, store.shopper, "agent")
    assert response.status_code == 404
    assert "That staff account doesn't exist." in text(response)
    assert role_of(store.shopper) == "shopper"


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_only_admins_change_roles(app, client, store, who):
    login(client, getattr(store, who).email)
    response = change(client, store.manager2, "admin")
    assert response.status_code == 403
    assert "Only admins can manage staff accounts." in text(response)
    assert role_of(store.manager2) == "manager"


def test_the_role_form_carries_its_csrf_token(csrf_app):
    """With CSRF on (as in production), the role form's own hidden token makes it work."""
    client = csrf_app.test_client()
    with csrf_app.app_context():
        store = factories.store()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"email": store.admin.email, "password": factories.PASSWORD,
                                "csrf_token": token})  # fmt: skip
    html = client.get("/merchant/staff").get_data(as_text=True)
    agent = store.agent.id
    token = re.search(rf'name="member{agent}-csrf_token" value="([^"]+)"', html).group(1)
    data = {f"member{agent}-role": "manager"}
    assert client.post(f"/merchant/staff/{agent}/role", data=data).status_code == 400
    data[f"member{agent}-csrf_token"] = token
    assert client.post(f"/merchant/staff/{agent}/role", data=data).status_code == 303
    assert role_of(store.agent) == "manager"

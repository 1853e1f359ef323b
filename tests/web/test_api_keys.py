"""API keys: an admin creates one on /merchant/api-keys (shown once, stored as a sha256 hash),
sees when it was last used and revokes it; both are audited. A missing, wrong or revoked key
is a 401, a key without the scope a 403, and nothing changes. Rate limited per key."""

import hashlib
import html as htmllib
import re

import pytest

from portal.models import ApiKey, AuditEntry, Return, User
from tests import factories
from tests.api_client import call, is_problem
from tests.apps import close_db, make_app
from tests.pages import login

PAGE = "/merchant/api-keys"


def test_an_admin_creates_a_key_that_is_shown_once_and_kept_hashed(app, client):
    with app.app_context():
        admin = factories.staff("admin")
    login(client, admin.email)
    page = client.get(PAGE)
    assert page.status_code == 200 and b"Create a key" in page.data
    assert b'href="/merchant/api-keys"' in page.data  # the merchant nav links it

    made = client.post(PAGE, data={"name": "Main shop", "scopes": ["returns:read",
                                                                   "orders:write"]})  # fmt: skip
    assert made.status_code == 201
    token = re.search(r'id="new-key-value"[^>]*value="([^"]+)"', made.get_data(as_text=True))[1]
    assert token.startswith("rp_") and len(token) > 40

    with app.app_context():
        key = ApiKey.get()
        assert key.key_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(list(ApiKey.select().dicts()))  # only the hash is kept
        assert key.scopes == ["orders:write", "returns:read"] and key.last_used_at is None
        assert AuditEntry.get(AuditEntry.action == "api_key.created").actor_id == admin.id
    close_db()
    listed = client.get(PAGE).get_data(as_text=True)
    assert token not in listed and "never" in listed  # never shown again; not used yet

    assert call(client, "GET", "/api/v1/returns", token).status_code == 200
    with app.app_context():
        assert ApiKey.get().last_used_at is not None
    close_db()
    assert "never" not in htmllib.unescape(client.get(PAGE).get_data(as_text=True))


def test_only_admins_manage_keys_and_bad_input_is_refused(app, client):
    with app.app_context():
        manager = factories.staff("manager")
        admin = factories.staff("admin")
    login(client, manager.email)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"name": "x", "scopes": ["returns:read"]}).status_code == 403
    client.post("/logout")
    login(client, admin.email)
    refused = client.post(PAGE, data={"name": "No scopes"})
    assert refused.status_code == 422 and b"Choose at least one scope" in refused.data
    unknown = client.post(PAGE, data={"name": "Odd", "scopes": ["everything"]})
    assert unknown.status_code == 422
    with app.app_context():
        assert ApiKey.select().count() == 0


def test_a_revoked_key_is_refused_and_the_revocation_audited(app, client):
    with app.app_context():
        admin = factories.staff("admin")
        key, token = factories.api_key(admin=admin)
    assert call(client, "GET", "/api/v1/returns", token).status_code == 200
    login(client, admin.email)
    done = client.post(f"{PAGE}/{key.id}/revoke")
    assert done.status_code == 303
    body = is_problem(call(client, "GET", "/api/v1/returns", token), 401)
    assert "revoked" in body["detail"]
    with app.app_context():
        assert ApiKey.get_by_id(key.id).revoked_at is not None
        assert not User.get_by_id(key.user_id).active
        assert AuditEntry.get(AuditEntry.action == "api_key.revoked").actor_id == admin.id
    assert b"Revoked" in client.get(PAGE).data


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer rp_wrong", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500],
)
def test_missing_or_wrong_keys_are_401_problems(app, client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/returns", headers=headers)
    is_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_without_the_scope_is_403_and_nothing_changes(app, client):
    with app.app_context():
        made = factories.store()
        _, reader = factories.api_key(scopes=("returns:read",))
        rma = factories.create_return(made.order, reason=made.changed_mind)
        before = factories.counts()
    approve = call(client, "POST", f"/api/v1/returns/{rma.reference}/approve", reader, json={})
    assert "returns:write" in is_problem(approve, 403)["detail"]
    put = call(client, "PUT", "/api/v1/orders/NEW-1", reader, json={})
    is_problem(put, 403)
    with app.app_context():
        assert Return.get_by_id(rma.id).status == "requested"
        assert factories.counts() == before


@pytest.fixture
def limited_app(tmp_path):
    app = make_app(tmp_path, API_RATE_LIMIT="3 per minute")
    yield app
    close_db()


def test_each_key_is_rate_limited_with_the_headers(limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        _, first = factories.api_key()
        _, second = factories.api_key()
    answers = [call(client, "GET", "/api/v1/returns", first) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[1].headers["X-RateLimit-Remaining"] == "1"
    body = is_problem(answers[3], 429)
    assert "slow down" in body["detail"] and answers[3].headers["Retry-After"]
    assert call(client, "GET", "/api/v1/returns", second).status_code == 200  # its own count


def test_a_keys_account_is_named_in_the_timeline_but_listed_nowhere_as_staff(app, client):
    with app.app_context():
        made = factories.store()
        key, token = factories.api_key(name="Main shop")
        rma = factories.create_return(made.order, reason=made.changed_mind)
    assert call(client, "POST", f"/api/v1/returns/{rma.reference}/hold", token,
                json={"note": "checking"}).status_code == 200  # fmt: skip
    login(client, made.admin.email)
    detail = htmllib.unescape(client.get(f"/merchant/returns/{rma.reference}").get_data(True))
    assert "API key “Main shop”" in detail  # the timeline says which key acted
    with app.app_context():
        account = User.get_by_id(key.user_id)
    picker = re.search(r'<select[^>]*name="assign-responsible".*?</select>', detail, re.S)[0]
    assert made.manager.email in picker or made.manager.display_name in picker
    assert f'value="{account.id}"' not in picker  # not offered as the responsible person
    assert account.email not in client.get("/merchant/staff").get_data(as_text=True)
    assert not account.check_password("")  # it can never sign in

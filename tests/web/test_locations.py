"""Inventory locations through the pages (managers): add, rename, deactivate and reactivate,
make default, delete when unused; what is refused, and who may see the page at all."""

import html as htmllib
import re

import pytest

from portal.models import AuditEntry, InventoryLocation, ReturnPolicy, StockMovement
from portal.returns import inspection, receiving, review
from tests import factories
from tests.pages import login
from tests.querycount import count_queries

BASE = "/merchant/settings/locations"


def text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def location_named(name):
    return InventoryLocation.get_or_none(InventoryLocation.name == name)


def snapshot():
    """Every location and the policy's defaults, to check that a refusal changed nothing."""
    policy = ReturnPolicy.current()
    rows = [loc.__data__ for loc in InventoryLocation.select().order_by(InventoryLocation.id)]
    return rows, policy.default_location_id, policy.default_quarantine_location_id


def add(client, name, kind="sellable", code=""):
    return client.post(BASE, data={"new-name": name, "new-kind": kind, "new-code": code})


def test_a_manager_adds_renames_deactivates_defaults_and_deletes(app, client, store):
    login(client, store.manager.email)
    page = client.get(BASE)
    assert page.status_code == 200
    html = text(page)
    assert store.main.name in html and store.quarantine.name in html
    assert 'name="new-name"' in html and 'name="new-kind"' in html and 'name="new-code"' in html

    response = add(client, "Back room")
    assert response.status_code == 303 and response.headers["Location"] == BASE
    back = location_named("Back room")
    assert (back.code, back.kind, back.active) == ("BACK-ROOM", "sellable", True)
    assert "Location “Back room” added." in text(client.get(BASE))
    assert add(client, "Damaged shelf", "quarantine", "dmg-1").status_code == 303
    shelf = location_named("Damaged shelf")
    assert (shelf.code, shelf.kind) == ("DMG-1", "quarantine")

    response = client.post(f"{BASE}/{back.id}/rename",
                           data={f"location{back.id}-name": "Back  room 2",
                                 f"location{back.id}-code": ""})  # fmt: skip
    assert response.status_code == 303
    back = InventoryLocation.get_by_id(back.id)
    assert (back.name, back.code) == ("Back room 2", "BACK-ROOM")  # a blank code is kept
    response = client.post(f"{BASE}/{back.id}/rename",
                           data={f"location{back.id}-name": "Back room 2",
                                 f"location{back.id}-code": "br2"})  # fmt: skip
    assert response.status_code == 303 and InventoryLocation.get_by_id(back.id).code == "BR2"

    assert client.post(f"{BASE}/{back.id}/default").status_code == 303
    assert ReturnPolicy.current().default_location_id == back.id
    assert client.post(f"{BASE}/{shelf.id}/default").status_code == 303
    assert ReturnPolicy.current().default_quarantine_location_id == shelf.id
    html = text(client.get(BASE))
    assert "Default for restocking" in html and "Default for damaged goods" in html
    assert "it is a default location" in html

    assert client.post(f"{BASE}/{store.main.id}/deactivate").status_code == 303
    assert not InventoryLocation.get_by_id(store.main.id).active
    assert 'Reactivate <span class="visually-hidden">' in client.get(BASE).get_data(as_text=True)
    assert client.post(f"{BASE}/{store.main.id}/activate").status_code == 303
    assert InventoryLocation.get_by_id(store.main.id).active

    assert client.post(f"{BASE}/{store.main.id}/delete").status_code == 303
    assert InventoryLocation.get_or_none(InventoryLocation.id == store.main.id) is None
    assert "deleted" in text(client.get(BASE))


def test_every_button_names_the_location_it_acts_on(app, client, store):
    login(client, store.manager.email)
    html = client.get(BASE).get_data(as_text=True)
    for location in (store.main, store.quarantine):
        for verb in ("Rename", "Save", "Deactivate", "Delete"):
            assert f'{verb} <span class="visually-hidden">{location.name}</span>' in html, verb
    assert "<script" not in html.split("</head>")[1]  # no inline script: it works without JS


def test_a_name_or_code_already_used_is_refused_and_nothing_changes(app, client, store):
    login(client, store.manager.email)
    before = snapshot()
    response = add(client, store.main.name.upper())
    assert response.status_code == 422
    assert f"The name is already used by the location “{store.main.name}”." in text(response)
    response = add(client, "Another", code=store.quarantine.code)
    assert response.status_code == 422
    assert f"The code is already used by the location “{store.quarantine.name}”." in text(response)
    response = client.post(f"{BASE}/{store.quarantine.id}/rename",
                           data={f"location{store.quarantine.id}-name": store.main.name})  # fmt: skip
    assert response.status_code == 422 and "already used" in text(response)
    # The refused rename shows what was typed, in the opened form.
    assert re.search(rf'id="location{store.quarantine.id}-name"[^>]*value="{store.main.name}"',
                     response.get_data(as_text=True))  # fmt: skip
    assert snapshot() == before
    assert AuditEntry.select().where(AuditEntry.action != "signin.succeeded").count() == 0


def test_bad_fields_are_field_errors_and_never_a_500(app, client, store):
    login(client, store.manager.email)
    before = snapshot()
    response = add(client, "Overflow", kind="basement")
    assert response.status_code == 422 and "Not a valid choice" in text(response)
    response = add(client, "")
    assert response.status_code == 422 and "Enter the location's name." in text(response)
    response = add(client, "Overflow", code="no spaces please")
    assert response.status_code == 422 and "capital letters, digits" in text(response)
    response = add(client, "Overflow", code="X" * 21)
    assert response.status_code == 422 and "at most 20 characters" in text(response)
    assert snapshot() == before


def test_deleting_a_location_in_use_is_refused_and_nothing_changes(app, client, store):
    with app.app_context():
        rma = factories.create_return(store.order, reason=store.changed_mind)
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 0)})
        inspection.restock_lines(rma, store.agent, {line.id: 2}, store.main.id)
        # A movement written directly (an adjustment) puts the quarantine location in use too.
        StockMovement.create(location=store.quarantine, sku="TEE-M", quantity=1,
                             reason="adjustment")  # fmt: skip
    login(client, store.manager.email)
    html = client.get(BASE).get_data(as_text=True)
    assert "In use: stock moved through it." in html
    assert f'Delete <span class="visually-hidden">{store.main.name}</span>' not in html
    before = snapshot()
    for location in (store.main, store.quarantine):
        response = client.post(f"{BASE}/{location.id}/delete")
        assert response.status_code == 422
        assert (f"“{location.name}” is in use (stock moved through it), so it can't be deleted; "
                "deactivate it instead.") in text(response)  # fmt: skip
    assert snapshot() == before


def test_a_default_location_is_not_deactivated(app, client, store):
    login(client, store.manager.email)
    assert client.post(f"{BASE}/{store.main.id}/default").status_code == 303
    html = client.get(BASE).get_data(as_text=True)
    assert f'Deactivate <span class="visually-hidden">{store.main.name}</span>' not in html
    before = snapshot()
    response = client.post(f"{BASE}/{store.main.id}/deactivate")
    assert response.status_code == 422
    assert "is a default location: make another one the default first." in text(response)
    assert snapshot() == before
    # Deactivated locations can't become the default; unknown ones are said to be unknown.
    assert client.post(f"{BASE}/{store.quarantine.id}/deactivate").status_code == 303
    response = client.post(f"{BASE}/{store.quarantine.id}/default")
    assert response.status_code == 422 and "activate it first" in text(response)
    response = client.post(f"{BASE}/999999/delete")
    assert response.status_code == 404 and "That location doesn't exist." in text(response)


def test_repeating_a_change_audits_nothing_twice(app, client, store):
    login(client, store.manager.email)
    for _ in range(2):
        assert client.post(f"{BASE}/{store.main.id}/default").status_code == 303
        assert client.post(f"{BASE}/{store.quarantine.id}/deactivate").status_code == 303
    actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)
               if e.action != "signin.succeeded"]  # fmt: skip
    assert actions == ["location.default", "location.deactivated"]


MANAGER_ROUTES = [
    ("get", BASE),
    ("post", BASE),
    ("post", f"{BASE}/{{id}}/rename"),
    ("post", f"{BASE}/{{id}}/activate"),
    ("post", f"{BASE}/{{id}}/deactivate"),
    ("post", f"{BASE}/{{id}}/default"),
    ("post", f"{BASE}/{{id}}/delete"),
]


@pytest.mark.parametrize("method, url", MANAGER_ROUTES)
def test_an_agent_is_refused_every_manager_route(app, client, store, method, url):
    login(client, store.agent.email)
    before = snapshot()
    response = getattr(client, method)(url.format(id=store.main.id),
                                       data={"new-name": "Sneaky", "new-kind": "sellable"})  # fmt: skip
    assert response.status_code == 403
    assert "Only managers can change inventory locations." in text(response)
    assert snapshot() == before


@pytest.mark.parametrize("method, url", MANAGER_ROUTES + [
    ("get", "/merchant/stock"), ("get", "/merchant/stock/TEE-M"), ("get", "/merchant/audit"),
    ("get", "/merchant/audit.csv"), ("post", "/merchant/staff/{id}/role"),
])  # fmt: skip
def test_a_shopper_is_refused_everything(app, client, store, method, url):
    login(client, store.shopper.email)
    response = getattr(client, method)(url.format(id=store.main.id))
    assert response.status_code == 403


def test_a_visitor_is_sent_to_sign_in(client, store):
    response = client.get(BASE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def _locations(app, count):
    with app.app_context():
        existing = InventoryLocation.select().count()
        for i in range(existing, count):
            location = factories.location(f"EXTRA{i}", kind="quarantine" if i % 2 else "sellable")
            StockMovement.create(location=location, sku=f"SKU-{i}", quantity=1, reason="restock")


def test_the_page_runs_the_same_queries_for_2_and_12_locations(app, client, store):
    with app.app_context():
        factories.policy()  # the policy row exists (the first read of a new store creates it)
    login(client, store.manager.email)
    counts = []
    for count in (2, 12):
        _locations(app, count)
        with count_queries() as queries:
            response = client.get(BASE)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('class="location') == count
        counts.append(queries.count)
    assert counts[0] == counts[1], counts
    print(f"locations page: {counts[0]} queries for 2 and for 12 locations")


def test_the_page_forms_carry_their_csrf_tokens(csrf_app):
    """With CSRF on (as in production), each form's own hidden token is what makes it work."""
    client = csrf_app.test_client()
    with csrf_app.app_context():
        store = factories.store()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"email": store.manager.email, "password": factories.PASSWORD,
                                "csrf_token": token})  # fmt: skip
    html = client.get(BASE).get_data(as_text=True)
    main = store.main.id
    rename_token = re.search(rf'name="location{main}-csrf_token" type="hidden" value="([^"]+)"',
                             html).group(1)  # fmt: skip
    button_token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(f"{BASE}/{main}/rename",
                       data={f"location{main}-name": "Main hall"}).status_code == 400  # fmt: skip
    response = client.post(f"{BASE}/{main}/rename", data={
        f"location{main}-name": "Main hall", f"location{main}-csrf_token": rename_token})  # fmt: skip
    assert response.status_code == 303
    assert client.post(f"{BASE}/{main}/delete").status_code == 400
    assert (
        client.post(f"{BASE}/{main}/delete", data={"csrf_token": button_token}).status_code == 303
    )
    assert InventoryLocation.get_or_none(InventoryLocation.id == main) is None

"""The audit log (admins): every change to locations, the policy, reasons and staff roles is on
the page and in the CSV with who made it and each changed value before and after; the filters;
the database refuses to change or delete an entry."""

import csv
import datetime
import html as htmllib
import io
import itertools
import re

import pytest
from peewee import DatabaseError

from portal.db import db
from portal.models import AuditEntry, InventoryLocation, User
from portal.returns import accounts, locations, settings
from tests import factories
from tests.pages import login
from tests.querycount import count_queries
from tests.web.test_merchant_settings import POLICY

LOCATIONS = "/merchant/settings/locations"


def text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def entries(html):
    """The page's rows as plain text, one string per entry, newest first."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def changes_only(rows):
    """The page's rows less the sign-ins the test itself made (they are audited too)."""
    return [row for row in rows if " Signed in " not in f" {row} "]


def export(client, **query):
    response = client.get("/merchant/audit.csv", query_string=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return [row for row in rows if row["action"] != "signin.succeeded"]


@pytest.fixture
def changed(app, client, store):
    """Changes made through the pages: by a manager (locations, the policy, a reason) and by
    the admin (a role)."""
    manager = app.test_client()
    login(manager, store.manager.email)
    assert manager.post(LOCATIONS, data={"new-name": "Back room", "new-kind": "sellable"}
                        ).status_code == 303  # fmt: skip
    back = InventoryLocation.get(InventoryLocation.name == "Back room")
    assert manager.post(f"{LOCATIONS}/{back.id}/rename",
                        data={f"location{back.id}-name": "Back office"}).status_code == 303  # fmt: skip
    assert manager.post(f"{LOCATIONS}/{store.main.id}/default").status_code == 303
    assert manager.post(f"{LOCATIONS}/{back.id}/deactivate").status_code == 303
    assert manager.post(f"{LOCATIONS}/{back.id}/activate").status_code == 303
    assert manager.post(f"{LOCATIONS}/{back.id}/delete").status_code == 303
    assert manager.post("/merchant/settings/policy", data=POLICY).status_code == 303
    assert manager.post(f"/merchant/settings/reasons/{store.defective.id}/deactivate"
                        ).status_code == 303  # fmt: skip
    login(client, store.admin.email)
    response = client.post(f"/merchant/staff/{store.agent.id}/role",
                           data={f"member{store.agent.id}-role": "manager"})  # fmt: skip
    assert response.status_code == 303
    return back


def test_every_change_is_on_the_page_with_who_and_before_after(app, client, store, changed):
    response = client.get("/merchant/audit")
    assert response.status_code == 200
    rows = changes_only(entries(text(response)))
    assert len(rows) == 9
    manager, admin = store.manager.email, store.admin.email
    expected = [  # newest first
        (admin, "Staff role changed", f"user {store.agent.email}", "Role : agent → changed to manager"),
        (manager, "Reason deactivated", "reason Defective", "Active : yes → changed to no"),
        (manager, "Return policy changed", "return policy", "Window days : 30 → changed to 45"),
        (manager, "Location deleted", "location Back office (deleted)", "Name : Back office → changed to —"),
        (manager, "Location activated", "location Back office (deleted)", "Active : no → changed to yes"),
        (manager, "Location deactivated", "location Back office (deleted)", "Active : yes → changed to no"),
        (manager, "Default location set", f"location {store.main.name}",
         f"Default location : Back office (deleted) → changed to {store.main.name}"),
        (manager, "Location changed", "location Back office (deleted)", "Name : Back room → changed to Back office"),
        (manager, "Location added", "location Back office (deleted)", "Code : — → changed to BACK-ROOM"),
    ]  # fmt: skip
    for row, (who, what, about, change) in zip(rows, expected, strict=True):
        assert who in row and what in row and about in row and change in row, (row, change)
    # The first sellable location added became the default (the store's own were made directly),
    # and its entry says so.
    assert "Default location : — → changed to Back office (deleted)" in rows[-1]
    policy = rows[2]
    assert "Restocking fee bps : 0 → changed to 1250" in policy
    assert "Auto approve : never → changed to under_amount" in policy


def test_the_csv_has_the_same_entries_and_filters(app, client, store, changed):
    rows = export(client)
    assert len(rows) == 9
    first = rows[0]
    assert first["actor"] == store.admin.email and first["action"] == "staff.role_changed"
    assert first["about"] == f"user {store.agent.email}" and first["changes"] == (
        "role: agent -> manager"
    )
    assert first["before"] == '{"role": "agent"}' and first["after"] == '{"role": "manager"}'
    policy = next(r for r in rows if r["action"] == "policy.updated")
    assert "window_days: 30 -> 45" in policy["changes"] and policy["actor"] == store.manager.email
    assert [r["action"] for r in export(client, action="location.deleted")] == ["location.deleted"]
    assert {r["actor"] for r in export(client, actor=store.admin.email.upper())} == {
        store.admin.email
    }
    today = datetime.datetime.now(datetime.UTC).date().isoformat()  # entries are in UTC
    assert len(export(client, date_from=today, date_to=today)) == 9
    assert export(client, date_to="2000-01-01") == []


def test_filters_narrow_the_page_and_bad_values_are_ignored_and_said(app, client, store, changed):
    html = text(client.get("/merchant/audit", query_string={"action": "location.deactivated"}))
    assert len(entries(html)) == 1 and "Location deactivated" in html
    assert '<option selected value="location.deactivated">' in html
    assert 'href="/merchant/audit.csv?action=location.deactivated"' in html
    html = text(client.get("/merchant/audit", query_string={"actor": store.admin.email}))
    assert len(changes_only(entries(html))) == 1
    html = text(client.get("/merchant/audit", query_string={"actor": "nobody@example.com"}))
    assert "No entries match these filters." in html
    response = client.get("/merchant/audit", query_string={
        "action": "drop.tables", "actor": "not-an-email", "date_from": "31/31/2020",
        "date_to": "2020-01-01"})  # fmt: skip
    assert response.status_code == 200
    html = text(response)
    assert "Some filters were ignored" in html
    assert "Not a valid choice" in html and "Enter an email address" in html
    assert "Not a valid date value" in html
    # Ignored values filter nothing, but the valid one (date_to in 2020) still does.
    assert "No entries match these filters." in html
    html = text(client.get("/merchant/audit", query_string={"date_from": "2030-01-02",
                                                            "date_to": "2030-01-01"}))  # fmt: skip
    assert "The end date is before the start date." in html
    assert "No entries match these filters." in html  # from 2030: nothing yet


def test_a_domain_call_is_audited_with_its_actor(app, client, store):
    with app.app_context():
        settings.update_policy(store.manager, window_days=60)
        locations.add_location(store.manager2, "Annex", "quarantine", "ANX")
    login(client, store.admin.email)
    rows = changes_only(entries(text(client.get("/merchant/audit"))))
    # The first quarantine location added becomes the default for damaged units, and says so.
    assert store.manager2.email in rows[0] and "Location added location Annex" in rows[0]
    assert "Kind : — → changed to quarantine" in rows[0] and "Code : — → changed to ANX" in rows[0]
    assert "Default quarantine location : — → changed to Annex" in rows[0]
    assert store.manager.email in rows[-1] and "Window days : 30 → changed to 60" in rows[-1]


def test_the_database_refuses_to_change_or_delete_an_entry(app, store):
    with app.app_context():
        settings.update_policy(store.manager, window_days=60)
        entry = AuditEntry.get()
        for sql in ("UPDATE audit_entry SET action = 'policy.hidden'", "DELETE FROM audit_entry"):
            with pytest.raises(DatabaseError, match="append-only"), db.atomic():
                db.execute_sql(sql)
        assert AuditEntry.select().count() == 1
        assert AuditEntry.get_by_id(entry.id).action == "policy.updated"


def test_only_admins_read_the_audit_log(app, client, store):
    for member in (store.agent, store.manager):
        browser = app.test_client()
        login(browser, member.email)
        for url in ("/merchant/audit", "/merchant/audit.csv"):
            response = browser.get(url)
            assert response.status_code == 403
            assert "Only admins can read the audit log." in text(response)


def test_the_page_runs_the_same_queries_for_2_and_12_entries(app, client, store):
    login(client, store.admin.email)
    counts = []
    with app.app_context():
        factories.policy()  # the policy row exists (the first read of a new store creates it)
        spare = InventoryLocation.create(code="SPARE", name="Spare")
    changes = itertools.count(1)
    for target in (2, 12):
        with app.app_context():
            # Location and user subjects, named by one query each at any number of entries
            # (a reason subject adds one more, the same way).
            while AuditEntry.select().count() < target:
                i = next(changes)
                if i % 2:
                    locations.change_location(store.manager, spare.id, f"Spare {i}")
                else:
                    role = "manager" if User.get_by_id(store.agent.id).role == "agent" else "agent"
                    accounts.change_role(store.admin, store.agent.id, role)
        for url in ("/merchant/audit", "/merchant/audit.csv"):
            with count_queries() as queries:
                response = client.get(url)
                body = response.get_data(as_text=True)
            assert response.status_code == 200
            counts.append(queries.count)
        assert len(entries(text(client.get("/merchant/audit")))) == target
        assert len(body.strip().splitlines()) == target + 1
    assert counts[:2] == counts[2:], counts
    print(f"audit page and CSV: {counts[:2]} queries with 2 and with 12 entries")

"""The staff pages' pickers (staff, reasons, locations) are cached per process, checked
against a counter that triggers raise on every change (portal.returns.pickers, migration
0015): a change made anywhere, even straight into the table, shows on the next page; the
signed-in user is read fresh every request, so a deactivation or a role change counts at once.
"""

import pytest

from portal.models import InventoryLocation, ReturnReason, User
from portal.returns import accounts, pickers
from tests import factories
from tests.apps import close_db
from tests.pages import login
from tests.querycount import count_queries


def _store(app):
    with app.app_context():
        store = factories.store()
        rma = factories.create_return(store.order, reason=store.changed_mind, status="received")
    close_db()
    return store, rma


def _page(app, client, path):
    with app.app_context(), count_queries() as queries:
        html = client.get(path).get_data(as_text=True)
    return html, queries.count


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_app(request):
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def test_changes_show_on_the_next_page_and_the_cache_saves_queries(any_db_app):
    app = any_db_app
    store, rma = _store(app)
    client = app.test_client()
    login(client, store.manager.email)
    detail = f"/merchant/returns/{rma.reference}"
    _, first = _page(app, client, detail)
    html, cached = _page(app, client, detail)
    assert cached == first - 3  # staff, locations and the policy came from the cache
    assert "Newcomer Nell" not in html
    with app.app_context():
        seen = pickers.current_generation()
        assert "BACK" not in {loc.code for loc in pickers.active_locations(seen)}
    with app.app_context():  # written straight to the tables, as a CLI or a script might
        factories.staff("agent", email="nell@example.com")
        User.update(name="Newcomer Nell").where(User.email == "nell@example.com").execute()
        InventoryLocation.create(code="BACK", name="Back room")
        ReturnReason.create(code="late", label="Arrived too late", position=99)
    close_db()
    html, _ = _page(app, client, detail)
    assert "Newcomer Nell" in html
    with app.app_context():
        assert pickers.current_generation() != seen
        assert "BACK" in {
            loc.code for loc in pickers.active_locations(pickers.current_generation())
        }
    queue, _ = _page(app, client, "/merchant/returns")
    assert "Arrived too late" in queue and "Newcomer Nell" in queue
    with app.app_context():
        InventoryLocation.update(active=False).where(InventoryLocation.code == "BACK").execute()
        User.update(active=False).where(User.email == "nell@example.com").execute()
    close_db()
    html, _ = _page(app, client, detail)
    assert "Newcomer Nell" not in html
    with app.app_context():
        assert "BACK" not in {
            loc.code for loc in pickers.active_locations(pickers.current_generation())
        }


def test_a_shopper_signing_up_does_not_empty_the_staff_cache(app):
    store, rma = _store(app)
    client = app.test_client()
    login(client, store.manager.email)
    detail = f"/merchant/returns/{rma.reference}"
    _page(app, client, detail)
    _, cached = _page(app, client, detail)
    with app.app_context():
        factories.user("new-shopper@example.com")
    close_db()
    assert _page(app, client, detail)[1] == cached


def test_a_deactivated_or_demoted_user_counts_on_their_next_request(app):
    store, rma = _store(app)
    client = app.test_client()
    login(client, store.manager.email)
    queue = "/merchant/returns"
    assert client.get(queue).status_code == 200
    with app.app_context():
        accounts.change_role(store.admin, store.manager.id, "agent")
    close_db()
    # An agent may read the queue but not the store's settings, from this very request on.
    assert client.get(queue).status_code == 200
    assert client.get("/merchant/settings/policy").status_code == 403
    with app.app_context():
        accounts.set_active(store.admin, store.manager.id, False)
    close_db()
    assert client.get(queue).status_code == 302  # signed out: to the sign-in page


def test_the_return_policy_is_kept_until_anything_changes_it(any_db_app):
    from portal.db import db
    from portal.models import ReturnPolicy

    with any_db_app.app_context():
        ReturnPolicy.delete().execute()
        assert pickers.return_policy().window_days == 30  # no row yet: the defaults
        ReturnPolicy.create(id=1, window_days=14)
        assert pickers.return_policy().window_days == 14
        generation = pickers.current_generation()
        with count_queries() as queries:
            assert pickers.return_policy(generation).window_days == 14
        assert queries.count == 0  # kept: the generation came with the user
        db.execute_sql('UPDATE "return_policy" SET "window_days" = 45')  # any writer
        assert pickers.current_generation() > generation
        assert pickers.return_policy(pickers.current_generation()).window_days == 45
        ReturnPolicy.delete().execute()
        assert pickers.return_policy().window_days == 30
    close_db()

"""The kept frame of every page (portal/page_frame.py, templates/_page_frame.html): each page
still carries its own session's CSRF token and signed-in address, the links of the user's role
and the page's language, and a changed store look at once, though the frame is rendered once
per language, role and look."""

import re

from portal.returns import store_look as look_domain
from tests import factories
from tests.apps import close_db
from tests.pages import login


def _tokens(html):
    return set(re.findall(r'csrf[-_]token" (?:type="hidden" )?(?:content|value)="([^"]+)"', html)
               + re.findall(r'"X-CSRFToken": "([^"]+)"', html))  # fmt: skip


def test_each_session_gets_its_own_token_address_and_links(csrf_app):
    app = csrf_app
    with app.app_context():
        shopper = factories.user("ann@example.com")
        other = factories.user("bob+<b>@example.com")
        manager = factories.user("meg@example.com", role="manager")
        agent = factories.user("al@example.com", role="agent")
    close_db()
    seen = {}
    for user in (shopper, other, manager, agent):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        (token,) = _tokens(page)
        data = {"email": user.email, "password": factories.PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 302
        path = "/orders" if user.role == "shopper" else "/merchant/returns"
        html = client.get(path).get_data(as_text=True)
        tokens = _tokens(html)
        assert len(tokens) == 1 and "\x00" not in html  # all four places, no mark left
        seen[user.email] = (tokens.pop(), html)
        # the page's token is this session's: signing out with it works
        assert client.post("/logout", data={"csrf_token": seen[user.email][0]}).status_code == 302
    assert len({token for token, _ in seen.values()}) == 4
    assert '<span class="visually-hidden">bob+&lt;b&gt;@example.com</span>' in seen[other.email][1]
    assert "ann@example.com" not in seen[other.email][1]
    shopper_html, manager_html, agent_html = (seen[u.email][1] for u in (shopper, manager, agent))
    assert ">My orders<" in shopper_html and "Returns queue" not in shopper_html
    assert ">Settings<" in manager_html and ">Staff<" not in manager_html
    assert ">Settings<" not in agent_html and ">Returns queue<" in agent_html


def test_the_language_and_a_new_look_show_on_the_next_page(app, client):
    with app.app_context():
        shopper = factories.user("ann@example.com")
        udo = factories.user("udo@example.com")
        udo.locale = "de"
        udo.save()
        admin = factories.user("ada@example.com", role="admin")
    close_db()
    german_client = app.test_client()
    login(german_client, "udo@example.com")
    login(client, shopper.email)
    english = client.get("/orders").get_data(as_text=True)
    german = german_client.get("/orders").get_data(as_text=True)
    assert "Sign out" in english and "Abmelden" in german and 'lang="de" selected' in german
    with app.app_context():
        look_domain.update_look(admin, name="Kite & Co", accent="#1d4ed8")
    close_db()
    with app.app_context():  # the look is kept per process for up to 30 seconds: forget it
        from portal import store_look

        store_look.forget()
    html = client.get("/orders").get_data(as_text=True)
    assert "· Kite &amp; Co</title>" in html and "Kite &amp; Co</a>" in html

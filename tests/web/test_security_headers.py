"""Every answer carries the security headers (issue 15): each rule of the app's URL map is
visited (GET, and POST where the rule takes it: refused by CSRF, so nothing changes) as a
visitor, a shopper, an agent, a manager and an admin, whatever the status (200, 302, 400, 403,
404, 405, 410...). HSTS and the https redirect only in production."""

import pytest

from portal.models import Return, ReturnPhoto
from portal.security_headers import CSP
from tests import factories
from tests.apps import close_db, make_app

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.fixture
def strict_app(tmp_path):
    """CSRF on, as in production (posts without a token are refused before any change)."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    close_db()


def placeholders(app, store, rma):
    """A value for each URL argument: real ones where the data has them."""
    return {
        "reference": rma.reference,
        "number": store.order.number,
        "refund_id": 1,
        "order_id": 1,
        "method_id": 1,
        "photo_id": 1,
        "extra_id": 1,
        "reason_id": store.changed_mind.id,
        "location_id": store.main.id,
        "user_id": store.agent.id,
        "message_id": 1,
        "version": 1,
        "endpoint_id": 1,
        "key_id": 1,
        "token": "not-a-real-token",
        "sku": "TEE-M",
        "filename": "portal.css",
        "change": None,  # the first of its any() choices
    }


def urls(app, values):
    out = []
    for rule in app.url_map.iter_rules():
        args = {}
        for name in rule.arguments:
            converter = rule._converters[name]
            if name == "change":
                args[name] = list(converter.items)[0] if hasattr(converter, "items") else "activate"
            else:
                args[name] = values[name]
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        out.append((rule, url))
    return out


def sign_in(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def check(response, where):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert csp == CSP, where
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, (where, name)
    assert "camera=()" in headers.get("Permissions-Policy", ""), where
    assert "Strict-Transport-Security" not in headers, where  # not outside production


def test_every_route_as_every_role_has_the_headers(strict_app):
    app = strict_app
    with app.app_context():
        store = factories.store()
        rma = factories.create_return(store.order, reason=store.changed_mind)
        users = {"visitor": None, "shopper": store.shopper, "agent": store.agent,
                 "manager": store.manager, "admin": store.admin}  # fmt: skip
        values = placeholders(app, store, Return.get_by_id(rma.id))
        assert ReturnPhoto.select().count() == 0  # photo 1 is a 404, on purpose
    close_db()
    routes = urls(app, values)
    assert len(routes) >= 60
    statuses = set()
    visited = 0
    for role, user in users.items():
        client = app.test_client()
        if user is not None:
            sign_in(client, user)
        for rule, url in routes:
            if rule.endpoint == "auth.logout":
                continue  # visited last, below (it ends the session)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method)
                check(response, f"{role} {method} {url} -> {response.status_code}")
                if rule.endpoint != "health.healthz":  # 503 here: no Redis in web tests
                    assert response.status_code < 500, f"{role} {method} {url}"
                    statuses.add(response.status_code)
                visited += 1
            if "GET" not in rule.methods:
                response = client.get(url)  # 405
                check(response, f"{role} GET {url} -> {response.status_code}")
                statuses.add(response.status_code)
        check(client.post("/logout"), f"{role} POST /logout")
    # Every kind of answer was seen, and none was a server error.
    assert {200, 302, 400, 404, 405} <= statuses, statuses
    assert not any(status >= 500 for status in statuses), statuses
    assert 403 in statuses and 410 in statuses
    print(
        f"security headers: {visited} requests over {len(routes)} rules, statuses {sorted(statuses)}"
    )


def test_production_adds_hsts_and_sends_plain_http_to_https(tmp_path):
    app = make_app(tmp_path, HSTS_SECONDS=31536000, FORCE_HTTPS=True)
    client = app.test_client()
    response = client.get("/login")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/login"
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.headers["Content-Security-Policy"] == CSP
    secure = client.get("/login", base_url="https://localhost")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # A load balancer's plain-http health check is answered, not redirected.
    assert client.get("/healthz").status_code in (200, 503)
    close_db()


def test_htmx_runs_without_inline_script_or_eval(client):
    """base.html carries no inline script; htmx's config turns off its injected styles and
    eval (the indicator CSS is in portal.css)."""
    html = client.get("/login").get_data(as_text=True)
    assert '"includeIndicatorStyles":false' in html and '"allowEval":false' in html
    scripts = html.count("<script")
    assert scripts == html.count("<script src=") == 1
    assert " style=" not in html and "hx-on" not in html
    css = client.get("/static/portal.css").get_data(as_text=True)
    assert ".htmx-indicator" in css

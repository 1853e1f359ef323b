"""Sign in and out: landing pages, refusals, open redirects, cookies, rate limit (in memory;
the limit kept in Redis is tests/workers/test_sign_in_limit.py), CSRF."""

import re

import pytest

from portal import config
from tests import factories
from tests.apps import make_app
from tests.pages import login, post_login, signed_in

WRONG = "That email and password don't match an active account."


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Sign in" in response.data
    assert b'name="email"' in response.data and b'name="password"' in response.data


def test_shopper_lands_on_orders(client, sam):
    response = post_login(client, "sam@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/orders"
    assert signed_in(client)
    assert client.get("/orders").status_code == 200


@pytest.mark.parametrize("role", ["agent", "manager", "admin"])
def test_staff_land_on_the_returns_queue(app, client, make, role):
    with app.app_context():
        make.staff(role, email=f"{role}@example.com")
    response = post_login(client, f"{role}@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/merchant/returns"


def test_signed_in_user_visiting_login_or_root_goes_home(client, sam):
    login(client, "sam@example.com")
    assert client.get("/login").headers["Location"] == "/orders"
    assert client.get("/").headers["Location"] == "/orders"


def test_anonymous_root_goes_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_email_is_case_insensitive_and_trimmed(client, sam):
    response = post_login(client, "  SAM@Example.COM ")
    assert response.status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("sam@example.com", "wrong-password-1"),
        ("nobody@example.com", "test-pass-1234"),
    ],
)
def test_wrong_credentials_are_refused_with_a_message(client, sam, email, password):
    response = post_login(client, email, password)
    assert response.status_code == 422
    assert WRONG in response.get_data(as_text=True).replace("&#39;", "'")
    assert not signed_in(client)
    assert client.get("/orders").status_code == 302


def test_inactive_user_is_refused(app, client, sam):
    with app.app_context():
        sam.active = False
        sam.save()
    response = post_login(client, "sam@example.com")
    assert response.status_code == 422
    assert WRONG in response.get_data(as_text=True).replace("&#39;", "'")
    assert not signed_in(client)


def test_deactivated_user_loses_an_open_session(app, client, sam):
    login(client, "sam@example.com")
    with app.app_context():
        sam.active = False
        sam.save()
    response = client.get("/orders")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_empty_form_is_refused_without_a_session(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert not signed_in(client)


def test_logout_is_post_only(client, sam):
    login(client, "sam@example.com")
    assert client.get("/logout").status_code == 405
    assert signed_in(client)
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not signed_in(client)
    assert client.get("/orders").status_code == 302


def test_next_is_followed_when_it_is_a_local_path(client, sam):
    response = post_login(client, "sam@example.com", next="/orders?page=2")
    assert response.headers["Location"] == "/orders?page=2"


OFFSITE_TARGETS = [
    "https://evil.example/",
    "//evil.example/",
    "http:/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "evil.example",
    "javascript:alert(1)",
    " /orders",
    "/\t/evil.example",
    "/orders\n",
]


def test_next_open_redirect_is_refused(app, client, sam):
    # One app for all targets: each round signs in with the target, then signs out.
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    for target in OFFSITE_TARGETS:
        response = post_login(client, "sam@example.com", next=target)
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/orders", target
        client.post("/logout")


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/orders?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/orders?page%3D2"


def test_htmx_request_gets_hx_redirect_instead_of_a_302(client):
    response = client.get("/orders", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def session_cookie(response):
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[0]


def test_session_cookie_is_httponly_samesite_lax_and_secure_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_DOTENV", str(tmp_path / "no.env"))  # ignore a developer's .env
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    defaults = config.load(str(tmp_path))
    assert defaults["SESSION_COOKIE_SECURE"] is True
    assert defaults["REMEMBER_COOKIE_SECURE"] is True
    # The app as it runs outside debug: the cookie flags from config.load(), not the test ones.
    app = make_app(
        tmp_path,
        SESSION_COOKIE_SECURE=defaults["SESSION_COOKIE_SECURE"],
        REMEMBER_COOKIE_SECURE=defaults["REMEMBER_COOKIE_SECURE"],
    )

    with app.app_context():
        factories.user("sam@example.com")
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": "sam@example.com", "password": "test-pass-1234", "remember": "y"},
        base_url="https://localhost",
    )
    assert response.status_code == 302
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie
    remember = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember=")]
    assert remember and all("Secure" in c and "HttpOnly" in c and "SameSite=Lax" in c
                            for c in remember)  # fmt: skip


def test_debug_mode_drops_secure_so_plain_http_works(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert config.load(str(tmp_path))["SESSION_COOKIE_SECURE"] is False


def test_session_cookie_flags_in_the_test_app(client, sam):
    cookie = session_cookie(post_login(client, "sam@example.com"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def csrf_token_from(html):
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, html[:2000]
    return match.group(1)


def test_csrf_post_without_token_is_refused(csrf_app):
    app = csrf_app

    with app.app_context():
        factories.user("sam@example.com")
    client = app.test_client()

    # Sign-in without the token: 400, no session.
    response = post_login(client, "sam@example.com")
    assert response.status_code == 400
    assert not signed_in(client)

    # With the token from the form it works.
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"email": "sam@example.com", "password": "test-pass-1234", "csrf_token": token},
    )
    assert response.status_code == 302
    assert signed_in(client)

    # Sign-out without the token: refused, still signed in.
    assert client.post("/logout").status_code == 400
    assert signed_in(client)
    # A wrong token too.
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert signed_in(client)
    # htmx sends the token in a header: accepted.
    page = client.get("/orders").get_data(as_text=True)
    response = client.post("/logout", headers={"X-CSRFToken": csrf_token_from(page)})
    assert response.status_code == 302
    assert not signed_in(client)


def test_passwords_are_hashed_with_scrypt_outside_the_test_suite(tmp_path, monkeypatch):
    from portal import config
    from portal.models import User

    monkeypatch.delenv("PASSWORD_HASH_METHOD", raising=False)
    method = config.load(str(tmp_path))["PASSWORD_HASH_METHOD"]
    from portal.models.accounts import DEFAULT_HASH_METHOD

    assert method == DEFAULT_HASH_METHOD == "scrypt:16384:8:5"  # OWASP's N=2^14, r=8, p=5
    user = User(email="x@example.com")
    user.set_password("correct horse battery", method)
    assert user.password_hash.startswith("scrypt:16384:8:5$")
    assert user.check_password("correct horse battery") and not user.check_password("nope")
    old = User(email="y@example.com")
    old.set_password("correct horse battery", "scrypt")  # werkzeug's default, made before
    assert old.password_hash.startswith("scrypt:32768:8:1$")
    assert old.check_password("correct horse battery") and not old.check_password("nope")


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_sign_in_limit_counts_per_client_only_behind_a_trusted_proxy(tmp_path, proxies):
    """Behind a proxy every request comes from its address: with TRUSTED_PROXIES=1 the limit
    counts per X-Forwarded-For client; without it the header is ignored, so a client can't
    dodge the limit by sending one."""
    app = make_app(tmp_path, LOGIN_RATE_LIMIT="2/minute", TRUSTED_PROXIES=proxies)
    with app.app_context():
        factories.user("sam@example.com")

    def attempt(client_address):
        return (
            app.test_client()
            .post(
                "/login",
                data={"email": "sam@example.com", "password": "wrong-password-1"},
                headers={"X-Forwarded-For": client_address},
            )
            .status_code
        )

    assert [attempt("203.0.113.7") for _ in range(3)] == [422, 422, 429]
    expected = 422 if proxies else 429
    assert attempt("198.51.100.20") == expected

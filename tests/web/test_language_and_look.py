"""Issue 16: the page's language (account, switch cookie, browser), money and dates for the
language, the reasons' German labels, and the store's look (name, logo, accent colour)."""

import io
import re

from PIL import Image

from portal.models import AuditEntry, ReturnReason, StoreLook, User
from portal.returns.store_look import accent_colour, contrast
from tests import factories
from tests.pages import login

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def title(response):
    return re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S).group(1)


def test_the_browser_language_picks_german_and_english_stays_the_default(app, client):
    page = client.get("/login", headers=GERMAN).get_data(as_text=True)
    assert '<html lang="de">' in page and "Zum Inhalt springen" in page
    english = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Skip to content" in english


def test_the_switch_sets_a_cookie_that_wins_over_the_browser(app, client):
    response = client.post("/language", data={"lang": "en"}, headers={
        **GERMAN, "Referer": "http://localhost/login?next=%2Faccount"})  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Faccount"
    assert "lang=en" in response.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get("/login", headers=GERMAN).get_data(as_text=True)
    # Another site as the Referer is never where it goes back to; a language we lack is refused.
    away = client.post("/language", data={"lang": "de"},
                       headers={"Referer": "http://evil.example/x"})  # fmt: skip
    assert away.headers["Location"] == "/"
    refused = client.post("/language", data={"lang": "xx"})
    assert refused.status_code == 303
    assert not any(c.startswith("lang=") for c in refused.headers.getlist("Set-Cookie"))


def test_a_signed_in_account_keeps_its_language(app, client):
    with app.app_context():
        shopper = factories.user("lang@example.com")
    # The first sign-in keeps the browser's language on the account...
    client.post("/login", data={"email": shopper.email, "password": factories.PASSWORD},
                headers=GERMAN)  # fmt: skip
    with app.app_context():
        assert User.get_by_id(shopper.id).locale == "de"
    # ...which then wins over an English browser, until the switch changes it.
    assert "Meine Bestellungen" in client.get("/orders").get_data(as_text=True)
    client.post("/language", data={"lang": "en"})
    with app.app_context():
        assert User.get_by_id(shopper.id).locale == "en"
    assert "My orders" in client.get("/orders", headers=GERMAN).get_data(as_text=True)


def test_money_and_dates_are_formatted_for_the_language(app):
    with app.test_request_context(headers=GERMAN):
        from portal import i18n

        assert i18n.money(123456, "EUR") == "1.234,56\xa0€"
        assert i18n.money(500, "JPY") == "500\xa0¥"
        import datetime

        assert i18n.date(datetime.date(2026, 12, 1)) == "01.12.2026"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert i18n.money(123456, "EUR") == "€1,234.56"
        assert i18n.date_time(datetime.datetime(2026, 12, 1, 14, 5)) == "01 Dec 2026, 14:05"


def test_dates_show_in_the_store_time_zone(app):
    import datetime

    from portal import i18n
    from portal.models import ReturnPolicy

    with app.app_context():
        ReturnPolicy.current()
        ReturnPolicy.update(timezone="Europe/Berlin").execute()
    with app.test_request_context(headers=GERMAN):
        i18n.forget_timezone()
        # 23:30 UTC on 1 December is 00:30 on 2 December in Berlin.
        assert i18n.date_time(datetime.datetime(2026, 12, 1, 23, 30)) == "02.12.2026, 00:30"


def test_staff_give_a_reason_its_german_label(app, client):
    with app.app_context():
        store = factories.store()
        reason = store.changed_mind
    login(client, store.manager.email)
    response = client.post(f"/merchant/settings/reasons/{reason.id}", data={
        f"reason{reason.id}-code": reason.code, f"reason{reason.id}-label": "Changed my mind",
        f"reason{reason.id}-label_de": "Meinung geändert", f"reason{reason.id}-position": "0",
    })  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    from portal import i18n

    with app.test_request_context(headers=GERMAN):
        assert i18n.reason_label(ReturnReason.get_by_id(reason.id)) == "Meinung geändert"
    with app.test_request_context():
        assert i18n.reason_label(ReturnReason.get_by_id(reason.id)) == "Changed my mind"


# --- the store's look ---------------------------------------------------------------------------


def test_the_accent_must_be_a_colour_white_text_can_be_read_on():
    assert accent_colour(" #0B5CAD ") == "#0b5cad" and accent_colour("05a") == "#0055aa"
    assert round(contrast("#ffffff", "#000000"), 2) == 21.0
    for bad, words in (("pink", "is not a colour"), ("#ffdd00", "needs at least 4.5:1"),
                       ("#777777", "contrast of 4.48:1")):  # fmt: skip
        try:
            accent_colour(bad)
        except Exception as exc:
            assert words in str(exc)
        else:
            raise AssertionError(bad)


def look_form(**fields):
    data = {"name": "Kiezladen", "accent": "#1d6b3a", **fields}
    return data


def test_an_admin_sets_the_name_logo_and_colour_used_on_every_page(app, client):
    with app.app_context():
        store = factories.store()
    login(client, store.admin.email)
    logo = io.BytesIO(factories.png(size=(1200, 300)))
    response = client.post("/merchant/settings/store", data=look_form(logo=(logo, "logo.png")),
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    page = client.get("/merchant/returns")
    assert title(page).endswith("· Kiezladen") and "Returns Portal" not in title(page)
    body = page.get_data(as_text=True)
    logo_url = re.search(r'src="(/store-logo/\d+)"', body).group(1)
    image = client.get(logo_url)
    assert image.mimetype == "image/png"
    assert max(Image.open(io.BytesIO(image.data)).size) == 600  # re-encoded, scaled down
    css = client.get(re.search(r'href="(/store.css[^"]*)"', body).group(1).replace("&amp;", "&"))
    assert css.mimetype == "text/css" and "--brand: #1d6b3a;" in css.get_data(as_text=True)
    assert "style=" not in body  # the CSP allows no inline style
    # A shopper's page and a visitor's page show the store's name too.
    assert title(factories_client(app, store.shopper.email).get("/orders")).endswith("Kiezladen")
    assert title(app.test_client().get("/login")).endswith("Kiezladen")
    with app.app_context():
        entry = AuditEntry.get(AuditEntry.action == "store.look_changed")
        assert entry.after["name"] == "Kiezladen" and entry.actor_id == store.admin.id


def factories_client(app, email):
    client = app.test_client()
    login(client, email)
    return client


def test_bad_colours_and_files_are_refused_and_change_nothing(app, client):
    with app.app_context():
        store = factories.store()
    login(client, store.admin.email)
    for data, words in (
        (look_form(accent="#ffd700"), "needs at least 4.5:1 (WCAG AA)"),
        (look_form(accent="blue-ish"), "is not a colour"),
        (look_form(name="  "), "Give the store a name."),
        (look_form(logo=(io.BytesIO(b"<svg onload=alert(1)>"), "logo.png")),
         "logo.png is not a photo we can read"),
    ):  # fmt: skip
        response = client.post("/merchant/settings/store", data=data,
                               content_type="multipart/form-data")  # fmt: skip
        assert response.status_code == 422, data
        assert words in response.get_data(as_text=True).replace("&#39;", "'"), words
    with app.app_context():
        look = StoreLook.current()
        assert (look.name, look.accent, look.logo) == ("Returns Portal", "#0b5cad", None)
        assert AuditEntry.select().where(AuditEntry.action == "store.look_changed").count() == 0


def test_only_admins_change_the_look(app, client):
    with app.app_context():
        store = factories.store()
    login(client, store.manager.email)
    assert client.get("/merchant/settings/store").status_code == 403
    assert client.post("/merchant/settings/store", data=look_form()).status_code == 403
    with app.app_context():
        assert StoreLook.current().name == "Returns Portal"


def test_emails_carry_the_stores_name_and_colour_in_the_recipients_language(app, client):
    """The worker renders an email for its recipient: the store's look instead of "Returns
    Portal", and the recipient account's language (force_locale), whatever the page's."""
    from flask_babel import force_locale

    from portal import i18n, mail

    with app.app_context():
        store = factories.store()
    login(client, store.admin.email)
    client.post("/merchant/settings/store", data=look_form(), content_type="multipart/form-data")
    with app.app_context():
        User.update(locale="de").where(User.id == store.shopper.id).execute()
        assert i18n.email_locale(store.shopper.email.upper()) == "de"
        assert i18n.email_locale("nobody@example.com", "de") == "de"  # a guest who asked in German
        assert i18n.email_locale("nobody@example.com") == "en"
        context = {"link": "http://x/y", "order_number": "1001", "valid_for": "24 hours"}
        with force_locale(i18n.email_locale(store.shopper.email)):
            subject, text, html = mail.render("guest_link", **context)
        assert subject == "Ihr Link zur Bestellung #1001"
        assert "Kiezladen" in html and "background:#1d6b3a" in html and "Returns Portal" not in html
        with force_locale("en"):
            subject, _, html = mail.render("guest_link", **context)
        assert subject == "Your link to order #1001" and '<html lang="en">' in html

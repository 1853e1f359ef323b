"""The portal's languages (flask-babel): English and German.

A page's language is the signed-in account's (My account), else the language switch's cookie,
else the browser's (Accept-Language), else English. Emails are written in the recipient's
language: the account's with that address, else that of the request that caused the email when
the recipient made it (a guest), else English (`email_locale`, used by the worker with
flask-babel's force_locale). Money and dates are formatted for the language, dates in the
store's time zone.

The catalogues are portal/translations/<lang>/LC_MESSAGES/messages.po; they are compiled to .mo
files under the instance folder when the app starts (only when a .po is newer), so no generated
file is committed. `make translations` extracts the strings and updates the .po files."""

import datetime
import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel.dates import get_month_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from flask import current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_timezone, get_translations
from flask_babel import format_datetime as babel_datetime
from flask_login import current_user

from portal.models import ReturnPolicy, User
from portal.outbox import messages
from portal.prebuilt import prebuilt_rows
from portal.returns import shopper_words
from portal.returns.accounts import LANGUAGES
from portal.returns.marks import N_, LongDate, Lowered, Money, Phrase, message_of
from portal.returns.money import ZERO_DECIMAL, format_money

CATALOGUES = Path(__file__).parent / "translations"
COOKIE = "lang"
NAMES = {"en": "English", "de": "Deutsch"}
# Date patterns per language (CLDR). English keeps the portal's "01 Dec 2026, 14:05".
DATE = {"en": "dd MMM yyyy", "de": "dd.MM.yyyy"}
DATETIME = {"en": "dd MMM yyyy, HH:mm", "de": "dd.MM.yyyy, HH:mm"}
TIMEZONE_TTL = 30  # seconds a process keeps the store's time zone before reading it again

babel = Babel()


def _timezone():
    return current_app.extensions.setdefault("store_timezone", {"value": "UTC", "at": 0.0})


def compile_catalogues(source=CATALOGUES, target=None):
    """Write <target>/<lang>/LC_MESSAGES/messages.mo from each .po newer than its .mo."""
    for po in sorted(Path(source).glob("*/LC_MESSAGES/messages.po")):
        mo = Path(target) / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:  # another process may compile at the same moment
            write_mo(out, catalog)
        os.replace(tmp, mo)


def _account_locale():
    user = current_user._get_current_object() if current_user else None
    return user.locale if user is not None and user.is_authenticated else None


def select_locale():
    if not has_request_context():  # an email rendered by the worker: force_locale decides
        return LANGUAGES[0]
    chosen = _account_locale() or request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


_LOCALE_OBJECTS = {code: Locale.parse(code) for code in LANGUAGES}


def _selected_page_locale():
    """select_locale() as the babel Locale flask-babel would parse it into (parsed once here)."""
    return _LOCALE_OBJECTS[select_locale()]


def store_timezone():
    """The store's time zone, read at most every TIMEZONE_TTL seconds per process."""
    cache = _timezone()
    if time.monotonic() - cache["at"] > TIMEZONE_TTL:
        policy = ReturnPolicy.select(ReturnPolicy.timezone).where(ReturnPolicy.id == 1).first()
        cache.update(value=(policy.timezone if policy else None) or "UTC", at=time.monotonic())
    return cache["value"]


def forget_timezone():
    _timezone()["at"] = 0.0


def _locale_of_address(email):
    return User.select(User.locale).where(User.email == email).limit(1)


def email_locale(to, payload_locale=None):
    """The language of an email to `to`: its account's, else the payload's, else English."""
    found = prebuilt_rows("email-locale", _locale_of_address, email=User.normalize_email(to))
    for locale in (found[0].locale if found else None, payload_locale):
        if locale in LANGUAGES:
            return locale
    return LANGUAGES[0]


def _lang():
    locale = _selected_locale() or get_locale()
    lang = _LANGS.get(locale)
    if lang is None:
        lang = _LANGS[locale] = str(locale or LANGUAGES[0]).split("_")[0]
    return lang


# --- The fast paths of what every page calls many times ------------------------------------------
# flask-babel looks the locale and its catalogue up anew on each call (~10 us a gettext, ~15 us a
# date): a page with a few dozen of them spent a fifth of its time there. These read the locale
# flask-babel has already chosen for this context (force_locale included) and keep each
# locale's catalogue per process, as flask-babel's own cache does; the date patterns the portal
# uses are formatted directly (tests/unit/test_i18n_fast.py holds them equal to babel's).

_LANGS = {}  # babel Locale -> "en", "de"
_CATALOGUES = {}  # babel Locale -> its Translations (flask-babel's, loaded once per process)


def _chosen(name):
    """What flask-babel chose for this context ("babel_locale", "babel_tzinfo"), or None
    before its first lookup."""
    state = g.get("_flask_babel") if g else None
    return getattr(state, name, None)


def _selected_locale():
    return _chosen("babel_locale")


def _store_zone():
    return _chosen("babel_tzinfo") or get_timezone()  # chosen once per context


def _page_translations():
    locale = _selected_locale()
    if locale is None:
        return get_translations()  # selects the locale for this context
    catalogue = _CATALOGUES.get(locale)
    if catalogue is None:
        catalogue = _CATALOGUES[locale] = get_translations()
    return catalogue


def page_translations():
    """This request's catalogue (flask-babel's Translations for the page's language)."""
    return _page_translations()


def template_gettext(message):
    return _page_translations().ugettext(message)


def template_ngettext(singular, plural, n):
    return _page_translations().ungettext(singular, plural, n)


_MONTHS = {"en": dict(get_month_names("abbreviated", locale="en").items())}
DATE_PARTS = {
    "en": lambda d: f"{d.day:02d} {_MONTHS['en'][d.month]} {d.year:04d}",
    "de": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d}",
}


def _store_time(value):
    """A stored (UTC) time in the store's zone, as flask-babel's format_datetime rebases it."""
    zone = _store_zone()
    return zone.normalize(_aware(value).astimezone(zone))


def page_language():
    """The language of this request's page ("en", "de")."""
    return _lang()


def money(cents, currency="USD"):
    """Cents formatted for the page's language: '$12.34' in English, '12,34 $' in German."""
    lang = _lang()
    if lang == "en":
        return format_money(cents, currency)
    digits = 0 if currency in ZERO_DECIMAL else 2
    return format_currency(Decimal(int(cents)).scaleb(-digits), currency, locale=lang)


def _aware(value):
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)  # stored times are UTC
    return value


def date_formatter():
    """date() for many values of one page: the language and the store's zone looked up once,
    the formatting of stored (UTC) times skipped when the store keeps UTC."""
    lang = _lang()
    parts = DATE_PARTS.get(lang)
    if parts is None:
        return date
    zone = _store_zone()
    utc = str(zone) in ("UTC", "Etc/UTC")

    def formatted(value):
        if not value:
            return ""
        if isinstance(value, datetime.datetime) and (value.tzinfo is not None or not utc):
            value = zone.normalize(_aware(value).astimezone(zone))
        return parts(value)

    return formatted


def date(value, fmt=None):
    if not value:
        return ""
    lang = _lang()
    if isinstance(value, datetime.datetime):
        value = _store_time(value)
    if lang in DATE_PARTS:
        return DATE_PARTS[lang](value)
    if isinstance(value, datetime.datetime):
        return babel_datetime(value, DATE.get(lang, DATE["en"]))
    from flask_babel import format_date

    return format_date(value, DATE.get(lang, DATE["en"]))


def moment(at, timezone="UTC"):
    """A time in the store's zone with the zone named (portal/returns/shopper_words.moment in
    English; babel's long format in other languages)."""
    if isinstance(at, str):  # an ISO time kept in an email's context
        at = datetime.datetime.fromisoformat(at)
    if _lang() == "en" or at is None:
        return shopper_words.moment(at, timezone)
    from babel.dates import format_datetime as format_at
    from babel.dates import get_timezone

    return format_at(_aware(at), "d. MMMM y, HH:mm zzz", tzinfo=get_timezone(timezone or "UTC"),
                     locale=_lang())  # fmt: skip


def long_date(value):
    """A day with its month in full: "1 December 2026", "1. Dezember 2026" (an ISO date too)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value)
    return _value(LongDate(value))


def date_time(value):
    if not value:
        return ""
    lang = _lang()
    if lang in DATE_PARTS:
        at = _store_time(value)
        return f"{DATE_PARTS[lang](at)}, {at.hour:02d}:{at.minute:02d}"
    return babel_datetime(_aware(value), DATETIME.get(lang, DATETIME["en"]))


def status_name(status):
    """A return's status in the shopper's words (portal/returns/shopper_words.py), translated."""
    return translated(shopper_words.STATUS.get(status, str(status or "").replace("_", " ")))


ORDER_STATUSES = {"placed": N_("Placed"), "shipped": N_("Shipped"),
                  "delivered": N_("Delivered"), "cancelled": N_("Cancelled")}  # fmt: skip
PAYMENT_METHODS = {"card": N_("Card"), "gift_card": N_("Gift card"),
                   "store_credit": N_("Store credit")}  # fmt: skip


def exchange_option(option, currency):
    """An exchange option in the page's language: 'L / White · 30,00 $ · 5 auf Lager'."""
    from flask_babel import gettext

    from portal.returns.catalogue import variant_name

    name = variant_name(option.variant, option.product, option.same_product)
    if option.in_stock:
        stock = gettext("%(count)s in stock", count=option.available)
    else:
        stock = gettext("out of stock")
    return f"{name} · {money(option.price.total, currency)} · {stock}"


def order_status(status):
    return translated(ORDER_STATUSES.get(status)) or str(status or "").capitalize()


def payment_method(method):
    return (
        translated(PAYMENT_METHODS.get(method)) or str(method or "").replace("_", " ").capitalize()
    )


def _value(value):
    """A Phrase's value in the page's language."""
    if isinstance(value, Phrase):
        return translated(value)
    if isinstance(value, Lowered):
        return translated(value.word).lower()
    if isinstance(value, Money):
        return money(value.cents, value.currency)
    if isinstance(value, LongDate):
        from babel.dates import format_date

        return format_date(value.day, "d. MMMM y" if _lang() == "de" else "d MMMM y",
                           locale=_lang())  # fmt: skip
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return date(value)
    return value


def translated(text):
    """A word or sentence the domain gave in English (marked N_ there), in the page's language:
    a Phrase with its values put in, formatted for the language."""
    if not text:
        return ""
    if isinstance(text, Phrase):
        if _lang() == "en":
            return str(text)
        return template_gettext(text.text) % {k: _value(v) for k, v in text.values.items()}
    return template_gettext(str(text))


def error_text(error):
    """A domain error's message in the page's language."""
    return translated(message_of(error))


def reason_label(reason):
    """A return reason's label in the page's language (the staff's German one when set)."""
    if reason is None:
        return ""
    if _lang() == "de" and getattr(reason, "label_de", ""):
        return reason.label_de
    return reason.label


def document_words():
    """How the PDF documents speak in the page's language (portal/returns/documents.py)."""
    from flask_babel import gettext

    from portal.returns.documents import Words

    return Words(gettext=gettext, money=money, when=date_time, day=date, reason=reason_label,
                 status=status_name)  # fmt: skip


def init_app(app):
    compiled = Path(app.instance_path) / "translations"
    compile_catalogues(CATALOGUES, compiled)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(compiled))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES[0])
    babel.init_app(app, locale_selector=_selected_page_locale, timezone_selector=store_timezone)
    app.jinja_env.install_gettext_callables(
        gettext=template_gettext, ngettext=template_ngettext, newstyle=True,
        pgettext=lambda c, s: _page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _page_translations().unpgettext(c, s, p, n),
    )  # fmt: skip
    app.add_template_filter(money, "money")
    app.add_template_filter(date, "date")
    app.add_template_filter(date_time, "datetime")
    app.add_template_filter(reason_label, "reason_label")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(translated, "translated")

    @app.before_request
    def _requester_language():
        # An email to the person making this request is written in their page's language.
        user = current_user._get_current_object()
        if user.is_authenticated and not user.is_staff:
            messages.requester_locale.set((user.email, _lang()))

    @app.context_processor
    def _languages():
        return {
            "languages": NAMES,
            "current_language": _lang(),
            "status_name": status_name,
            "order_status": order_status,
            "payment_method": payment_method,
            "exchange_option": exchange_option,
        }

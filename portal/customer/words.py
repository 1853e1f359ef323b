"""A page's fixed words, translated once per process and locale.

A template's `_("Status")` goes through Jinja's context call and the catalogue on every
render (a few µs each; the tracking page says some forty of them). `page_gettext()` gives a
`_` for one render that keeps each message's translation, made safe, per process and
locale, and fills in values as Jinja's newstyle gettext does (the translation trusted, the
values escaped: `Markup(translated) % values`). A template binds it over its content,
`{% with _ = page_gettext() %}…{% endwith %}`: its `_()` calls stay as they are for
pybabel, and read the same."""

import datetime

from flask_babel import get_locale
from markupsafe import Markup

from portal.i18n import (
    moment,
    money,
    page_language,
    page_translations,
    template_gettext,
    translated,
)
from portal.returns.eligibility import zone
from portal.returns.marks import Phrase
from portal.returns.money import format_money

# (locale, message) -> its translation as Markup; and formatted with no values. Shared by the
# process's threads.
_TEXTS, _PLAIN = {}, {}


def page_gettext():
    """`_(message, **values)` for this request's locale."""
    locale = str(get_locale())

    def gettext(message, **values):
        key = (locale, message)
        text = _TEXTS.get(key)
        if text is None:
            text = _TEXTS[key] = Markup(template_gettext(message))
        if values:
            return text % values
        plain = _PLAIN.get(key)
        if plain is None:
            plain = _PLAIN[key] = text % {}
        return plain

    return gettext


# The month names strftime("%B") gives (shopper_words.moment's English).
_MONTHS = [None] + [datetime.date(2000, month, 1).strftime("%B") for month in range(1, 13)]


def moment_formatter(timezone="UTC"):
    """portal.i18n.moment(at, timezone) for the times of one page: the language looked up once,
    each time formatted once, and English without strftime (tests/web/test_tracking_stencils.py
    holds it equal to i18n.moment)."""
    english, done = page_language() == "en", {}

    def formatted(at):
        text = done.get(at)
        if text is None:
            text = _english_moment(at, timezone) if english else None
            if text is None:
                text = moment(at, timezone)
            done[at] = text
        return text

    return formatted


def _english_moment(at, timezone):
    """shopper_words.moment(at, timezone) for a naive datetime, or None where it would take
    strftime's own way (an offset with seconds, a year before 1000)."""
    if type(at) is not datetime.datetime or at.tzinfo is not None or at.year < 1000:
        return None
    local = at.replace(tzinfo=datetime.UTC).astimezone(zone(timezone or "UTC"))
    offset = local.utcoffset()
    seconds = offset.days * 86400 + offset.seconds
    if offset.microseconds or seconds % 60:
        return None
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    offset = f"UTC{sign}{hours:02d}:{minutes:02d}"
    name = local.tzname() or offset
    text = f"{local.day} {_MONTHS[local.month]} {local.year}, {local.hour:02d}:{local.minute:02d} {name}"
    return text if name in (offset, "UTC") else f"{text} ({offset})"


def money_formatter():
    """portal.i18n.money for the amounts of one page, the language looked up once."""
    if page_language() == "en":
        return format_money  # what i18n.money says in English
    return money


def translated_formatter():
    """portal.i18n.translated for the words of one page: the language and its catalogue
    looked up once (a Phrase in another language goes through i18n.translated)."""
    english, catalogue = page_language() == "en", page_translations()

    def say(text):
        if not text:
            return ""
        if isinstance(text, Phrase):
            return str(text) if english else translated(text)
        return catalogue.ugettext(str(text))

    return say

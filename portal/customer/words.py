"""A page's fixed words, translated once per process and locale.

A template's `_("Status")` goes through Jinja's context call and the catalogue on every
render (a few µs each; the tracking page says some forty of them). `page_gettext()` gives a
`_` for one render that keeps each message's translation, made safe, per process and
locale, and fills in values as Jinja's newstyle gettext does (the translation trusted, the
values escaped: `Markup(translated) % values`). A template binds it over its content,
`{% with _ = page_gettext() %}…{% endwith %}`: its `_()` calls stay as they are for
pybabel, and read the same."""

from flask_babel import get_locale
from markupsafe import Markup

from portal.i18n import template_gettext

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

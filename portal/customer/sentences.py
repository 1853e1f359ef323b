"""The sentences a list page says once per row, translated once per page.

A template's `{% trans %}` looks its message up and formats it on every row (a few µs each, a
few dozen times on a list page); Sentences looks each message (each plural form) up once and
only fills in each row's values, with the same result: the translation is trusted, the
values are escaped (Jinja's newstyle gettext: `Markup(translated) % values`). Its calls are
named gettext and ngettext, so pybabel extracts their messages as it does the templates'."""

from markupsafe import Markup

from portal.i18n import template_gettext, template_ngettext
from portal.stencils import html_text


def _filled(text, values):
    return Markup(text % {key: html_text(value) for key, value in values.items()})


class Sentences:
    """One page's translated messages (in this request's language)."""

    def __init__(self):
        self._texts, self._forms = {}, {}

    def gettext(self, message, **values):
        text = self._texts.get(message)
        if text is None:
            text = self._texts[message] = template_gettext(message)
        return _filled(text, values)

    def ngettext(self, singular, plural, n, **values):
        key = (singular, plural, n)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = template_ngettext(singular, plural, n)
        values.setdefault("num", n)
        return _filled(text, values)

    def same_form(self, singular, plural, n):
        """The first count this page asked about that takes the same translation as `n` (the
        same plural form): a stencil (portal/stencils.py) rendered for it says the sentence
        as `n` would, its count filled in."""
        key = (singular, plural, n)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = template_ngettext(singular, plural, n)
        return self._forms.setdefault((singular, plural, text), n)

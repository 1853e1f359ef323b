"""Which count stands for a count's plural form on one page.

A row filled from a stencil (portal/stencils.py) says its sentences as the stencil was
rendered; where a sentence has plural forms (ngettext), the count it was rendered for is part
of the stencil's shape. PluralForms gives, for a count, the first count this page asked about
that takes the same translation, so a page renders one stencil per plural form, not per
count."""

from portal.i18n import template_ngettext


class PluralForms:
    """One page's plural forms (in this request's language)."""

    def __init__(self):
        self._texts, self._forms = {}, {}

    def same_form(self, singular, plural, n):
        """The first count asked about that takes the same translation as `n`."""
        key = (singular, plural, n)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = template_ngettext(singular, plural, n)
        return self._forms.setdefault((singular, plural, text), n)

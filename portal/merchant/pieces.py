"""HTML pieces rendered once and reused, per process and database: a form field of a form
built fresh for a page (no submitted data, no errors) renders the same for the same name,
data, language and picker generation, so a page's forms need not run WTForms' widgets on
every request. The slow path (a submitted form, with its errors) renders as before."""

from flask import get_template_attribute
from flask_babel import get_locale

from portal.db import db

MACROS = "merchant/_macros.html"
_MAX = 4096


def cached(key, make):
    """The piece cached under `key` (which names all it depends on), made on first use. Per
    database, like the pickers (portal.returns.pickers): a generation belongs to its database."""
    pieces = db.obj.__dict__.setdefault("_html_pieces", {})
    piece = pieces.get(key)
    if piece is None:
        if len(pieces) >= _MAX:
            pieces.clear()
        piece = pieces[key] = make()
    return piece


def is_fresh(f):
    """A field of a form built without submitted data (formdata=None), not validated."""
    return f.raw_data is None and not f.errors


class FieldPieces:
    """The `field` and `cell` macros of merchant/_macros.html, each fresh field's HTML cached
    by page, field name and type, data, arguments, language and picker generation (the
    choices of a select come from the pickers or the form class). Field names must be unique
    per form class on the page (the forms' prefixes are)."""

    def __init__(self, page, generation):
        self.page, self.generation = page, generation
        self.locale = str(get_locale())

    def _render(self, macro, f, args, kwargs):
        def render():
            return get_template_attribute(MACROS, macro)(f, *args, **kwargs)

        if self.generation is None or not is_fresh(f):
            return render()
        try:
            key = (self.page, macro, f.name, type(f).__name__, repr(f.data), args,
                   tuple(sorted(kwargs.items())), self.locale, self.generation)  # fmt: skip
            hash(key)
        except TypeError:
            return render()
        return cached(key, render)

    def field(self, f, label=None, **kwargs):
        return self._render("field", f, (label,), kwargs)

    def cell(self, f, label, **kwargs):
        return self._render("cell", f, (label,), kwargs)

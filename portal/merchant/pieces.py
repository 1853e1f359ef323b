"""HTML pieces rendered once and reused, per process and database: a form field of a form
built fresh for a page (no submitted data, no errors) renders the same for the same name,
data, language and picker generation, so a page's forms need not run WTForms' widgets on
every request. The slow path (a submitted form, with its errors) renders as before."""

from flask import current_app, get_template_attribute
from flask_babel import get_locale
from jinja2 import Undefined
from markupsafe import Markup, escape

from portal.db import db
from portal.sessions import csrf_token

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
        stand_in = isinstance(f, FreshField)

        def render():
            field = f.real() if stand_in else f
            return get_template_attribute(MACROS, macro)(field, *args, **kwargs)

        if self.generation is None or not (stand_in or is_fresh(f)):
            return render()
        try:
            what = f.key if stand_in else (f.name, type(f).__name__, repr(f.data))
            key = (self.page, macro, what, args, tuple(sorted(kwargs.items())), self.locale,
                   self.generation)  # fmt: skip
            hash(key)
        except TypeError:
            return render()
        return cached(key, render)

    def field(self, f, label=None, **kwargs):
        return self._render("field", f, (label,), kwargs)

    def cell(self, f, label, **kwargs):
        return self._render("cell", f, (label,), kwargs)


class _Version:
    def __init__(self, name, data):
        self.name, self.data = name, data


class FreshForm:
    """Stands in for an action form built without submitted data (formdata=None) from
    `data`, until something needs the WTForms form itself: its prefix, its version field and
    its fields' cached pieces (FieldPieces) come without building it. Anything else is the
    built form's (built once, on first need)."""

    def __init__(self, build, cls, prefix, version, data):
        self._build, self._form = build, None
        self._prefix = prefix + "-"
        self.version = _Version(self._prefix + "version", version)
        self.key = (cls.__module__, cls.__qualname__, prefix,
                    tuple(sorted((k, repr(v)) for k, v in data.items())))  # fmt: skip

    def real(self):
        if self._form is None:
            self._form = self._build()
        return self._form

    def __getattr__(self, name):  # a field (its stand-in), or what the built form has
        if name.startswith("_") or name in ("errors", "data", "meta"):
            return getattr(self.real(), name)
        return FreshField(self, name)

    def __getitem__(self, name):
        return FreshField(self, name)


class FreshField:
    """A field of a FreshForm: its cached pieces are keyed by the form's class, prefix and
    data and the field's name; anything else is the built field's."""

    def __init__(self, form, name):
        self._fresh_form, self._name = form, name
        self.key = (form.key, name)

    def real(self):
        return self._fresh_form.real()[self._name]

    def __getattr__(self, name):
        return getattr(self.real(), name)

    def __call__(self, *args, **kwargs):
        return self.real()(*args, **kwargs)

    def __html__(self):
        return self.real().__html__()

    def __str__(self):
        return str(self.real())


FORM_END = Markup("\n</form>")


def form_open(url, form, cls=""):
    """What the `action_form` macro of merchant/_macros.html writes before its body (its
    `hidden` fields included), for `{{ form_open(url, form, cls) }}body{{ form_end }}` in
    place of `{% call action_form(url, form, cls) %}body{% endcall %}`: the same HTML without
    two macro calls and a caller per form."""
    url, version = escape(url), current_app.jinja_env.getattr(form, "version")
    html = (
        f'<form method="post" action="{url}" hx-post="{url}" class="{escape(cls)}" novalidate>\n'
        f'  <input type="hidden" name="{escape(form._prefix)}csrf_token"'
        f' value="{escape(csrf_token())}">\n'
    )
    if not isinstance(version, Undefined):  # `form.version is defined`
        data = "" if version.data is None else version.data
        html += f'<input type="hidden" name="{escape(version.name)}" value="{escape(data)}">'
    return Markup(html + "\n  ")

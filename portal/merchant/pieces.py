"""HTML pieces rendered once and reused, per process and database: a form field of a form
built fresh for a page (no submitted data, no errors) renders the same for the same name,
data, language and picker generation, so a page's forms need not run WTForms' widgets on
every request. The slow path (a submitted form, with its errors) renders as before."""

from flask import current_app, get_template_attribute
from flask_babel import get_locale
from jinja2 import Undefined
from markupsafe import Markup, escape
from wtforms.fields import FieldList, FormField, IntegerField
from wtforms.fields.core import UnboundField
from wtforms.widgets import HiddenInput

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

    def __init__(self, build, cls, prefix, version, data, lists=()):
        self._build, self._form = build, None
        self._prefix = prefix + "-"
        self._lists = {name: _entries(cls, name, data.get(name) or []) for name in lists}
        self._class_key = (cls.__module__, cls.__qualname__, prefix)
        self.version = _Version(self._prefix + "version", version)
        self.key = (*self._class_key, tuple(sorted((k, repr(v)) for k, v in data.items())))

    def real(self):
        if self._form is None:
            self._form = self._build()
        return self._form

    def __getattr__(self, name):  # a field (its stand-in), or what the built form has
        if name.startswith("_") or name in ("errors", "data", "meta"):
            return getattr(self.real(), name)
        lists = self.__dict__.get("_lists") or {}
        if lists.get(name) is not None:  # a FieldList of sub-forms: its entries' stand-ins
            sub, entries = lists[name]
            return [FreshEntry(self, name, i, sub, entry) for i, entry in enumerate(entries)]
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
        if name.startswith("jinja_"):  # Jinja asks a callable for jinja_pass_arg: no field has
            raise AttributeError(name)
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
    return FormOpener()(url, form, cls)


class FormOpener:
    """form_open() for one render: the request's CSRF token taken once, when a form first
    needs it (as the macro's csrf_token() would make it)."""

    def __init__(self):
        self._token, self._getattr = None, current_app.jinja_env.getattr

    def __call__(self, url, form, cls=""):
        if self._token is None:
            self._token = escape(csrf_token())
        url, version = escape(url), self._getattr(form, "version")
        html = (
            f'<form method="post" action="{url}" hx-post="{url}" class="{escape(cls)}" novalidate>\n'
            f'  <input type="hidden" name="{escape(form._prefix)}csrf_token" value="{self._token}">\n'
        )
        if not isinstance(version, Undefined):  # `form.version is defined`
            data = "" if version.data is None else version.data
            html += f'<input type="hidden" name="{escape(version.name)}" value="{escape(data)}">'
        return Markup(html + "\n  ")


def _entries(cls, name, entries):
    """(the sub-form class, the entries' data) of `cls`'s FieldList of FormFields `name`
    made from `entries` (a list of dicts), as WTForms makes one entry per dict; None when the
    field is not that, or WTForms would refuse that many entries (then the real form's)."""
    unbound = getattr(cls, name, None)
    if not (isinstance(unbound, UnboundField) and unbound.field_class is FieldList):
        return None
    inner = unbound.args[0] if unbound.args else None
    if not (isinstance(inner, UnboundField) and inner.field_class is FormField) or not inner.args:
        return None
    limit = unbound.kwargs.get("max_entries")
    if unbound.kwargs.get("min_entries") or (limit and len(entries) > limit):
        return None
    if not all(isinstance(entry, dict) for entry in entries):
        return None
    return inner.args[0], list(entries)


class FreshEntry:
    """An entry (a sub-form) of a FreshForm's FieldList: its fields' stand-ins, each keyed by
    the form's class and prefix, the list, the entry's index, the field and the field's own
    data (not the other entries': the same line renders the same on any return's page)."""

    def __init__(self, form, list_name, index, sub, data):
        self._fresh_form, self._list, self._index = form, list_name, index
        self._sub, self._data = sub, data

    def real(self):
        return getattr(self._fresh_form.real(), self._list)[self._index]

    def __getattr__(self, name):
        if not name.startswith("_") and isinstance(getattr(self._sub, name, None), UnboundField):
            return FreshEntryField(self, name)
        return getattr(self.real(), name)

    def __getitem__(self, name):
        return self.__getattr__(name)


class FreshEntryField(FreshField):
    """A field of a FreshEntry. Its `data` without the form for an IntegerField given an int
    (WTForms keeps int(value)); rendered by itself (`row.line_id()`) its HTML is cached for a
    hidden input, which shows only its name, id and value."""

    def __init__(self, entry, name):
        self._entry, self._name = entry, name
        self._unbound = getattr(entry._sub, name)
        self.key = (entry._fresh_form._class_key, entry._list, entry._index, name,
                    repr(entry._data.get(name)))  # fmt: skip

    def real(self):
        return self._entry.real()[self._name]

    @property
    def data(self):
        value = self._entry._data.get(self._name)
        if self._unbound.field_class is IntegerField and type(value) is int:
            return value
        return self.real().data

    def __call__(self, *args, **kwargs):
        widget = self._unbound.kwargs.get("widget")
        if args or kwargs or not isinstance(widget, HiddenInput):
            return self.real()(*args, **kwargs)
        return cached(("entry-call", self.key), lambda: self.real()())

"""Rows of a list page rendered by filling a stencil: the row's template rendered once per
language and shape, with a mark in place of each value, and each row made by putting its
escaped values between the pieces.

A list page's rows are many small template outputs: each `{{ value }}` costs Jinja an escape,
a Markup and a join (~1 us), some three hundred a page on the order list. A stencil keeps the
row's HTML in its template (the one source of it) and does the same escaping as Jinja's
autoescape (tests/web/test_stencils.py holds the two equal). A template used as a stencil
may use its values only as output, never in a condition or a filter: what decides the row's
structure is its `shape`, passed as plain values and part of the key."""

import re
from types import SimpleNamespace

from flask import current_app, render_template
from markupsafe import Markup, escape

_MARK = re.compile("\x00(\\d+)\x00")
try:  # markupsafe.escape's own escaping of a plain string (in C), without making a Markup
    from markupsafe import _escape_inner as _escaped
except ImportError:  # pragma: no cover - another markupsafe: the same through its escape()

    def _escaped(text):
        return str(escape(text))


def html_text(value):
    """str(markupsafe.escape(value)), without making a Markup for a plain string."""
    if type(value) is str:
        return _escaped(value)
    if type(value) is int:
        return str(value)
    return str(escape(value))


class Stencil:
    """`template` (rendered with `row`: each of `fields` as a mark, the shape's names as
    themselves), filled per row."""

    def __init__(self, template, fields):
        self.template, self.fields = template, tuple(fields)

    def _pieces(self, shape):
        marks = {name: Markup(f"\x00{n}\x00") for n, name in enumerate(self.fields)}
        html = render_template(self.template, row=SimpleNamespace(**marks, **shape))
        parts = _MARK.split(html)
        return parts[0], list(zip((int(n) for n in parts[1::2]), parts[2::2], strict=True))

    def rows(self, rows):
        """Each of `rows`, (values in the order of `fields`, shape as a dict), filled."""
        from portal.i18n import page_language

        kept = current_app.extensions.setdefault("stencils", {})
        language, by_shape, out = page_language(), {}, []
        for values, shape in rows:
            shape_key = tuple(sorted(shape.items()))
            pieces = by_shape.get(shape_key)
            if pieces is None:
                key = (self.template, language, shape_key)
                pieces = kept.get(key)
                if pieces is None:
                    pieces = kept[key] = self._pieces(shape)
                by_shape[shape_key] = pieces
            first, rest = pieces
            html = [first]
            for n, after in rest:
                value = values[n]
                kind = type(value)
                if kind is str:
                    html.append(_escaped(value))
                elif kind is Markup:
                    html.append(value)
                else:
                    html.append(html_text(value))
                html.append(after)
            out.append(Markup("".join(html)))
        return out

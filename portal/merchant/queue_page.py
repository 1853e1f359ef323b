"""What the returns queue's page shows, made cheaply: the filter form's fields from pieces
rendered once per language, picker generation and value (not a WTForms form built and rendered
per request), the queue's links without url_for's per-call work, and each row's values ready
for a plain loop (a status cell rendered once per distinct status). Every piece comes from the
same macros (templates/merchant/_queue_parts.html) the slow path renders, so the HTML is the
same; tests/web/test_queue_page.py checks the fast paths against the slow ones."""

import datetime
import functools
from typing import NamedTuple
from urllib.parse import quote_plus

from flask import get_template_attribute
from flask_babel import get_locale
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from portal.merchant.forms import QueueFilterForm, choices, reason_choices
from portal.merchant.pieces import cached
from portal.paths import PathFor
from portal.returns import queue as returns_queue

PARTS = "merchant/_queue_parts.html"
FIELDS = ("q", "reason", "responsible", "date_from", "date_to", "sort")
TEXTS = ("q", "date_from", "date_to")  # the value goes into the piece as typed
SELECTS = ("reason", "responsible", "sort")
DEFAULTS = {"reason": "", "responsible": "", "sort": returns_queue.DEFAULT_SORT}
Q_MAX = 100  # QueueFilterForm.q's Length(max=...)
DATE_FORMAT = "%Y-%m-%d"  # DateField's
STAND_IN = "\x00value\x00"  # where a text field's value goes in its rendered piece

# Path segments and query strings exactly as werkzeug's routing quotes them
# (werkzeug.routing.converters.BaseConverter.to_url, werkzeug.urls._urlencode).
QUERY_SAFE = "!$'()*,/:;?@"


def new_form(formdata, staff, generation):
    """The filter form with this request's choices (reasons and staff are cached pickers)."""
    form = QueueFilterForm(formdata)
    form.reason.choices = choices([("", "Any reason")] + reason_choices(generation))
    form.responsible.choices = choices(
        [("", "Anyone"), ("me", "Me"), ("none", "Nobody")]
        + [(u.id, u.name or u.email) for u in staff]
    )
    return form


def rendered_fields(form):
    """{field name: its HTML} through the macro (the slow path, and how pieces are made)."""
    macro = get_template_attribute(PARTS, "filter_field")
    return {name: macro(form, name) for name in FIELDS}


def valid_values(args, staff, generation):
    """The filter values of `args` when the form would accept every one of them (then
    {field: raw value or None}), else None: the caller builds the WTForms form, which says
    what is wrong. Conservative: any doubt (a repeated argument) goes the slow way."""
    values = {}
    for name in FIELDS:
        given = args.getlist(name)
        if len(given) > 1:
            return None
        values[name] = given[0] if given else None
    q = values["q"]
    if q is not None and len(q) > Q_MAX and q.strip():  # Optional() lets a blank one through
        return None
    allowed = {
        "reason": cached(
            ("queue", "reason-values", generation), lambda: _reason_values(generation)
        ),
        "responsible": cached(
            ("queue", "responsible-values", generation),
            lambda: frozenset({"", "me", "none"} | {str(u.id) for u in staff}),
        ),
        "sort": returns_queue.SORTS,
    }
    for name in SELECTS:
        if values[name] is not None and values[name] not in allowed[name]:
            return None
    for name in ("date_from", "date_to"):
        if values[name] is not None and values[name].strip():
            try:
                datetime.datetime.strptime(values[name], DATE_FORMAT)
            except ValueError:
                return None
    return values


def _reason_values(generation):
    return frozenset({""} | {value for value, _ in reason_choices(generation)})


def data_of(values):
    """The form's data for accepted `values` (what WTForms would make of them)."""
    data = {"q": values["q"]}
    for name in SELECTS:
        data[name] = DEFAULTS[name] if values[name] is None else values[name]
    for name in ("date_from", "date_to"):
        raw = values[name]
        data[name] = (
            datetime.datetime.strptime(raw, DATE_FORMAT).date() if raw and raw.strip() else None
        )
    return data


def fast_fields(values, staff, generation):
    """{field name: HTML} for accepted `values`, from the cached pieces."""
    locale = str(get_locale())
    fields = {}
    for name in TEXTS:
        before, after = cached(("queue", locale, name), lambda name=name: _text_piece(name))
        fields[name] = before + (values[name] or "") + after
    for name in SELECTS:
        value = DEFAULTS[name] if values[name] is None else values[name]
        fields[name] = cached(
            ("queue", locale, generation, name, value),
            lambda name=name, value=value: _select_piece(name, value, staff, generation),
        )
    return fields


def _text_piece(name):
    """A text field's HTML split around its value (Markup halves: the value is escaped)."""
    form = new_form(MultiDict(), [], None)
    if name == "q":
        form.q.data = STAND_IN
    else:
        form[name].raw_data = [STAND_IN]
    html = rendered_fields(form)[name]
    before, stand_in, after = html.partition(STAND_IN)
    assert stand_in and STAND_IN not in after, html
    return type(html)(before), type(html)(after)


def _select_piece(name, value, staff, generation):
    form = new_form(MultiDict({name: value}), staff, generation)
    return rendered_fields(form)[name]


def sort_oob(form=None, value=None):
    """The sort select swapped out of band by an htmx response (see _queue_results.html)."""
    macro = get_template_attribute(PARTS, "sort_oob")
    if form is not None:
        return macro(form)
    return cached(
        ("queue", str(get_locale()), "sort-oob", value),
        lambda: macro(new_form(MultiDict({"sort": value}), [], None)),
    )


@functools.lru_cache(maxsize=4096)
def _quoted(text):
    return quote_plus(text, safe=QUERY_SAFE)


def queue_href(base, args):
    """url_for("merchant.queue", **args) given base = url_for("merchant.queue"): werkzeug's
    query string (urllib's urlencode with its safe characters), each part quoted once."""
    query = "&".join(
        _quoted(str(k)) + "=" + _quoted(str(v)) for k, v in args.items() if v is not None
    )
    return f"{base}?{query}" if query else base


_LINK = Markup(
    '\n<a href="{0}" hx-get="{0}" hx-target="#queue-results" hx-swap="outerHTML"'
    ' hx-push-url="true"\n   {1}{2}>{3}</a>'
)
_CURRENT = Markup('aria-current="page"')


def queue_links(base):
    """qlink(label, args, current, rel): a link of the queue to these filters that htmx
    follows in place (what the qlink macro of _queue_results.html rendered)."""

    def qlink(label, args, current=False, rel=None):
        rel_attribute = Markup(' rel="{}"').format(rel) if rel else ""
        return _LINK.format(queue_href(base, args), _CURRENT if current else "", rel_attribute,
                            label)  # fmt: skip

    return qlink


class ShownRow(NamedTuple):
    id: int
    reference: str
    href: str
    order_number: str
    order_href: str
    email: str
    status_cell: str
    created_at: datetime.datetime
    age: int
    received: int
    requested: int
    amount: int | None
    estimated: bool
    currency: str
    reasons: str
    responsible: str | None


def shown_rows(rows, at):
    """The queue's rows as the template prints them."""
    detail, order = PathFor("merchant.detail", key="reference"), PathFor("merchant.order")
    status_cell = get_template_attribute(PARTS, "status_cell")
    cells = {}
    shown = []
    for row in rows:
        failed, awaiting = row.refund_failed, row.awaiting_approval
        key = (row.kind, row.resolution, row.status, failed, awaiting)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = status_cell(*key)
        amount, kind = row.refund_amount
        received = requested = 0
        for qty, got, _ in row.lines:
            requested += qty
            received += got
        shown.append(
            ShownRow(
                row.id, row.reference, detail(row.reference), row.order_number,
                order(row.order_number), row.email, cell, row.created_at,
                row.age_days(at), received, requested, amount, kind == "estimated",
                row.currency, ", ".join(row.reasons), row.responsible_name,
            )
        )  # fmt: skip
    return shown

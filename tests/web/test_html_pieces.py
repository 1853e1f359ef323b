"""portal.merchant.pieces.FieldPieces: a fresh form's field (built without submitted data)
renders once per name, data, arguments, language and generation, exactly as the macro does;
a submitted field (with its errors) always goes through the macro."""

from flask import get_template_attribute
from flask_wtf import FlaskForm as Form
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from portal.merchant import forms as f
from portal.merchant.pieces import (
    FORM_END,
    FieldPieces,
    FormOpener,
    FreshForm,
    form_open,
    is_fresh,
)


def _macro(name):
    return get_template_attribute("merchant/_macros.html", name)


def test_fresh_fields_are_rendered_once_and_as_the_macro_does(app):
    with app.test_request_context("/"):
        pieces = FieldPieces("test", generation=1)
        for responsible in ("", "2", "3", "2"):
            form = f.AssignForm(formdata=None, prefix="assign", responsible=responsible)
            form.responsible.choices = f.choices([("", "Nobody"), (2, "Ann & Co"), (3, "Bo")])
            assert is_fresh(form.responsible)
            html = pieces.field(form.responsible)
            assert html == _macro("field")(form.responsible)
            assert f'selected value="{responsible}"' in html
        again = f.AssignForm(formdata=None, prefix="assign", responsible="2")
        again.responsible.choices = f.choices([("", "Nobody"), (2, "Ann & Co"), (3, "Bo")])
        assert pieces.field(again.responsible) is pieces.field(form.responsible)  # cached
        note = f.HoldForm(formdata=None, prefix="hold")
        assert pieces.field(note.note, rows=3) == _macro("field")(note.note, rows=3)
        assert pieces.cell(note.note, "Why") == _macro("cell")(note.note, "Why")
        assert pieces.field(note.note, label="Other") == _macro("field")(note.note, "Other")


def test_a_submitted_field_shows_its_own_value_and_errors(app):
    with app.test_request_context("/", method="POST"):
        pieces = FieldPieces("test", generation=1)
        fresh = f.NoteForm(formdata=None, prefix="note")
        pieces.field(fresh.text, rows=2)
        posted = f.NoteForm(
            formdata=MultiDict({"note-text": ""}), prefix="note", meta={"csrf": False}
        )
        posted.validate()
        assert not is_fresh(posted.text)
        html = pieces.field(posted.text, rows=2)
        assert html == _macro("field")(posted.text, rows=2)
        assert "Write the note first." in html and 'aria-invalid="true"' in html


def test_without_a_generation_nothing_is_cached(app):
    with app.test_request_context("/"):
        pieces = FieldPieces("test", generation=None)
        form = f.HoldForm(formdata=None, prefix="hold")
        first, second = pieces.field(form.note), pieces.field(form.note)
        assert first == second and first is not second


def test_action_forms_messages_in_the_pages_language_as_flask_wtf_gives_them(app):
    """ActionForm's WTForms messages come from a catalogue loaded once per process: the same
    words flask_wtf's own per-request loading gives, in each language."""
    from flask_wtf.i18n import translations as flask_wtf_translations

    for language, expected in (("en", "Not a valid choice."), ("de", None)):
        headers = {"Cookie": f"lang={language}"}
        with app.test_request_context("/", headers=headers):
            form = f.HoldForm(formdata=None, prefix="hold")
            ours = form.meta.get_translations(form)
            for message in ("Not a valid choice.", "This field is required."):
                assert ours.gettext(message) == flask_wtf_translations.gettext(message)
            words = ours.ngettext("Field must be at least %(min)d character long.",
                                  "Field must be at least %(min)d characters long.", 2)  # fmt: skip
            assert words == flask_wtf_translations.ngettext(
                "Field must be at least %(min)d character long.",
                "Field must be at least %(min)d characters long.",
                2,
            )
            if expected:
                assert ours.gettext("Not a valid choice.") == expected
            else:
                assert ours.gettext("Not a valid choice.") != "Not a valid choice."


def test_a_fresh_form_stand_in_renders_as_the_built_form(app):
    """FreshForm: the prefix, version and fields' pieces of an action form without building
    it; the same HTML as the built form's, and the built form for anything else."""
    from portal.merchant.pieces import FreshForm

    built = []

    def build():
        built.append(1)
        return f.HoldForm(formdata=None, prefix="hold", version=7)

    with app.test_request_context("/"):
        pieces = FieldPieces("test-fresh", generation=1)
        expected = _macro("field")(build().note, rows=2)
        built.clear()
        stand_in = FreshForm(build, f.HoldForm, "hold", 7, {})
        assert stand_in._prefix == "hold-" and stand_in.version.name == "hold-version"
        assert stand_in.version.data == 7
        assert pieces.field(stand_in.note, rows=2) == expected and built == [1]  # made once
        again = FreshForm(build, f.HoldForm, "hold", 8, {})
        assert pieces.field(again.note, rows=2) == expected and built == [1]  # from the cache
        assert again.note.name == "hold-note" and built == [1, 1]  # the built field's
        hidden = get_template_attribute("merchant/_macros.html", "hidden")
        assert hidden(stand_in) == hidden(build())  # version 7 both


def _action_form(url, form, cls, body):
    """The action_form macro around `body`, as `{% call %}` renders it."""
    return _macro("action_form")(url, form, cls, caller=lambda: body)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    url=st.text(min_size=0, max_size=20),
    cls=st.text(max_size=10),
    version=st.one_of(st.none(), st.integers(-5, 10**6)),
    prefix=st.sampled_from(["hold", "note", "a&b", 'x"y']),
)
def test_form_open_writes_what_action_form_does(app, url, cls, version, prefix):
    """form_open(...) + body + FORM_END == {% call action_form(...) %}body{% endcall %}, for
    forms with a version field (real or FreshForm) and without one."""
    body = Markup("\n  <button>Go &amp; see</button>\n  ")
    with app.test_request_context("/"):
        forms = [
            f.HoldForm(formdata=None, prefix=prefix, version=version),
            FreshForm(
                lambda: f.ActionForm(formdata=None, prefix=prefix, version=version),
                f.ActionForm,
                prefix,
                version,
                {},
            ),  # fmt: skip
            Form(prefix=prefix),  # no version field: `form.version is defined` is false
        ]
        opener = FormOpener()  # one per render: the token taken once
        for form in forms:
            ours = form_open(url, form, cls) + body + FORM_END
            assert ours == _action_form(url, form, cls, body)
            assert opener(url, form, cls) == form_open(url, form, cls)
        trusted = Markup("/a?b=1&amp;c")  # a URL already escaped is not escaped twice
        assert form_open(trusted, forms[0]) + body + FORM_END == _action_form(
            trusted, forms[0], "", body
        )


def test_shown_parts_pick_what_the_filters_did():
    from types import SimpleNamespace as NS

    from portal.merchant.detail import shown_parts

    lines = [
        NS(swap=None, damaged_quantity=0),
        NS(swap="s", damaged_quantity=2),
        NS(swap=None, damaged_quantity=0),
    ]
    rows = [(line, None) for line in lines]
    events = [
        NS(kind="carrier_in_transit"),
        NS(kind="note"),
        NS(kind="carrier_delivered"),
        NS(kind="note"),
    ]
    parts = shown_parts(rows, events)
    assert parts["swaps"] == [rows[1]] and parts["any_damaged"] is True
    assert parts["parcel_event"] is events[2]
    parts = shown_parts(rows[:1], events[1:2])
    assert parts == {"swaps": [], "any_damaged": False, "parcel_event": None}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(
        st.fixed_dictionaries(
            {"line_id": st.integers(1, 10**6)},
            optional={"decision": st.sampled_from(["accepted", "rejected", ""])},
        ),
        max_size=4,
    ),
    version=st.integers(0, 50),
)
def test_a_fresh_forms_list_entries_render_as_the_built_forms(app, lines, version):
    """FreshForm(..., lists=("lines",)): iterating `form.lines` gives one stand-in per entry
    whose fields (their data, `row.line_id()`, the cached `cell` pieces) equal the built
    form's, on a first render and from the cache."""
    data = {"lines": lines}

    def build():
        return f.InspectForm(formdata=None, prefix="inspect", version=version, **data)

    with app.test_request_context("/"):
        real = build()
        for _ in range(2):  # the second time from the cache
            pieces = FieldPieces("test-entries", generation=1)
            fresh = FreshForm(build, f.InspectForm, "inspect", version, data, lists=("lines",))
            rows = fresh.lines
            assert len(rows) == len(real.lines.entries)
            for row, real_row in zip(rows, real.lines, strict=True):
                assert row.line_id.data == real_row.line_id.data
                assert row.line_id() == real_row.line_id()
                assert row.decision.data == real_row.decision.data
                for name in ("decision", "note"):
                    label = f"{name}: a & b"
                    assert pieces.cell(row[name], label) == _macro("cell")(real_row[name], label)
                assert row.errors == real_row.errors == {}  # not a field: the built entry's
            assert form_open("/x", fresh) == form_open("/x", real)


def test_only_a_list_of_sub_forms_gets_entry_stand_ins(app):
    from portal.merchant.pieces import FreshField, _entries

    assert _entries(f.InspectForm, "lines", [{"line_id": 1}])[0] is f.InspectLineForm
    assert _entries(f.InspectForm, "version", []) is None  # not a FieldList
    assert _entries(f.InspectForm, "lines", [{"line_id": 1}] * 201) is None  # over max_entries
    with app.test_request_context("/"):
        fresh = FreshForm(lambda: f.HoldForm(formdata=None, prefix="hold"), f.HoldForm, "hold",
                          1, {}, lists=("note",))  # fmt: skip
        assert isinstance(fresh.note, FreshField)  # not a list: a plain field's stand-in


def test_a_fresh_lists_hidden_fields_render_in_a_template_without_the_form(app):
    """`{{ row.line_id() }}` in a template (Jinja asks the callable for jinja_pass_arg) and
    its cached cells need no built form once the pieces are cached."""
    data = {"lines": [{"line_id": 7, "decision": "accepted"}, {"line_id": 9}]}
    template = app.jinja_env.from_string(
        "{% for row in form.lines %}{{ row.line_id() }}{{ row.line_id.data }}"
        "{{ pieces.cell(row.decision, 'Decision') }}{% endfor %}"
    )

    def build():
        return f.InspectForm(formdata=None, prefix="inspect", version=1, **data)

    with app.test_request_context("/"):
        pieces = FieldPieces("test-template", generation=1)
        first = FreshForm(build, f.InspectForm, "inspect", 1, data, lists=("lines",))
        html = template.render(form=first, pieces=pieces)
        again = FreshForm(build, f.InspectForm, "inspect", 1, data, lists=("lines",))
        assert template.render(form=again, pieces=pieces) == html
        assert again._form is None  # all from the cache
        real = build()
        assert html == "".join(
            f"{row.line_id()}{row.line_id.data}{_macro('cell')(row.decision, 'Decision')}"
            for row in real.lines
        )

"""portal/stencils.py: a row filled from its stencil is what rendering its template with the
row's values gives (Jinja's autoescape), for any values, shapes and language (hypothesis);
html_text escapes as markupsafe does."""

from types import SimpleNamespace

from flask import render_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from portal.customer.orders import CARD
from portal.stencils import html_text

TEXT = st.text(alphabet=st.sampled_from("ab <>&\"'é#/:.0\x01"), max_size=10)
VALUE = st.one_of(TEXT, TEXT.map(Markup), st.integers(-5, 10**6), st.none())
SHAPE = st.fixed_dictionaries({"returnable": st.booleans(), "until": st.booleans(),
                                "lines_n": st.sampled_from([1, 2, 7]),
                                "count_n": st.sampled_from([0, 1, 3])})  # fmt: skip
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@SETTINGS
@given(value=st.one_of(VALUE, st.floats(allow_nan=False)))
def test_html_text_is_markupsafes_escape(value):
    assert html_text(value) == str(escape(value))


@SETTINGS
@given(rows=st.lists(st.tuples(st.lists(VALUE, min_size=10, max_size=10), SHAPE),
                     min_size=1, max_size=4),
       lang=st.sampled_from(["en", "de"]))  # fmt: skip
def test_an_order_card_is_its_templates_rendering(app, rows, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        filled = CARD.rows(rows)
        for html, (values, shape) in zip(filled, rows, strict=True):
            row = SimpleNamespace(**dict(zip(CARD.fields, values, strict=True)), **shape)
            assert html == render_template(CARD.template, row=row)
            assert isinstance(html, Markup)

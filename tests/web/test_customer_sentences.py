"""portal.customer.sentences.Sentences: what a template's {% trans %} renders (the translation
trusted, its values escaped, the plural form by the count), in English and German, for any
values (hypothesis), each message looked up once per instance."""

from flask import render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.customer.sentences import Sentences

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
texts = st.text(max_size=20) | st.sampled_from(["<b>&\"'", "07 May 2026", "100098160"])
languages = st.sampled_from(["en", "de"])


@SETTINGS
@given(number=texts, lang=languages)
def test_gettext_equals_trans(app, number, lang):  # the app is only read: shared by examples
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        say = Sentences()
        expected = render_template_string(
            "{% trans number=number %}Order #{{ number }}{% endtrans %}", number=number
        )
        assert say.gettext("Order #%(number)s", number=number) == expected
        assert say.gettext("Order #%(number)s", number=number) == expected  # looked up once


@SETTINGS
@given(day=texts, count=st.integers(min_value=0, max_value=30), lang=languages)
def test_ngettext_equals_trans_pluralize(app, day, count, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        say = Sentences()
        expected = render_template_string(
            "{% trans day=day, count=count %}Placed {{ day }} · {{ count }} item{% pluralize count %}"
            "Placed {{ day }} · {{ count }} items{% endtrans %}",
            day=day, count=count,
        )  # fmt: skip
        for _ in range(2):
            assert say.ngettext("Placed %(day)s · %(count)s item",
                                "Placed %(day)s · %(count)s items", count, day=day,
                                count=count) == expected  # fmt: skip


def test_same_form_gives_a_count_of_the_same_plural_form(app):
    from portal.customer.sentences import Sentences
    from portal.i18n import template_ngettext

    for lang in ("en", "de"):
        with app.test_request_context("/", headers={"Accept-Language": lang}):
            say = Sentences()
            forms = [say.same_form("%(count)s item", "%(count)s items", n) for n in (3, 1, 7, 1, 0)]
            assert forms == [3, 1, 3, 1, 3]  # 0 and 7 take the plural, as 3 did first
            for n, form in zip((3, 1, 7, 1, 0), forms, strict=True):
                assert template_ngettext("%(count)s item", "%(count)s items", form) == (
                    template_ngettext("%(count)s item", "%(count)s items", n)
                )

"""portal.customer.words.page_gettext: the same as a template's `_()` for every message of the
catalogue, in English and German, with and without values (escaped as Jinja escapes them),
from the first call and from the kept translation; and a template bound to it renders the
same as with the global `_`."""

import re

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import i18n
from portal.customer.words import page_gettext

PLACEHOLDER = re.compile(r"%\((\w+)\)[-+ #0-9.]*([a-z])")


def _messages():
    with (i18n.CATALOGUES / "de" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return [m.id for m in read_po(f) if m.id and isinstance(m.id, str)]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_message_as_the_templates_gettext(app, lang):
    template = "{{ _(message, **values) }}"
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        say = page_gettext()
        for message in _messages():
            found = PLACEHOLDER.findall(message)
            if any(kind not in "sd" for _name, kind in found):
                continue  # not a placeholder: "%(name)" before a word ("… 100 %(x) off")
            values = {name: 7 if kind == "d" else f"<{name}>&" for name, kind in found}
            try:
                expected = render_template_string(template, message=message, values=values)
            except (TypeError, ValueError) as exc:  # a "%" no template `_()` can say either
                with pytest.raises(type(exc)):
                    say(message, **values)
                continue
            for _ in range(2):  # the first call, then the kept translation
                assert say(message, **values) == expected, message


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(ref=st.text(max_size=20), lang=st.sampled_from(["en", "de"]))
def test_a_bound_template_renders_the_same(app, ref, lang):  # the app is only read
    body = ('{{ _("What happens next") }} {{ _("QR code of your return %(ref)s: show it at the '
            'drop-off point", ref=ref) }}')  # fmt: skip
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        bound = render_template_string("{% with _ = page_gettext() %}" + body + "{% endwith %}",
                                       ref=ref)  # fmt: skip
        assert bound == render_template_string(body, ref=ref)

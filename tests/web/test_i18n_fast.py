"""portal/i18n.py's fast paths give what flask-babel and babel give: the template gettext (the
locale flask-babel chose, force_locale included), and the date and date-time formats the portal
uses, in every language and store time zone (hypothesis)."""

import datetime

import pytest
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale, gettext, refresh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import i18n

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
MOMENTS = st.datetimes(min_value=datetime.datetime(100, 1, 2),
                       max_value=datetime.datetime(2200, 12, 31))  # fmt: skip


def _messages():
    with (i18n.CATALOGUES / "de" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return [m.id for m in read_po(f) if m.id and isinstance(m.id, str)]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_template_gettext_is_flask_babels(app, lang):
    messages = _messages()
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert [i18n.template_gettext(m) for m in messages] == [gettext(m) for m in messages]
        other = "en" if lang == "de" else "de"
        with force_locale(other):  # an email in the recipient's language, inside a request
            assert i18n.template_gettext("Sign out") == gettext("Sign out")
            assert i18n.page_language() == other
        assert i18n.template_gettext("Sign out") == gettext("Sign out")
        assert i18n.page_language() == lang


def test_templates_use_the_fast_gettext_and_switch_language(app):
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert render_template_string("{{ _('Sign out') }}") == "Abmelden"
        with force_locale("en"):
            assert render_template_string("{{ _('Sign out') }}") == "Sign out"
    with app.app_context():  # the worker: no request, English unless forced
        assert render_template_string("{{ _('Sign out') }}") == "Sign out"
        with force_locale("de"):
            assert render_template_string("{{ _('Sign out') }}") == "Abmelden"


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(moment=MOMENTS, zone=st.sampled_from(ZONES), lang=st.sampled_from(["en", "de"]))
def test_dates_are_babels(app, moment, zone, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        app.extensions["store_timezone"] = {"value": zone, "at": float("inf")}
        refresh()  # flask-babel keeps the zone per context
        aware = moment.replace(tzinfo=datetime.UTC)
        assert i18n.date(moment) == babel_datetime(aware, i18n.DATE[lang], tzinfo=zone,
                                                   locale=lang)  # fmt: skip
        assert i18n.date_time(moment) == babel_datetime(aware, i18n.DATETIME[lang],
                                                        tzinfo=zone, locale=lang)  # fmt: skip
        assert i18n.date(moment.date()) == babel_date(moment.date(), i18n.DATE[lang], locale=lang)
        formatted = i18n.date_formatter()
        assert formatted(moment) == i18n.date(moment) == formatted(aware)
        assert formatted(moment.date()) == i18n.date(moment.date())
        assert formatted(None) == ""
    app.extensions.pop("store_timezone")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_domains_words_are_flask_babels(app, lang):
    from portal.returns.marks import N_

    messages = _messages()
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert [i18n.translated(m) for m in messages] == [gettext(m) for m in messages]
        phrase = N_("%(count)s in stock", count=3)
        assert i18n.translated(phrase) == gettext("%(count)s in stock", count=3)
        with force_locale("en" if lang == "de" else "de"):
            assert i18n.translated("Sign out") == gettext("Sign out")

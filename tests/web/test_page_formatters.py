"""A page's formatters (portal/customer/words.py: the language looked up once per page) say
what portal.i18n's filters say: times (moment), amounts (money) and the domain's words and
sentences (translated), in English and German, for any value (hypothesis)."""

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import i18n
from portal.customer.words import moment_formatter, money_formatter, translated_formatter
from portal.returns import shopper_words, tracking
from portal.returns.marks import N_, Money

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
LANGUAGES = st.sampled_from(["en", "de"])


MOMENTS = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30)),
    st.datetimes(timezones=st.just(datetime.UTC)),
)
ZONES = st.sampled_from(["UTC", "", None, "Europe/Berlin", "America/St_Johns", "Asia/Kolkata",
                         "Africa/Monrovia", "Pacific/Chatham", "America/Sao_Paulo"])  # fmt: skip


@SETTINGS
@given(times=st.lists(MOMENTS, max_size=4), timezone=ZONES, lang=st.sampled_from(["en", "de"]))
def test_a_pages_moments_are_i18n_moment(app, times, timezone, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        formatted = moment_formatter(timezone)
        for at in times + times:
            assert formatted(at) == i18n.moment(at, timezone)


@SETTINGS
@given(amounts=st.lists(st.tuples(st.integers(-(10**9), 10**9),
                                  st.sampled_from(["USD", "EUR", "JPY", "GBP", "CHF", "XYZ"])),
                        max_size=4), lang=LANGUAGES)  # fmt: skip
def test_a_pages_amounts_are_i18n_money(app, amounts, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        money_of = money_formatter()
        for cents, currency in amounts:
            assert money_of(cents, currency) == i18n.money(cents, currency)


WORDS = [*shopper_words.STATUS.values(), *tracking.REFUND_WORDS.values(), "Store credit",
         "Refund to original payment", "not a word of the catalogue", "<b>&'"]  # fmt: skip
PHRASES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from([None, ""]),
    st.builds(
        lambda amount: N_("We refunded %(amount)s.", amount=Money(amount, "EUR")),
        st.integers(0, 10**6),
    ),  # fmt: skip
    st.builds(
        lambda day, days: N_(
            "The return window closed on %(day)s (%(days)s days from delivery).", day=day, days=days
        ),
        st.dates(),
        st.integers(0, 90),
    ),  # fmt: skip
    st.builds(
        lambda reason: N_("We couldn't accept this return: %(reason)s", reason=reason),
        st.text(max_size=5),
    ),  # fmt: skip
    st.just(N_("Final sale: this item can't be returned.")),
)


@SETTINGS
@given(texts=st.lists(PHRASES, max_size=5), lang=LANGUAGES)
def test_a_pages_words_are_i18n_translated(app, texts, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        say = translated_formatter()
        for text in texts + texts:
            assert say(text) == i18n.translated(text)

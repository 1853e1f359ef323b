"""N_(): marks a word the domain hands to the pages for the catalogue (`pybabel extract` finds
it); the web translates it in the reader's language (portal/i18n.py, the `translated` filter).
The domain itself stays in English and imports no Flask.

A sentence built with values is N_("... %(name)s ...", name=value): a Phrase, a str whose text
is the English sentence (staff pages, the API, logs and tests read it as before) and which
keeps its msgid and values, so the web can say it in the reader's language with the values put
in (dates, Money and nested Phrases are formatted for that language too)."""

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class Money:
    """An amount in a sentence: formatted for the reader's language by the web."""

    cents: int
    currency: str

    def __str__(self):
        from portal.returns.money import format_money

        return format_money(self.cents, self.currency)


@dataclass(frozen=True)
class LongDate:
    """A day in a sentence with its month's name in full ("1 December 2026")."""

    day: datetime.date

    def __str__(self):
        return f"{self.day.day} {self.day:%B %Y}"


@dataclass(frozen=True)
class Lowered:
    """A word (marked N_) in lower case inside a sentence: "a return that is approved"."""

    word: str

    def __str__(self):
        return self.word.lower()


def english(value):
    """A value as the English sentence shows it (a date: "1 Dec 2026")."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return f"{value.day} {value:%b %Y}"
    return str(value)


class Phrase(str):
    """An English sentence (the str) with its msgid (`text`) and `values`."""

    text: str
    values: dict

    def __new__(cls, text, values):
        self = super().__new__(cls, text % {k: english(v) for k, v in values.items()})
        self.text = text
        self.values = values
        return self

    def __reduce__(self):  # pickled (Celery, caches) as what it is
        return (Phrase, (self.text, self.values))


def N_(text, **values):
    return Phrase(text, values) if values else text


def message_of(error):
    """The message an exception was raised with, a Phrase when it was one."""
    return error.args[0] if error.args and isinstance(error.args[0], str) else str(error)

"""N_ phrases (portal/returns/marks.py): the English sentence is the str, so staff pages, the API
and logs read what they did; the msgid and values stay for the web to translate."""

import datetime
import pickle

from portal.returns.errors import Ineligible
from portal.returns.marks import N_, LongDate, Lowered, Money, Phrase, message_of


def test_a_phrase_is_its_english_sentence_and_keeps_its_parts():
    day = datetime.date(2026, 12, 1)
    phrase = N_("Closed on %(day)s (%(days)s days); %(amount)s; %(long)s; %(word)s.", day=day,
                days=30, amount=Money(1234, "EUR"), long=LongDate(day), word=Lowered("Approved"))  # fmt: skip
    assert phrase == "Closed on 1 Dec 2026 (30 days); €12.34; 1 December 2026; approved."
    assert isinstance(phrase, Phrase) and isinstance(phrase, str)
    assert phrase.text.startswith("Closed on %(day)s") and phrase.values["days"] == 30
    again = pickle.loads(pickle.dumps(phrase))
    assert again == phrase and again.text == phrase.text and again.values == phrase.values


def test_without_values_it_is_a_plain_word_and_errors_keep_the_phrase():
    assert type(N_("Requested")) is str
    phrase = N_("%(title)s: %(why)s", title="“Tee”", why=N_("Final sale."))
    assert phrase == "“Tee”: Final sale."
    error = Ineligible(phrase)
    assert str(error) == phrase and message_of(error) is phrase
    assert message_of(ValueError()) == ""

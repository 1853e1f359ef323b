"""N_(): marks a word the domain hands to the pages for the catalogue (`pybabel extract` finds
it); the web translates it in the reader's language (portal/i18n.py, the `translated` filter).
The domain itself stays in English and imports no Flask."""


def N_(text):
    return text

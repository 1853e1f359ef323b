"""The catalogues are up to date with the code (issue 16): the strings extracted now are the
ones in portal/translations/messages.pot, and German has a translation for every one of them.
When this fails, run `make translations` and translate the new entries in
portal/translations/de/LC_MESSAGES/messages.po (docs/translations.md)."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "portal" / "translations" / "messages.pot"
LANGUAGES = ("de",)


def _ids(catalog):
    return {m.id for m in catalog if m.id}


def _read(path, locale=None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _extract(out):
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "--no-location", "--ignore-dirs",
         ".* _* instance node_modules test-artifacts", "-o", str(out), "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    return _read(out)


def test_the_template_has_every_string_of_the_code(tmp_path):
    extracted, kept = _ids(_extract(tmp_path / "now.pot")), _ids(_read(POT))
    assert extracted - kept == set(), "new strings: run `make translations`"
    assert kept - extracted == set(), "strings no longer used: run `make translations`"


def test_every_language_translates_every_string():
    wanted = _ids(_read(POT))
    for lang in LANGUAGES:
        catalog = _read(POT.parent / lang / "LC_MESSAGES" / "messages.po", lang)
        assert _ids(catalog) == wanted, f"{lang}: run `make translations`"
        missing = sorted(m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                         if m.id and (not m.string or (isinstance(m.string, tuple)
                                                        and not all(m.string))))  # fmt: skip
        fuzzy = sorted(str(m.id) for m in catalog if m.id and m.fuzzy)
        assert missing == [], f"{lang}: untranslated: {missing[:10]}"
        assert fuzzy == [], f"{lang}: fuzzy (check and clear the flag): {fuzzy[:10]}"


def test_the_check_sees_a_new_string(tmp_path):
    """The extraction really reads the templates: a string added to one is found."""
    extracted = _ids(_extract(tmp_path / "now.pot"))
    assert "Change language" in extracted  # from templates/base.html
    assert "Store name" in extracted  # a lazy form label (portal/merchant/admin_forms.py)

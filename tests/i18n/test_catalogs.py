"""R11.1: the Korean and English catalogs are complete and sound, and no user-visible text is
left outside them (a scan of templates and Python, tests/i18n/scan.py)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

from tests.i18n import scan

LOCALE = scan.ROOT / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")

# Modules whose user-visible text is still English-only. Empty since issue 10 was finished; kept
# so that a module can only be added here knowingly (the test below fails when one is clean).
PENDING: set[str] = set()


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(LOCALE)))
def test_r11_1_catalog_has_no_fuzzy_entry_and_no_mismatched_placeholder(path: Path) -> None:
    catalog = polib.pofile(str(path))
    assert not catalog.fuzzy_entries(), [e.msgid for e in catalog.fuzzy_entries()]
    wrong = []
    for entry in catalog.translated_entries():
        wanted = placeholders(entry.msgid) | placeholders(entry.msgid_plural or "")
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        wrong += [(entry.msgid, text) for text in texts if text and placeholders(text) != wanted]
        if entry.msgid_plural:
            # A plural form may leave out the count it implies ("the first row"), nothing else.
            wrong = [
                (m, t) for m, t in wrong if not (placeholders(t) <= wanted and m == entry.msgid)
            ]
    assert not wrong


def test_r11_1_korean_catalog_is_complete() -> None:
    catalog = polib.pofile(str(LOCALE / "ko/LC_MESSAGES/django.po"))
    missing = [e.msgid for e in catalog.untranslated_entries()]
    assert not missing
    assert catalog.metadata["Plural-Forms"].startswith("nplurals=1;")


def test_r11_1_english_catalog_holds_every_message_of_the_korean_one() -> None:
    """Every msgid is the English text, so the English catalog may leave msgstr empty; it must
    still list every message (both catalogs come from the same `make messages`)."""
    korean = {(e.msgctxt, e.msgid) for e in polib.pofile(str(LOCALE / "ko/LC_MESSAGES/django.po"))}
    english = {(e.msgctxt, e.msgid) for e in polib.pofile(str(LOCALE / "en/LC_MESSAGES/django.po"))}
    assert korean == english


@pytest.mark.parametrize("path", scan.templates(), ids=lambda p: str(p.relative_to(scan.ROOT)))
def test_r11_1_no_template_text_outside_the_catalogs(path: Path) -> None:
    assert not list(scan.template_findings(path))


def test_r11_1_no_python_text_outside_the_catalogs() -> None:
    found = {
        str(path.relative_to(scan.ROOT)): list(scan.python_findings(path))
        for path in scan.python_modules()
    }
    unexpected = {name: hits for name, hits in found.items() if hits and name not in PENDING}
    assert not unexpected
    cleaned = sorted(name for name in PENDING if not found.get(name))
    assert not cleaned, f"translated now: strike them from PENDING: {cleaned}"


def test_the_scan_finds_text_outside_the_catalogs(tmp_path: Path) -> None:
    """The scan itself: it must catch what it is for, or the tests above prove nothing."""
    template = tmp_path / "page.html"
    template.write_text(
        '{% load i18n %}<h1>{% translate "Contacts" %}</h1><p>Hello there</p>'
        '<input type="submit" value="Save it"><img alt="A picture">'
        "{% blocktranslate %}Fine {{ x }}{% endblocktranslate %}<code>memberId</code>",
        encoding="utf-8",
    )
    assert list(scan.template_findings(template)) == ["A picture", "Save it", "Hello there"]
    module = tmp_path / "module.py"
    module.write_text(
        "from django.utils.translation import gettext as _\n"
        'raise ValidationError(f"bad {x}")\n'
        'raise ValidationError(_("fine"))\n'
        'messages.success(request, "Saved.")\n'
        'self.stdout.write(_("%(n)s done") % {"n": 1})\n'
        'field = forms.CharField(label="Name")\n',
        encoding="utf-8",
    )
    assert [hit.split(":")[0] for hit in scan.python_findings(module)] == [
        "line 2",
        "line 4",
        "line 6",
    ]


def test_r11_2_no_template_uses_the_english_only_pluralize_filter() -> None:
    """Django's ``|pluralize`` adds an English "s" in every language ("1 customers", "3 명s"):
    counts are written with ``{% blocktranslate count %}`` (or ngettext) instead."""
    found = [
        str(path.relative_to(scan.ROOT))
        for path in scan.templates()
        if "pluralize" in path.read_text(encoding="utf-8")
    ]
    assert not found

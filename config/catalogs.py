"""Compile the translation catalogs (``locale/*/LC_MESSAGES/*.po`` -> ``.mo``) with polib.

``make install`` and the test session run it, so a fresh clone and every test process (the
Celery worker included) read the current translations without GNU gettext's msgfmt installed.
A catalog is compiled only when its ``.po`` is newer than its ``.mo``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

PLURAL_FORMS = {"ko": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}


def header(language: str) -> str:
    """A catalog's header without dates or names, so two branches' catalogs merge cleanly."""
    return (
        f"# Contacts: the {language} catalog. `make messages` refreshes it from the code.\n"
        'msgid ""\n'
        'msgstr ""\n'
        '"Project-Id-Version: Contacts\\n"\n'
        f'"Language: {language}\\n"\n'
        '"MIME-Version: 1.0\\n"\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Content-Transfer-Encoding: 8bit\\n"\n'
        f'"Plural-Forms: {PLURAL_FORMS[language]}\\n"'
    )


def tidy_catalogs(locale_dir: Path = LOCALE_DIR) -> None:
    """Replace the header makemessages writes (dates, placeholders, fuzzy) by ``header()``."""
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        text = po_path.read_text(encoding="utf-8")
        _head, sep, body = text.partition("\n\n")
        tidy = header(po_path.parent.parent.name) + sep + body
        if tidy != text:
            po_path.write_text(tidy, encoding="utf-8")


def compile_catalogs(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile every stale catalog under ``locale_dir``; the ``.mo`` files written."""
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalog = polib.pofile(str(po_path))
        # Like msgfmt: fuzzy entries are not used (the catalog test refuses them anyway).
        for entry in catalog.fuzzy_entries():
            catalog.remove(entry)
        tmp = mo_path.with_suffix(".mo.tmp")
        catalog.save_as_mofile(str(tmp))
        tmp.replace(mo_path)  # atomic: a running process never reads half a file
        written.append(mo_path)
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["--tidy"]:
        tidy_catalogs()
    for path in compile_catalogs():
        print(f"compiled {path.relative_to(LOCALE_DIR.parent)}", file=sys.stderr)

"""Spreadsheet cells we write (exports, failure logs, templates): formula-injection safety.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading apostrophe, so a
spreadsheet shows it as text instead of running it (R2.15). A cell made only of a sign, digits,
spaces, dots, dashes and parentheses is left alone: with no letters it can name no function, cell
or DDE server, and it must stay re-importable as written, above all E.164 phone numbers
(``+821020203030``) and negative numbers (``-5``). The importer strips that apostrophe again
(importer.mapping), so neutralised text round-trips exactly.
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER_RE = re.compile(r"[+-]?[0-9][0-9 ().\-]*")


def neutralise(text: str) -> str:
    """Keep a spreadsheet from running ``text`` as a formula."""
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER_RE.fullmatch(text):
        return "'" + text
    return text

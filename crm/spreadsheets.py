"""Spreadsheet cells we write (exports, failure logs, templates): formula-injection safety.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading apostrophe, so a
spreadsheet shows it as text instead of evaluating it (R2.15). A spreadsheet evaluates more than
functions: ``-2-3`` becomes -5 and ``+82 10-2020-3030`` an error, so the only cells left alone
are single numbers, which a spreadsheet reads as themselves: ``-5``, ``-12.5`` and E.164 phone
numbers (``+821020203030``). The importer strips the apostrophe again (importer.mapping), so a
neutralised cell such as ``'+82 10-2020-3030`` re-imports as the number it was.
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SINGLE_NUMBER_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def neutralise(text: str) -> str:
    """Keep a spreadsheet from running ``text`` as a formula."""
    if text.startswith(FORMULA_TRIGGERS) and not _SINGLE_NUMBER_RE.fullmatch(text):
        return "'" + text
    return text

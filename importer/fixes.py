"""Column-wide fixes of failed cells (R2.16a): where one pattern explains many failures of a
mapped column, the fix is offered with its count and a few before/after samples, and applied
only when the manager accepts it.

Each fix is a pure function from a failed cell to the text a manager would have written in the
first place (``2025.05.04`` → ``2025-05-04``); a fixed cell counts only when the import's own
parser for its column (``Column.parse``: the key's type, the job's phone region, a consent
column's negation) refuses the cell and accepts the fix, so no fix re-implements parsing.

Finding fixes is one streaming pass (``FixFinder``: counts per column and fix, samples bounded)
and so is applying them (``RowFixer``, a row at a time): memory stays flat at any number of rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.values import InvalidValue, is_blank, parser_for
from crm.values.phones import has_country_code
from importer.mapping import PHONE_KEYS, UNSUBSCRIBE_KEYS, Column, Plan

SAMPLES = 5  # before/after pairs kept per offer
# One failed cell is fixed by hand in the grid; a pattern is worth a column-wide offer from two.
MIN_CELLS = 2

# --- Dates -------------------------------------------------------------------------------------
# Year first, always: 2025.05.04, 2025/05/04, Korean spreadsheets' "2025. 5. 4." and the compact
# 20250504. Day-first and month-first forms (04/05/2025) are left alone: which one a file means
# cannot be told from the cell. A datetime's time part is kept as written; the parser judges it.
_DATE_SEPARATED_RE = re.compile(
    r"(\d{4})\s*([./])\s*(\d{1,2})\s*\2\s*(\d{1,2})\.?(?:(?:\s+|T)(\S.*))?", re.ASCII
)
_DATE_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(?:\s+|T)(\S.*))?", re.ASCII)
# Eight digits are a date only in years a customer file holds; 12345678 is a number.
_COMPACT_YEARS = range(1900, 2100)


def fixed_date(text: str) -> tuple[str, str] | None:
    """(the form, ``YYYY-MM-DD`` plus the time as written) of a year-first date written with
    dots, slashes or no separator; None when the text is not one, or not a real date."""
    match = _DATE_SEPARATED_RE.fullmatch(text)
    if match:
        form = "date.dots" if match[2] == "." else "date.slashes"
        year, month, day, rest = match[1], match[3], match[4], match[5]
    else:
        match = _DATE_COMPACT_RE.fullmatch(text)
        if not match or int(match[1]) not in _COMPACT_YEARS:
            return None
        form = "date.compact"
        year, month, day, rest = match[1], match[2], match[3], match[4]
    try:
        day_text = date(int(year), int(month), int(day)).isoformat()
    except ValueError:  # 2025.13.45, 2025.02.30
        return None
    return form, f"{day_text} {rest}" if rest else day_text


# --- Numbers -----------------------------------------------------------------------------------
# A comma groups thousands only in groups of exactly three after the first (1,234,567 and
# 1,234.5); 1,2,3 or 12,34 is not a grouped number.
_GROUPED_RE = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
# What a column that writes decimals with a comma looks like: 12,5 or 1,2345 (not three digits
# after the comma), or dots grouping thousands (1.234.567, 1.234,5). In such a column 1,234 may
# well mean 1.234, so no thousands fix is offered for it (docs/decisions.md).
_DECIMAL_COMMA_RE = re.compile(
    r"[+-]?\d+,(?:\d{1,2}|\d{4,})|[+-]?\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?|[+-]?\d{1,3}(?:\.\d{3})+,\d+",
    re.ASCII,
)


def fixed_number(text: str) -> str | None:
    """The number without its thousands separators (``1,234,567`` → ``1234567``), or None."""
    if _GROUPED_RE.fullmatch(text):
        return text.replace(",", "")
    return None


def writes_decimal_comma(text: str) -> bool:
    """Whether a cell shows the decimal comma convention (``12,5``, ``1.234.567``)."""
    return _DECIMAL_COMMA_RE.fullmatch(text) is not None


# --- Booleans ----------------------------------------------------------------------------------
# Compared NFKC-normalised, case-folded, without spaces: a full-width Y, " o ", "아 니 오" are words.
# Yes/no words answer the column's own question: under 수신동의 (a consent column) "예" is consent,
# under 이메일 수신거부 it is an opt-out.
_YES_NO: Mapping[str, bool] = {
    **dict.fromkeys(("예", "네", "y", "yes", "true", "o", "○", "◯"), True),
    **dict.fromkeys(("아니오", "아니요", "아니", "n", "no", "false", "x", "×", "✕"), False),  # noqa: RUF001
}
# Consent words say what the customer chose whatever the column asks: "동의" is consent, so an
# unsubscribe key stores False for it, inverted column or not.
_CONSENT: Mapping[str, bool] = {
    **dict.fromkeys(("동의", "동의함", "수신동의"), True),
    **dict.fromkeys(("거부", "거부함", "수신거부", "비동의", "미동의", "동의안함"), False),
}


def _word(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def fixed_boolean(text: str, *, key: str, inverted: bool = False) -> tuple[str, str] | None:
    """(the form, ``true`` or ``false``) for 예/아니오, Y/N, O/X (``boolean.words``) and
    동의/거부 (``boolean.consent``); None for any other text.

    ``key`` and ``inverted`` say what the column stores: a consent word in an unsubscribe key
    becomes the word that stores the customer's choice after the column's own negation.
    """
    word = _word(text)
    answer = _YES_NO.get(word)
    if answer is not None:
        return "boolean.words", "true" if answer else "false"
    agreed = _CONSENT.get(word)
    if agreed is None:
        return None
    if key in UNSUBSCRIBE_KEYS:
        # Stored: unsubscribed = not agreed. A consent column (inverted) negates what it reads.
        stored = not agreed
        written = not stored if inverted else stored
    else:
        written = agreed
    return "boolean.consent", "true" if written else "false"


# --- Phones ------------------------------------------------------------------------------------
def fixed_phone(text: str, *, key: str, type: str, region: str | None) -> str | None:
    """The E.164 form of a phone number written without its country code, read in ``region``
    (the channel's country, R2.13a) by the import's own phone parser; None otherwise."""
    if region is None or has_country_code(text):
        return None
    try:
        return str(parser_for(key, type, region=region)(text))
    except InvalidValue:
        return None


# --- The fixes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fix:
    """One pattern: what it is called, which columns it serves, how it rewrites a cell."""

    id: str
    title: Promise
    applies: Callable[[Column], bool]


def _is_date(column: Column) -> bool:
    return column.type in ("date", "datetime")


def _is_number(column: Column) -> bool:
    return column.type == "number"


def _is_boolean(column: Column) -> bool:
    return column.type == "boolean" or column.key in UNSUBSCRIBE_KEYS


def _is_phone(column: Column) -> bool:
    return column.key in PHONE_KEYS


FIXES: Mapping[str, Fix] = {
    fix.id: fix
    for fix in (
        Fix("date.dots", _("Dates written with dots (2025.05.04)"), _is_date),
        Fix("date.slashes", _("Dates written with slashes (2025/05/04)"), _is_date),
        Fix("date.compact", _("Dates written without separators (20250504)"), _is_date),
        Fix("number.thousands", _("Numbers with thousands separators (1,234,567)"), _is_number),
        Fix("boolean.words", _("Yes and no written as 예/아니오, Y/N or O/X"), _is_boolean),
        Fix("boolean.consent", _("Consent written as 동의/거부"), _is_boolean),
        Fix(
            "phone.national",
            _("Phone numbers without a country code, read in the channel's country"),
            _is_phone,
        ),
    )
}


def _cell_text(value: object) -> str | None:
    """A failed cell as text: stored failed rows hold text; a reader's int (an XLSX number cell
    20250504, 1012345678) is the digits it shows."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def propose(column: Column, value: object, *, region: str | None) -> tuple[str, str] | None:
    """(fix id, fixed text) for one cell of ``column``, or None.

    Only a cell the column's parser refuses is fixed, and only into text that parser accepts.
    ``region`` is the channel's country (the phone fix reads numbers in it).
    """
    if is_blank(value):
        return None
    text = _cell_text(value)
    if text is None or _parses(column, value):
        return None
    found = _candidate(column, text, region)
    if found is None or not _parses(column, found[1]):
        return None
    return found


def _candidate(column: Column, text: str, region: str | None) -> tuple[str, str] | None:
    if _is_phone(column):
        phone = fixed_phone(text, key=column.key, type=column.type, region=region)
        return ("phone.national", phone) if phone else None
    if _is_boolean(column):
        return fixed_boolean(text, key=column.key, inverted=column.inverted)
    if _is_date(column):
        return fixed_date(text)
    if _is_number(column):
        number = fixed_number(text)
        return ("number.thousands", number) if number else None
    return None


def _parses(column: Column, value: object) -> bool:
    try:
        column.parse(value)
    except InvalidValue:
        return False
    return True


# --- Finding offers: one pass, bounded memory --------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sample:
    row: int
    before: str
    after: str


@dataclass
class Offer:
    """A fix the manager may accept for one column: how many cells it fixes, and a few of them."""

    fix: str
    key: str
    header: str
    count: int
    samples: list[Sample] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(FIXES[self.fix].title)

    def as_json(self) -> dict[str, Any]:
        """What a cache keeps of it: no text that depends on the language."""
        return {
            "fix": self.fix,
            "key": self.key,
            "header": self.header,
            "count": self.count,
            "samples": [[s.row, s.before, s.after] for s in self.samples],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Offer:
        return cls(
            fix=data["fix"],
            key=data["key"],
            header=data["header"],
            count=data["count"],
            samples=[Sample(row, before, after) for row, before, after in data["samples"]],
        )


class FixFinder:
    """Counts, over a stream of failed cells, the cells each fix would repair, per column."""

    def __init__(
        self, columns: Iterable[Column], *, region: str | None, samples: int = SAMPLES
    ) -> None:
        self.region = region
        self._samples_max = samples
        self._columns = {c.key: c for c in columns if any(f.applies(c) for f in FIXES.values())}
        self._counts: dict[tuple[str, str], int] = {}
        self._samples: dict[tuple[str, str], list[Sample]] = {}
        self._decimal_comma: set[str] = set()

    @property
    def keys(self) -> frozenset[str]:
        """The keys a fix may serve: other columns need not be looked at."""
        return frozenset(self._columns)

    def add(self, row: int, key: str, value: object) -> None:
        """One failed cell of row ``row`` in the column of ``key``."""
        column = self._columns.get(key)
        if column is None:
            return
        found = propose(column, value, region=self.region)
        if found is None:
            if (
                _is_number(column)
                and isinstance(value, str)
                and writes_decimal_comma(value.strip())
            ):
                self._decimal_comma.add(key)
            return
        fix, after = found
        slot = (key, fix)
        self._counts[slot] = self._counts.get(slot, 0) + 1
        samples = self._samples.setdefault(slot, [])
        if len(samples) < self._samples_max:
            samples.append(Sample(row, str(value).strip(), after))

    def add_row(self, row: int, cells: Sequence[object]) -> None:
        """Every cell of a failed row (in file column order) that a fix may serve."""
        for key, column in self._columns.items():
            if column.index < len(cells):
                self.add(row, key, cells[column.index])

    def offers(self, *, min_cells: int = MIN_CELLS) -> list[Offer]:
        """The fixes worth offering, most cells first."""
        out = [
            Offer(
                fix=fix,
                key=key,
                header=self._columns[key].header,
                count=count,
                samples=list(self._samples[(key, fix)]),
            )
            for (key, fix), count in self._counts.items()
            if count >= min_cells and not (fix == "number.thousands" and key in self._decimal_comma)
        ]
        order = list(FIXES)
        out.sort(key=lambda o: (-o.count, o.key, order.index(o.fix)))
        return out


def find_fixes(
    plan: Plan,
    rows: Iterable[tuple[int, Sequence[object]]],
    *,
    region: str | None,
    min_cells: int = MIN_CELLS,
) -> list[Offer]:
    """The offers for a stream of failed rows (row number, cells in file column order)."""
    finder = FixFinder(plan.columns, region=region)
    for number, cells in rows:
        finder.add_row(number, cells)
    return finder.offers(min_cells=min_cells)


# --- Applying accepted fixes: a row at a time --------------------------------------------------
class UnknownFix(ValueError):
    """An accepted fix that is not one, or not one for that column."""


class RowFixer:
    """Applies the fixes the manager accepted, (key, fix id) pairs, to failed rows."""

    def __init__(
        self, plan: Plan, accepted: Iterable[tuple[str, str]], *, region: str | None
    ) -> None:
        by_key = {c.key: c for c in plan.columns}
        self.region = region
        self._wanted: dict[str, set[str]] = {}
        for key, fix in accepted:
            column = by_key.get(key)
            if column is None or fix not in FIXES or not FIXES[fix].applies(column):
                raise UnknownFix(f"{fix!r} is not a fix of the column of {key!r}")
            self._wanted.setdefault(key, set()).add(fix)
        self._columns = [by_key[key] for key in self._wanted]

    def fix(self, cells: Sequence[object]) -> tuple[list[object], list[str]] | None:
        """The row's cells with every accepted fix applied and the keys changed, or None when no
        accepted fix changes the row."""
        out: list[object] | None = None
        changed: list[str] = []
        for column in self._columns:
            if column.index >= len(cells):
                continue
            found = propose(column, cells[column.index], region=self.region)
            if found is None or found[0] not in self._wanted[column.key]:
                continue
            if out is None:
                out = list(cells)
            out[column.index] = found[1]
            changed.append(column.key)
        return None if out is None else (out, changed)

    def fix_rows(
        self, rows: Iterable[tuple[int, Sequence[object]]]
    ) -> Iterator[tuple[int, list[object], list[str]]]:
        """(row number, fixed cells, keys changed) of every row an accepted fix changes."""
        for number, cells in rows:
            fixed = self.fix(cells)
            if fixed is not None:
                yield number, fixed[0], fixed[1]

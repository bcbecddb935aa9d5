"""The MAP stage: which file column feeds which profile key, and one row's cells → typed values.

A plan is built once per import from the headers, the manager's mapping and the channel's keys
(R2.8); ``RowMapper.map_rows`` then turns rows, a chunk at a time, into JSON-ready values or the
reasons they fail (R2.4, R2.13), without touching the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

from django.utils.translation import gettext

from crm.models import ProfileKey
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.spreadsheets import FORMULA_TRIGGERS
from crm.values import InvalidValue, Parser, parser_for, to_json
from crm.values.phones import has_country_code
from importer.reading import Row
from importer.vocabulary import INVERTIBLE_KEYS, split_inverted

UNSUBSCRIBE_KEYS = ("unsubscribeEmail", "unsubscribeTexting")

# A cell our failure logs neutralised against formula injection ('=…) reads back as it was.
_NEUTRALISED = frozenset("".join(FORMULA_TRIGGERS))


class MappingError(ValueError):
    """The mapping cannot run: every problem, each a sentence naming the column or key."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class _Empty:
    """An empty cell: distinct from a column the file does not have (R2.10, R2.11)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()


@dataclass(frozen=True, slots=True)
class Column:
    index: int  # position among the row's cells
    header: str
    key: str
    type: str
    parse: Parser
    field: str | None  # Customer attribute of a built-in key, None for a custom key
    inverted: bool = False  # a consent column filling an unsubscribe key (R2.8a)


@dataclass(frozen=True)
class Plan:
    kind: str  # "member" or "lead"
    identity: str  # "memberId", "email" or "mobileNumber"
    headers: tuple[str, ...]
    columns: tuple[Column, ...]  # identity column first (R2.8)
    # R2.13a: the country national phone numbers are read in; None refuses them.
    region: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    @property
    def columns_in_file_order(self) -> tuple[Column, ...]:
        return tuple(sorted(self.columns, key=lambda c: c.index))


def _negated(parse: Parser) -> Parser:
    """A consent column's parser: "yes, I agree" is ``False`` for an unsubscribe key."""

    def parse_consent(value: object) -> object:
        return not parse(value)

    return parse_consent


def build_plan(
    *,
    headers: Sequence[str],
    mapping: Mapping[str, str | None],
    keys: Mapping[str, ProfileKey],
    kind: str,
    identity: str,
    region: str | None = None,
) -> Plan:
    """Check a mapping (header → key, "" or None = don't import) against R2.1 and R2.8.

    Every header must be decided; a key is used by one column only; the identity key is mapped.
    ``region`` is the country national phone numbers are read in (R2.13a), None to refuse them.
    """
    problems: list[str] = []
    if kind not in ("member", "lead"):
        problems.append(
            gettext("unknown import kind %(kind)s: member or lead") % {"kind": repr(kind)}
        )
    expected_identity = "memberId" if kind == "member" else identity
    if kind == "lead" and identity not in ("email", "mobileNumber"):
        problems.append(
            gettext("a lead import is identified by email or mobileNumber, not %(identity)s")
            % {"identity": repr(identity)}
        )
    if kind == "member" and identity not in ("memberId", ""):
        problems.append(gettext("a member import is identified by memberId"))
    for header in mapping:
        if header not in headers:
            problems.append(
                gettext("the mapping names a column %(header)s the file does not have")
                % {"header": repr(header)}
            )
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for index, header in enumerate(headers):
        if header not in mapping:
            problems.append(
                gettext("column %(header)s is not mapped: map it to a profile key or skip it")
                % {"header": repr(header)}
            )
            continue
        if not mapping[header]:
            continue
        key, inverted = split_inverted(mapping[header] or "")
        if inverted and key not in INVERTIBLE_KEYS:
            problems.append(
                gettext(
                    "column %(header)s: only %(keys)s can be filled inverted (from a consent column)"
                )
                % {"header": repr(header), "keys": " and ".join(INVERTIBLE_KEYS)}
            )
            continue
        profile_key = keys.get(key)
        if profile_key is None:
            problems.append(
                gettext("column %(header)s: the channel has no profile key %(key)s")
                % {"header": repr(header), "key": repr(key)}
            )
            continue
        if key in seen:
            problems.append(
                gettext(
                    "profile key %(key)s is mapped to two columns (%(first)s and %(second)s):"
                    " a key may be used by one column only"
                )
                % {"key": repr(key), "first": repr(seen[key]), "second": repr(header)}
            )
            continue
        if key == "memberId" and kind == "lead":
            problems.append(
                gettext(
                    "column %(header)s: a lead import cannot set memberId (one file never mixes"
                    " members and leads; use a member import)"
                )
                % {"header": repr(header)}
            )
            continue
        seen[key] = header
        parse = parser_for(key, profile_key.type, region=region)
        columns.append(
            Column(
                index=index,
                header=header,
                key=key,
                type=profile_key.type,
                parse=_negated(parse) if inverted else parse,
                field=BUILTIN_FIELDS.get(key),
                inverted=inverted,
            )
        )
    if expected_identity and expected_identity not in seen and not problems:
        problems.append(
            gettext("the identity key %(key)s must be mapped to a column")
            % {"key": repr(expected_identity)}
        )
    if problems:
        raise MappingError(problems)
    columns.sort(key=lambda c: (c.key != expected_identity, c.index))
    return Plan(
        kind=kind,
        identity=expected_identity,
        headers=tuple(headers),
        columns=tuple(columns),
        region=region or None,
    )


@dataclass(slots=True)
class MappedRow:
    number: int
    cells: tuple[object, ...]
    identity: object  # the parsed identity value, None when the row failed on it
    values: dict[str, object]  # key -> JSON-ready value, or EMPTY
    errors: list[tuple[str, str]]  # (key, reason)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Failed:
    """A cell that did not parse: the reason, kept apart from every possible value."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


_MISS = object()


def parse_cell(parse: Parser, type: str, raw: object) -> object:
    """One cell through its column's parser: its JSON-ready value, or EMPTY for an empty cell;
    raises InvalidValue. What the import does to every cell, and the grid to an edited one."""
    if raw is None:
        return EMPTY
    if raw.__class__ is str:
        if not raw or raw.isspace():  # type: ignore[attr-defined]
            return EMPTY
        if raw[0] == "'" and raw[1:2] in _NEUTRALISED:  # type: ignore[index]
            raw = raw[1:]  # type: ignore[index]  # a cell our failure logs neutralised
    return to_json(type, parse(raw))


class _Converter:
    """One column's cleaning, parse and ``to_json``, a whole chunk's cells at a time.

    Customer files repeat values a lot (grades, segments, flags, dates, interest lists, empty
    cells), so a column answers a repeated cell from memory; a column whose values rarely repeat
    (emails, memos) stops remembering after a sample, so memory stays flat. Values are shared
    between rows and must not be mutated. Only text cells are remembered (an XLSX ``True`` and
    ``1`` are equal as dictionary keys but not as cells); failures are never remembered.
    """

    __slots__ = ("cache", "hits", "misses", "parse", "type")

    _SAMPLE = 2048  # misses before deciding whether the column repeats
    _MIN_HIT_RATE = 0.25
    _MAX_ENTRIES = 50_000

    def __init__(self, parse: Parser, type: str) -> None:
        self.parse = parse
        self.type = type
        self.cache: dict[str, object] | None = {}
        self.hits = 0
        self.misses = 0

    def column(self, raws: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        """Every cell's value (EMPTY for an empty cell) and, by position, why a cell failed."""
        failed: dict[int, str] = {}
        parse, type_ = self.parse, self.type
        cache = self.cache
        if cache is None:
            out: list[object] = []
            append = out.append
            for i, raw in enumerate(raws):
                try:
                    append(parse_cell(parse, type_, raw))
                except InvalidValue as exc:
                    append(None)
                    failed[i] = exc.reason
            return out, failed
        get = cache.get
        out = [get(raw, _MISS) for raw in raws]  # type: ignore[call-overload]
        misses = 0
        for i, value in enumerate(out):
            if value is not _MISS:
                continue
            raw = raws[i]
            value = get(raw, _MISS)  # type: ignore[call-overload]
            if value is not _MISS:  # first met earlier in this chunk
                out[i] = value
                continue
            misses += 1
            try:
                out[i] = value = parse_cell(parse, type_, raw)
            except InvalidValue as exc:
                out[i] = None
                failed[i] = exc.reason
                continue
            if raw.__class__ is str and len(cache) < self._MAX_ENTRIES:
                cache[raw] = value  # type: ignore[index]
        self.misses += misses
        self.hits += len(raws) - misses
        if self.misses >= self._SAMPLE and self.hits < self._MIN_HIT_RATE * (
            self.hits + self.misses
        ):
            self.cache = None  # a column of unique values: memory for nothing
        return out, failed


PHONE_KEYS = frozenset({"mobileNumber", "landlineNumber"})
NATIONAL_SAMPLES = 5


class RowMapper:
    """Turns rows into typed values with the plan's parsers; a failing cell fails its row.

    Rows are mapped a chunk at a time, column by column: each column's cells go through its
    converter in one loop, which is what makes millions of cells affordable.

    With a region (R2.13a) it counts the phone cells read as national numbers, and keeps a few
    samples (cell as written, number stored) for the check to show.
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.national = 0
        self.national_samples: list[tuple[str, str]] = []
        self._identity_key = plan.identity
        assert plan.columns and plan.columns[0].key == plan.identity, "identity column first"
        self._columns = tuple(
            (c.index, c.key, _Converter(c.parse, c.type), c.header) for c in plan.columns
        )
        self._keys = tuple(c.key for c in plan.columns)
        self._width = max(c.index for c in plan.columns) + 1

    def map(self, number: int, cells: Sequence[object], error: str | None = None) -> MappedRow:
        """One row (the chunked ``map_rows`` is the fast way)."""
        return self.map_chunk([Row(number, tuple(cells), error)])[0]

    def map_rows(self, rows: Iterable[Row], size: int) -> Iterator[list[MappedRow]]:
        """Rows read from a table, mapped in chunks of ``size``."""
        rows = iter(rows)
        while chunk := list(islice(rows, size)):
            yield self.map_chunk(chunk)

    def map_chunk(self, rows: Sequence[Row]) -> list[MappedRow]:
        if not rows:
            return []
        width = self._width
        cells_of = [r.cells for r in rows]
        if all(len(c) >= width for c in cells_of):
            by_column = list(zip(*cells_of, strict=False))
        else:  # short rows (their reader error fails them; XLSX pads): missing cells are None
            by_column = [
                tuple(c[i] if i < len(c) else None for c in cells_of) for i in range(width)
            ]
        values_by_column = []
        errors: dict[int, list[tuple[str, str]]] = {}
        cell_failed = ""  # the sentence, in the job's language, once per chunk with a failure
        for index, key, convert, header in self._columns:
            converted, failed = convert.column(by_column[index])
            values_by_column.append(converted)
            if key in PHONE_KEYS and self.plan.region is not None:
                self._count_national(by_column[index], converted)
            if failed and not cell_failed:
                cell_failed = gettext("%(key)s (column %(header)s): %(reason)s")
            for i, reason in failed.items():
                errors.setdefault(i, []).append(
                    (key, cell_failed % {"key": key, "header": repr(header), "reason": reason})
                )
        keys = self._keys
        out = []
        for i, (row, values) in enumerate(
            zip(rows, zip(*values_by_column, strict=True), strict=True)
        ):  # values: the row's, in the plan's key order
            if row.error is not None:
                out.append(MappedRow(row.number, row.cells, None, {}, [("", row.error)]))
                continue
            row_errors = errors.get(i)
            if row_errors is None and values[0] is not EMPTY:
                out.append(
                    MappedRow(
                        row.number, row.cells, values[0], dict(zip(keys, values, strict=True)), []
                    )
                )
            else:
                out.append(self._failed(row, values, row_errors or []))
        return out

    def _count_national(self, raws: Sequence[object], values: Sequence[object]) -> None:
        for raw, value in zip(raws, values, strict=True):
            if value is None or value is EMPTY:
                continue
            if raw.__class__ is str and raw.startswith("'"):  # type: ignore[attr-defined]
                raw = raw[1:]  # type: ignore[index]  # neutralised by a failure log
            if has_country_code(raw):
                continue
            self.national += 1
            if len(self.national_samples) < NATIONAL_SAMPLES:
                self.national_samples.append((str(raw).strip(), str(value)))

    def _failed(
        self, row: Row, values: Sequence[object], errors: list[tuple[str, str]]
    ) -> MappedRow:
        """A row with a failed cell or no identity: the values that parsed, and every reason."""
        key = self._identity_key
        failed = {k for k, _ in errors}
        kept = {k: v for k, v in zip(self._keys, values, strict=True) if k not in failed}
        identity = kept.get(key, EMPTY)
        if identity is EMPTY:
            identity = None
            if key not in failed:
                errors.insert(
                    0,
                    (key, _identity_empty(self.plan.kind, key)),
                )
        return MappedRow(row.number, row.cells, identity, kept, errors)


def _identity_empty(kind: str, key: str) -> str:
    if kind == "member":
        message = gettext("%(key)s is empty: every row of a member import needs its %(key)s")
    else:
        message = gettext("%(key)s is empty: every row of a lead import needs its %(key)s")
    return message % {"key": key}

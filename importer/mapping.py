"""The MAP stage: which file column feeds which profile key, and one row's cells → typed values.

A plan is built once per import from the headers, the manager's mapping and the channel's keys
(R2.8); ``RowMapper.map`` then turns each row into JSON-ready values or the reasons it fails
(R2.4, R2.13), without touching the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from crm.models import ProfileKey
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.spreadsheets import FORMULA_TRIGGERS
from crm.values import InvalidValue, Parser, parser_for, to_json

# Header spellings that name a built-in key (beyond: what Korean and English templates use).
HEADER_ALIASES: Mapping[str, str] = {
    "이름": "name",
    "성명": "name",
    "이메일": "email",
    "e-mail": "email",
    "휴대폰번호": "mobileNumber",
    "휴대폰 번호": "mobileNumber",
    "휴대전화": "mobileNumber",
    "mobile": "mobileNumber",
    "phone": "mobileNumber",
    "유선번호": "landlineNumber",
    "유선 번호": "landlineNumber",
    "회원아이디": "memberId",
    "회원 아이디": "memberId",
    "member_id": "memberId",
    "이메일수신거부": "unsubscribeEmail",
    "이메일 수신거부": "unsubscribeEmail",
    "문자수신거부": "unsubscribeTexting",
    "문자 수신거부": "unsubscribeTexting",
}

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


@dataclass(frozen=True)
class Plan:
    kind: str  # "member" or "lead"
    identity: str  # "memberId", "email" or "mobileNumber"
    headers: tuple[str, ...]
    columns: tuple[Column, ...]  # identity column first (R2.8)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    @property
    def columns_in_file_order(self) -> tuple[Column, ...]:
        return tuple(sorted(self.columns, key=lambda c: c.index))


def auto_mapping(headers: Iterable[str], keys: Iterable[str]) -> dict[str, str]:
    """Headers that name a key, case-insensitively (or by a known alias), each key once."""
    by_lower = {k.lower(): k for k in keys}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        norm = header.strip().lower()
        key = by_lower.get(norm) or HEADER_ALIASES.get(norm) or HEADER_ALIASES.get(header.strip())
        if key and key in by_lower.values() and key not in used:
            mapping[header] = key
            used.add(key)
    return mapping


def build_plan(
    *,
    headers: Sequence[str],
    mapping: Mapping[str, str | None],
    keys: Mapping[str, ProfileKey],
    kind: str,
    identity: str,
) -> Plan:
    """Check a mapping (header → key, "" or None = don't import) against R2.1 and R2.8.

    Every header must be decided; a key is used by one column only; the identity key is mapped.
    """
    problems: list[str] = []
    if kind not in ("member", "lead"):
        problems.append(f"unknown import kind {kind!r}: member or lead")
    expected_identity = "memberId" if kind == "member" else identity
    if kind == "lead" and identity not in ("email", "mobileNumber"):
        problems.append(f"a lead import is identified by email or mobileNumber, not {identity!r}")
    if kind == "member" and identity not in ("memberId", ""):
        problems.append("a member import is identified by memberId")
    for header in mapping:
        if header not in headers:
            problems.append(f"the mapping names a column {header!r} the file does not have")
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for index, header in enumerate(headers):
        if header not in mapping:
            problems.append(f"column {header!r} is not mapped: map it to a profile key or skip it")
            continue
        key = mapping[header]
        if not key:
            continue
        profile_key = keys.get(key)
        if profile_key is None:
            problems.append(f"column {header!r}: the channel has no profile key {key!r}")
            continue
        if key in seen:
            problems.append(
                f"profile key {key!r} is mapped to two columns ({seen[key]!r} and {header!r}):"
                " a key may be used by one column only"
            )
            continue
        if key == "memberId" and kind == "lead":
            problems.append(
                f"column {header!r}: a lead import cannot set memberId (one file never mixes"
                " members and leads; use a member import)"
            )
            continue
        seen[key] = header
        columns.append(
            Column(
                index=index,
                header=header,
                key=key,
                type=profile_key.type,
                parse=parser_for(key, profile_key.type),
                field=BUILTIN_FIELDS.get(key),
            )
        )
    if expected_identity and expected_identity not in seen and not problems:
        problems.append(f"the identity key {expected_identity!r} must be mapped to a column")
    if problems:
        raise MappingError(problems)
    columns.sort(key=lambda c: (c.key != expected_identity, c.index))
    return Plan(
        kind=kind, identity=expected_identity, headers=tuple(headers), columns=tuple(columns)
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


class _Converter:
    """One column's parse + ``to_json``, remembering what it has seen.

    Customer files repeat values a lot (grades, segments, flags, dates, interest lists), so a
    column answers a repeated cell from memory; a column whose values rarely repeat (emails,
    memos) stops remembering after a sample, so memory stays flat. Values are shared between
    rows and must not be mutated.
    """

    __slots__ = ("cache", "hits", "misses", "parse", "type")

    _SAMPLE = 2048  # misses before deciding whether the column repeats
    _MIN_HIT_RATE = 0.25
    _MAX_ENTRIES = 50_000

    def __init__(self, parse: Parser, type: str) -> None:
        self.parse = parse
        self.type = type
        self.cache: dict[str, tuple[bool, object]] | None = {}
        self.hits = 0
        self.misses = 0

    def __call__(self, raw: object) -> object:
        cache = self.cache
        if cache is None or raw.__class__ is not str:
            return to_json(self.type, self.parse(raw))
        known = cache.get(raw)  # type: ignore[call-overload]
        if known is not None:
            self.hits += 1
            if known[0]:
                return known[1]
            raise InvalidValue(str(known[1]))
        self.misses += 1
        try:
            value = to_json(self.type, self.parse(raw))
        except InvalidValue as exc:
            self._remember(raw, (False, exc.reason))  # type: ignore[arg-type]
            raise
        self._remember(raw, (True, value))  # type: ignore[arg-type]
        return value

    def _remember(self, raw: str, outcome: tuple[bool, object]) -> None:
        cache = self.cache
        assert cache is not None
        if self.misses >= self._SAMPLE and self.hits < self._MIN_HIT_RATE * (
            self.hits + self.misses
        ):
            self.cache = None  # a column of unique values: memory for nothing
            return
        if len(cache) < self._MAX_ENTRIES:
            cache[raw] = outcome


class RowMapper:
    """Turns rows into typed values with the plan's parsers; a failing cell fails its row."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._identity_key = plan.identity
        self._columns = tuple(
            (c.index, c.key, _Converter(c.parse, c.type), c.header) for c in plan.columns
        )

    def map(self, number: int, cells: Sequence[object], error: str | None = None) -> MappedRow:
        values: dict[str, object] = {}
        errors: list[tuple[str, str]] = []
        cells = tuple(cells)
        if error is not None:
            return MappedRow(number, cells, None, values, [("", error)])
        width = len(cells)
        for index, key, convert, header in self._columns:
            raw = cells[index] if index < width else None
            if raw is None:
                values[key] = EMPTY
                continue
            if raw.__class__ is str:
                if not raw or raw.isspace():  # type: ignore[attr-defined]
                    values[key] = EMPTY
                    continue
                if raw[0] == "'" and raw[1:2] in _NEUTRALISED:  # type: ignore[index]
                    raw = raw[1:]  # type: ignore[index]
            try:
                values[key] = convert(raw)
            except InvalidValue as exc:
                errors.append((key, f"{key} (column {header!r}): {exc.reason}"))
        identity = values.get(self._identity_key, EMPTY)
        if identity is EMPTY:
            identity = None
            if not any(k == self._identity_key for k, _ in errors):
                errors.insert(
                    0,
                    (
                        self._identity_key,
                        f"{self._identity_key} is empty: every row of a {self.plan.kind} import"
                        f" needs its {self._identity_key}",
                    ),
                )
        elif errors and any(k == self._identity_key for k, _ in errors):
            identity = None
        return MappedRow(number, cells, identity, values, errors)

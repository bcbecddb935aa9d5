"""The RESOLVE and APPLY-in-memory stages: rows of a chunk → what happens to which customer.

Rows apply in file order (R2.14) to in-memory targets: customers found in the database, or
created by an earlier row. Nothing here writes; ``ChunkResult`` is what a writer commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from django.db import connection
from django.db.models import F

from crm.models import Customer
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.values import MAX_KEYS, MAX_PROFILE_BYTES, InvalidValue, check_profile
from importer.mapping import EMPTY, UNSUBSCRIBE_KEYS, MappedRow, Plan

# What the merge reads of an existing customer.
CUSTOMER_COLUMNS = (
    "id",
    "member_id",
    "verified",
    "name",
    "email",
    "mobile_number",
    "landline_number",
    "unsubscribe_email",
    "unsubscribe_texting",
    "profile",
    "first_boot_at",
    "last_seen_at",
    "blocked",
)
_FIELD_OF = dict(BUILTIN_FIELDS)
_KEY_OF_FIELD = {v: k for k, v in BUILTIN_FIELDS.items()}


@dataclass(slots=True)
class Target:
    """One customer as the import sees it: loaded from the database, or new."""

    id: int | None
    values: dict[str, Any]  # profile key -> stored value (built-ins and custom keys)
    verified: bool
    booted: bool
    last_seen_at: datetime | None
    new: bool
    previous: dict[str, Any] = field(default_factory=dict)  # key -> value before this import
    changed: bool = False
    blocked: bool = False  # updated by imports, but never unified with leads (R4.1)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Target:
        values: dict[str, Any] = {}
        for column in CUSTOMER_COLUMNS:
            key = _KEY_OF_FIELD.get(column)
            if key is not None and row[column] not in (None, ""):
                values[key] = row[column]
        values.update(row["profile"] or {})
        return cls(
            id=row["id"],
            values=values,
            verified=row["verified"] or bool(row["member_id"]),
            booted=row["first_boot_at"] is not None,
            last_seen_at=row["last_seen_at"],
            new=False,
            blocked=row["blocked"],
        )

    def successor(self) -> Target:
        """This customer as a later chunk sees it: an existing customer with these values (the
        later chunk must not mutate what an earlier chunk is still writing)."""
        assert self.id is not None, "ids are given before a chunk is handed to the writer"
        return Target(
            id=self.id,
            values=dict(self.values),
            verified=True,
            booted=self.booted,
            last_seen_at=self.last_seen_at,
            new=False,
            blocked=self.blocked,
        )

    def field_values(self) -> dict[str, Any]:
        """Customer column -> value for the built-in keys (name is never NULL)."""
        out = {f: self.values.get(k) for k, f in _FIELD_OF.items()}
        if out["name"] is None:
            out["name"] = ""
        return out

    def custom_profile(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if k not in _FIELD_OF}


@dataclass
class ChunkResult:
    rows: int = 0
    last_row: int = 0
    targets: list[Target] = field(default_factory=list)  # every customer a row touched, in order
    by_identity: dict[object, Target] = field(default_factory=dict)
    failures: list[MappedRow] = field(default_factory=list)
    # What a writer built ahead of the chunk's transaction (importer.pg: COPY text).
    prepared: Any = None

    @property
    def new_targets(self) -> list[Target]:
        return [t for t in self.targets if t.new]


def find_existing(
    channel_id: int, plan: Plan, identities: Iterable[object]
) -> dict[object, Target]:
    """The customer each identity value updates (R2.4, R2.5, R2.6)."""
    wanted = list(set(identities))
    if not wanted:
        return {}
    column = _FIELD_OF[plan.identity]
    found: dict[object, Target] = {}
    for identity, target in _candidates(channel_id, column, wanted):
        if plan.kind == "lead" and not target.verified:
            continue  # unverified-only matches: a new verified lead is created (R2.6)
        found.setdefault(identity, target)  # most recently seen first (R2.5)
    return found


def _text_array(values: Iterable[object]) -> str:
    """One text[] literal: psycopg binds parameters on the client, where quoting thousands of
    list items one by one costs more than the whole look-up does in PostgreSQL."""
    return (
        "{"
        + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


def refresh_statistics(channel_id: int, at_least: int) -> bool:
    """Let PostgreSQL's planner know the channel has ``at_least`` customers; True if it had to
    be told (ANALYZE ran).

    The look-ups above are right only with the (channel, identity) index; a planner that
    believes the channel small (its statistics predate an import still running, and
    autovacuum's ANALYZE comes later, or never where it is off) reads all of the channel's
    customers for every chunk instead, which makes a big import quadratic. The planner's
    estimate costs a millisecond to ask; ANALYZE (a fixed sample, ~0.2 s at any size) runs only
    when the estimate is under a quarter of what the import knows is there."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM crm_customer WHERE channel_id = %s", [channel_id]
        )
        (plan,) = cursor.fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        if plan[0]["Plan"]["Plan Rows"] * 4 >= at_least:
            return False
        columns = ", ".join(
            ("channel_id", *(_FIELD_OF[k] for k in ("memberId", "email", "mobileNumber")))
        )
        cursor.execute(f"ANALYZE crm_customer ({columns})")
    return True


def _candidates(
    channel_id: int, column: str, wanted: list[object]
) -> Iterable[tuple[object, Target]]:
    """(identity value, customer) of the channel's customers with one of the wanted values,
    most recently seen first."""
    if connection.vendor == "postgresql":
        # PostgreSQL hands each customer's values over as one JSON object (built-in columns
        # and profile, as Target.from_row would assemble them): one decode per customer in C.
        # The values go as one array literal: PostgreSQL plans it at once.
        loads = orjson.loads
        with connection.cursor() as cursor:
            cursor.execute(_CANDIDATES_SQL.format(column=column), [channel_id, _text_array(wanted)])
            for id_, verified, booted, last_seen_at, blocked, identity, values in cursor.fetchall():
                yield (
                    identity,
                    Target(
                        id=id_,
                        values=loads(values),
                        verified=verified,
                        booted=booted,
                        last_seen_at=last_seen_at,
                        new=False,
                        blocked=blocked,
                    ),
                )
        return
    for row in (
        Customer.objects.filter(channel_id=channel_id, **{f"{column}__in": wanted})
        .order_by(F("last_seen_at").desc(nulls_last=True), "-id")
        .values(*CUSTOMER_COLUMNS)
    ):
        yield row[column], Target.from_row(row)


# Target.from_row in SQL: built-in keys from their columns (empty text and NULL left out),
# then the custom keys of the profile.
_VALUES_SQL = (
    "jsonb_strip_nulls(jsonb_build_object("
    + ", ".join(
        f"'{key}', NULLIF({field}, '')"
        for key, field in BUILTIN_FIELDS.items()
        if key not in ("unsubscribeEmail", "unsubscribeTexting")
    )
    + ", 'unsubscribeEmail', unsubscribe_email, 'unsubscribeTexting', unsubscribe_texting"
    + ")) || COALESCE(profile, '{{}}'::jsonb)"
)
_CANDIDATES_SQL = (
    "SELECT id, verified OR member_id IS NOT NULL AND member_id <> '',"
    " first_boot_at IS NOT NULL, last_seen_at, blocked, {column}, ("
    + _VALUES_SQL
    + ")::text FROM crm_customer WHERE channel_id = %s AND {column} = ANY(%s::text[])"
    " ORDER BY last_seen_at DESC NULLS LAST, id DESC"
)


_BYTES_PER_CELL_CHAR = 8


def _size_bound(values: Mapping[str, Any]) -> int:
    """An upper bound of the profile's JSON size, cheap enough for every row: when it is under
    the limit, the exact check (crm.values.check_profile) cannot fail and is skipped."""
    size = 2
    for key, value in values.items():
        size += len(key) * 6 + 4
        if value.__class__ is str:
            size += len(value) * 6 + 2
        elif value.__class__ is list:
            size += sum(len(v) * 6 + 3 if v.__class__ is str else 32 for v in value) + 2
        else:
            size += 32
    return size


class Merger:
    """Applies mapped rows to targets under the empty-cell policy and the unsubscribe rules."""

    def __init__(self, plan: Plan, *, empty_policy: str) -> None:
        self.plan = plan
        self.clear = empty_policy == "clear"
        self._keys = [c.key for c in plan.columns]
        # The JSON of a profile built from one row's text cells is at most this plus
        # _BYTES_PER_CELL_CHAR bytes per character of the row (see _new_target).
        self._row_bound_base = 2 + sum(len(k) * 6 + 4 + 32 for k in self._keys)

    def apply_chunk(
        self,
        channel_id: int,
        rows: Sequence[MappedRow],
        pending: Mapping[object, Target] | None = None,
    ) -> ChunkResult:
        """Apply a chunk's rows in file order. ``pending``: identity → the latest state of
        customers that earlier chunks wrote but have not committed yet (the write pipeline);
        they win over the database, which does not show them yet."""
        result = ChunkResult(rows=len(rows), last_row=rows[-1].number if rows else 0)
        pending = pending or {}
        good = [r for r in rows if not r.errors and r.identity not in pending]
        existing = find_existing(channel_id, self.plan, (r.identity for r in good))
        for identity in {r.identity for r in rows if not r.errors and r.identity in pending}:
            existing[identity] = pending[identity].successor()
        targets = result.by_identity
        for row in rows:
            if row.errors:
                result.failures.append(row)
                continue
            target = targets.get(row.identity)
            if target is None:
                target = existing.get(row.identity)
                if target is None:  # a new customer: the common row of a first import
                    target = self._new_target(row)
                    if target is None:
                        result.failures.append(row)
                    else:
                        targets[row.identity] = target
                        result.targets.append(target)
                    continue
                targets[row.identity] = target
                fresh = True
            else:
                fresh = False
            if self.apply_row(target, row):
                if fresh:
                    result.targets.append(target)
            else:
                result.failures.append(row)
                if fresh:
                    # A failed first row leaves no target behind: the next row starts afresh.
                    del targets[row.identity]
        return result

    def _new_target(self, row: MappedRow) -> Target | None:
        """``apply_row`` on a customer that does not exist yet, without the comparisons: every
        non-empty value is a change. None (and row.errors says why) when the row cannot create."""
        values = {k: v for k, v in row.values.items() if v is not EMPTY and v is not None}
        if values.get(UNSUBSCRIBE_KEYS[0]) is None or values.get(UNSUBSCRIBE_KEYS[1]) is None:
            self._unsubscribe_missing(row, values)
            return None
        if len(values) > MAX_KEYS or self._row_bound(row) > MAX_PROFILE_BYTES:
            try:
                check_profile(values)
            except InvalidValue as exc:
                row.errors.append((exc.key or "profile", exc.reason))
                return None
        return Target(
            id=None,
            values=values,
            verified=True,
            booted=False,
            last_seen_at=None,
            new=True,
            changed=True,
        )

    def _row_bound(self, row: MappedRow) -> int:
        """An upper bound of the JSON size of a profile made of this row's values alone.

        A parsed value's JSON never takes more than _BYTES_PER_CELL_CHAR bytes per character of
        its cell plus 32 (a number, a date made ISO, a list made a JSON array, an email's domain
        made punycode); counted from the raw cells, it costs one C-level sum per row. Cells that
        are not text (XLSX numbers and dates) fall back to the bound of the values."""
        try:
            chars = sum(map(len, row.cells))  # type: ignore[arg-type]
        except TypeError:
            return _size_bound(row.values)
        return self._row_bound_base + _BYTES_PER_CELL_CHAR * chars

    @staticmethod
    def _unsubscribe_missing(row: MappedRow, changes: Mapping[str, Any]) -> None:
        missing = [k for k in UNSUBSCRIBE_KEYS if changes.get(k) is None]
        row.errors.append(
            (
                ",".join(missing),
                f"{' and '.join(missing)} must be given (true or false) for a new"
                " customer: an existing customer keeps its value when the cell is empty",
            )
        )

    def apply_row(self, target: Target, row: MappedRow) -> bool:
        """Apply one row; on failure the target is untouched and row.errors says why."""
        changes: dict[str, Any] = {}
        for key in self._keys:
            value = row.values[key]
            if value is EMPTY:
                # R2.10: an empty unsubscribe cell keeps the stored value whatever the policy;
                # R2.11: "keep" ignores empty cells, "clear" clears the stored value.
                if key in UNSUBSCRIBE_KEYS or not self.clear:
                    continue
                value = None
            if target.values.get(key) != value:
                changes[key] = value
        brand_new = target.new and target.id is None and not target.values
        if brand_new and any(changes.get(k) is None for k in UNSUBSCRIBE_KEYS):
            self._unsubscribe_missing(row, changes)
            return False
        if changes:
            merged = {k: v for k, v in target.values.items()}
            for key, value in changes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            if len(merged) > MAX_KEYS or _size_bound(merged) > MAX_PROFILE_BYTES:
                try:
                    check_profile(merged)
                except InvalidValue as exc:
                    row.errors.append((exc.key or "profile", exc.reason))
                    return False
            if not target.new:
                for key in changes:
                    target.previous.setdefault(key, target.values.get(key))
            target.values = merged
            target.changed = True
        return True

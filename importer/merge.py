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
    for row in _candidates(channel_id, column, wanted):
        target = Target.from_row(row)
        if plan.kind == "lead" and not target.verified:
            continue  # unverified-only matches: a new verified lead is created (R2.6)
        found.setdefault(row[column], target)  # most recently seen first (R2.5)
    return found


def _candidates(channel_id: int, column: str, wanted: list[object]) -> Iterable[dict[str, Any]]:
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands of literals: PostgreSQL plans it at once.
        with connection.cursor() as cursor:
            cursor.execute(_CANDIDATES_SQL.format(column=column), [channel_id, wanted])
            for values in cursor.fetchall():
                row = dict(zip(CUSTOMER_COLUMNS, values, strict=True))
                # Django has psycopg hand jsonb over as text (JSONField decodes it).
                if isinstance(row["profile"], str):
                    row["profile"] = json.loads(row["profile"])
                yield row
        return
    yield from (
        Customer.objects.filter(channel_id=channel_id, **{f"{column}__in": wanted})
        .order_by(F("last_seen_at").desc(nulls_last=True), "-id")
        .values(*CUSTOMER_COLUMNS)
    )


_CANDIDATES_SQL = (
    f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM crm_customer"
    " WHERE channel_id = %s AND {column} = ANY(%s)"
    " ORDER BY last_seen_at DESC NULLS LAST, id DESC"
)


def _size_bound(values: dict[str, Any]) -> int:
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

    def apply_chunk(
        self,
        channel_id: int,
        rows: Sequence[MappedRow],
        pending: Mapping[object, Target] | None = None,
    ) -> ChunkResult:
        """Apply a chunk's rows in file order. ``pending``: identity → the latest state of
        customers that earlier chunks wrote but have not committed yet (the write pipeline);
        they win over the database, which does not show them yet."""
        result = ChunkResult()
        pending = pending or {}
        good = [r for r in rows if r.ok and r.identity not in pending]
        existing = find_existing(channel_id, self.plan, (r.identity for r in good))
        for identity in {r.identity for r in rows if r.ok and r.identity in pending}:
            existing[identity] = pending[identity].successor()
        targets = result.by_identity
        for row in rows:
            result.rows += 1
            result.last_row = row.number
            if not row.ok:
                result.failures.append(row)
                continue
            target = targets.get(row.identity)
            if target is None:
                target = existing.get(row.identity)
                if target is None:
                    target = Target(
                        id=None,
                        values={},
                        verified=True,
                        booted=False,
                        last_seen_at=None,
                        new=True,
                    )
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
        if target.new and target.id is None and not target.values:
            missing = [k for k in UNSUBSCRIBE_KEYS if changes.get(k) is None]
            if missing:
                row.errors.append(
                    (
                        ",".join(missing),
                        f"{' and '.join(missing)} must be given (true or false) for a new"
                        " customer: an existing customer keeps its value when the cell is empty",
                    )
                )
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

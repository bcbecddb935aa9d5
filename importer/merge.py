"""The RESOLVE and APPLY-in-memory stages: rows of a chunk → what happens to which customer.

Rows apply in file order (R2.14) to in-memory targets: customers found in the database, or
created by an earlier row. Nothing here writes; ``ChunkResult`` is what a writer commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F

from crm.models import Customer
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.values import InvalidValue, check_profile
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
    rows = (
        Customer.objects.filter(channel_id=channel_id, **{f"{column}__in": wanted})
        .order_by(F("last_seen_at").desc(nulls_last=True), "-id")
        .values(*CUSTOMER_COLUMNS)
    )
    found: dict[object, Target] = {}
    for row in rows:
        target = Target.from_row(row)
        value = row[column]
        if plan.kind == "lead" and not target.verified:
            continue  # unverified-only matches: a new verified lead is created (R2.6)
        found.setdefault(value, target)  # most recently seen first (R2.5)
    return found


class Merger:
    """Applies mapped rows to targets under the empty-cell policy and the unsubscribe rules."""

    def __init__(self, plan: Plan, *, empty_policy: str) -> None:
        self.plan = plan
        self.clear = empty_policy == "clear"
        self._keys = [c.key for c in plan.columns]

    def apply_chunk(self, channel_id: int, rows: Sequence[MappedRow]) -> ChunkResult:
        result = ChunkResult()
        good = [r for r in rows if r.ok]
        existing = find_existing(channel_id, self.plan, (r.identity for r in good))
        targets: dict[object, Target] = {}
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

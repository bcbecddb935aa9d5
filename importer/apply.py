"""The APPLY stage: a chunk's mapped rows, in file order (R2.14), applied to the customers the
RESOLVE stage found (or to new ones) under the empty-cell policy and the unsubscribe rules.

Nothing here touches the database: ``ChunkResult`` is what a writer (``importer.writers``)
commits, and the wizard's check (``importer.check``) counts it instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

from crm.values import MAX_KEYS, MAX_PROFILE_BYTES, InvalidValue, check_profile
from importer.mapping import EMPTY, UNSUBSCRIBE_KEYS, MappedRow, Plan
from importer.resolve import Target, channel_has_few, find_existing


@dataclass
class ChunkResult:
    rows: int = 0
    last_row: int = 0
    targets: list[Target] = field(default_factory=list)  # every customer a row touched, in order
    by_identity: dict[object, Target] = field(default_factory=dict)
    failures: list[MappedRow] = field(default_factory=list)
    # What a writer built ahead of the chunk's transaction (the COPY writer: its COPY text).
    prepared: Any = None
    # The chunk's rows as mapped: a writer finds here the rows of a new customer it could not
    # create (its memberId taken meanwhile by another writer) to fail them with a reason. Only
    # a member import's: a lead import sets no memberId, and its chunks in the write pipeline
    # need not keep every row alive (~15 MB of peak RSS at three chunks of 5,000 rows).
    source: Sequence[MappedRow] = ()

    @property
    def new_targets(self) -> list[Target]:
        return [t for t in self.targets if t.new]


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
        # The channel is read whole by each chunk's look-up while it has few customers; once
        # it has many it keeps them (an import only adds), and is no longer counted.
        self._few = True

    def apply_chunk(
        self,
        channel_id: int,
        rows: Sequence[MappedRow],
        pending: Mapping[object, Target] | None = None,
    ) -> ChunkResult:
        """Apply a chunk's rows in file order. ``pending``: identity → the latest state of
        customers that earlier chunks wrote but have not committed yet (the write pipeline);
        they win over the database, which does not show them yet."""
        result = ChunkResult(
            rows=len(rows),
            last_row=rows[-1].number if rows else 0,
            source=rows if self.plan.kind == "member" else (),
        )
        if pending is None:
            pending = {}
        good = [r for r in rows if not r.errors and r.identity not in pending]
        if self._few and good:
            self._few = channel_has_few(channel_id)
        existing = find_existing(channel_id, self.plan, (r.identity for r in good), few=self._few)
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
                if not target.new:
                    if target.rows is None:
                        target.rows = [row]
                    else:
                        target.rows.append(row)
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
                gettext(
                    "%(keys)s must be given (true or false) for a new customer: an existing"
                    " customer keeps its value when the cell is empty"
                )
                % {"keys": " and ".join(missing)},
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

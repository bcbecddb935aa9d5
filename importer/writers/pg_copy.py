"""The COPY writer: a chunk's writes on PostgreSQL with COPY straight into the tables and
set-based statements.

Ids for new customers come from the table's own sequence, so new rows are COPYed into
``crm_customer`` directly; changed customers go through a temporary staging table and one
``UPDATE … FROM``. The rows left behind are the same as ``OrmWriter``'s (the same tests run on
both); only the statements differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm import jobs
from crm.models import Channel, ConsentChange, Customer, CustomerImportTag
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.services.consent import CONSENT_FIELDS, CONSENT_KEYS, consent_insert_sql, consent_params
from crm.services.customers import customers_hold
from importer.apply import ChunkResult
from importer.mapping import MappedRow
from importer.models import ImportFailure, ImportJournal
from importer.resolve import Target, text_array
from importer.writers.base import (
    CUSTOMER_FIELDS,
    ChunkWriter,
    cell_text,
    jsonable,
    target_id,
    written_values,
)

_json_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(value: object) -> str:
    """Compact JSON, UTF-8 kept: orjson (several times faster per profile than json, which
    showed as a quarter of the writer's time), json for what orjson refuses."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return _json_dumps(value)


_NEW_COLUMNS = (
    "id",
    "channel_id",
    *CUSTOMER_FIELDS,
    "verified",
    "profile",
    "blocked",
    "blocked_reason",
    "created_at",
    "updated_at",
)

_STAGING = "import_customer_deltas"
_NEW_STAGING = "import_new_customers"

# Consent history (R2.16b). A new customer's flags, as a change from no value, are COPYed from
# the values the chunk writes into its row (built with the row, ahead of the transaction): an
# ``INSERT … SELECT`` reading back the rows just copied cost PostgreSQL a lookup per customer,
# and a sequential scan of the whole table per chunk whenever its statistics were stale.
_CONSENT_COPY = (
    f"COPY {ConsentChange._meta.db_table}"
    " (channel_id, customer_id, key, old, new, at, source, reference, label) FROM STDIN"
)
# A changed customer's flags whose bit is set in the staging row, against the row as it is now:
# locked first (FOR NO KEY UPDATE reads its newest version), so the old value is the one the
# UPDATE that follows replaces (R2.25), never what the import read earlier.
_CONSENT_BITS = {key: 1 << CUSTOMER_FIELDS.index(f) for key, f in CONSENT_FIELDS.items()}
_CONSENT_CHANGED = consent_insert_sql(
    "SELECT o.channel_id, o.id, v.key, v.old, v.new FROM ("
    f"  SELECT c.channel_id, c.id, s.mask, {', '.join(f'c.{f} AS old_{f}, s.{f} AS new_{f}' for f in CONSENT_FIELDS.values())}"
    f"  FROM {Customer._meta.db_table} c JOIN {_STAGING} s ON s.id = c.id"
    f"  WHERE s.mask & {sum(_CONSENT_BITS.values())} <> 0 FOR NO KEY UPDATE OF c"
    ") o CROSS JOIN LATERAL (VALUES "
    + ", ".join(
        f"('{key}', o.mask & {_CONSENT_BITS[key]}, o.old_{field}, o.new_{field})"
        for key, field in CONSENT_FIELDS.items()
    )
    + ") AS v(key, bit, old, new) WHERE v.bit <> 0 AND v.old IS DISTINCT FROM v.new"
)


# Which of a chunk's customers the job has journaled already (and whether it created them):
# one probe of the (job, customer) index per customer. With ``customer_id = ANY(…)`` the
# planner, believing a running job's entries few, read all of them for every chunk (the ids as
# a filter), so a long import was quadratic.
JOURNALED_SQL = (
    "SELECT u.id, j.created FROM unnest(%s::bigint[]) AS u(id)"
    f" CROSS JOIN LATERAL (SELECT created FROM {ImportJournal._meta.db_table}"
    "  WHERE job_id = %s AND customer_id = u.id LIMIT 1) j"
)

# COPY text format: backslash, tab, newline and carriage return are escaped; \N is NULL.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_BUILTIN_KEYS = tuple({f: k for k, f in BUILTIN_FIELDS.items()}[f] for f in CUSTOMER_FIELDS)


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def _builtin_fields(values: dict[str, Any]) -> str:
    """The CUSTOMER_FIELDS columns of a customer as COPY text (name is never NULL)."""
    get = values.get
    name = get("name")
    return "\t".join(
        [
            _copy_value("" if name is None else name),
            *[_copy_value(get(key)) for key in _BUILTIN_KEYS[1:]],
        ]
    )


def _customer_fields(target: Target, between: str) -> str:
    """A customer's built-in columns and profile as COPY text, ``between`` separating them."""
    return f"{_builtin_fields(target.values)}{between}{_copy_json(target.custom_profile())}"


_BUILTIN_INDEX = {key: i for i, key in enumerate(_BUILTIN_KEYS)}
_NULL = "\\N"


def _delta_line(target: Target) -> str:
    """An existing customer's changes as a staging row: id, a bit per built-in column changed,
    the built-in columns (only the changed ones read), custom keys set (JSON) and cleared
    (text[])."""
    mask = 0
    columns = [_NULL] * len(_BUILTIN_KEYS)
    added: dict[str, Any] = {}
    cleared: list[str] = []
    for key, value in target.changes().items():
        i = _BUILTIN_INDEX.get(key)
        if i is None:
            if value is None:
                cleared.append(key)
            else:
                added[key] = value
        else:
            mask |= 1 << i
            columns[i] = _copy_value("" if value is None and key == "name" else value)
    return (
        "\t".join(
            [
                str(target.id),
                str(mask),
                *columns,
                _copy_json(added) if added else _NULL,
                _copy_value(text_array(cleared)) if cleared else _NULL,
            ]
        )
        + "\n"
    )


def _copy_json(value: object) -> str:
    text = _dumps(value)
    # JSON escapes every control character itself; only its backslashes need doubling.
    return text.replace("\\", "\\\\") if "\\" in text else text


def _bigint_array(ids: Iterable[int | None]) -> str:
    """An array literal: cheaper to build and to send than thousands of adapted integers."""
    return "{" + ",".join(map(str, ids)) + "}"


def _copy_text(statement: str, lines: list[str]) -> None:
    if not lines:
        return
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write("".join(lines))


def _table(model: type[Any]) -> str:
    return str(model._meta.db_table)


def assign_ids(targets: Sequence[Target]) -> None:
    """Give new customers their ids from crm_customer's own sequence, before they are written,
    so a later chunk can refer to them while this one is still being written."""
    missing = [t for t in targets if t.id is None]
    if not missing:
        return
    with connection.cursor() as cursor:
        # The sequence is named once (a scalar subquery, evaluated before the rows):
        # nextval(pg_get_serial_sequence(…)) looked the name up again for every id (3.6 µs an
        # id against 0.4 µs; 1.5 s of the server's time in a 300,000-row import).
        cursor.execute(
            "SELECT nextval((SELECT pg_get_serial_sequence(%s, 'id')::regclass))"
            " FROM generate_series(1, %s)",
            [_table(Customer), len(missing)],
        )
        for target, (new_id,) in zip(missing, cursor.fetchall(), strict=True):
            target.id = new_id


@dataclass(frozen=True)
class _Prepared:
    now: datetime
    created: str  # COPY text of the new customers
    changed: str  # COPY text of the changed customers' changes, for the staging table
    consent: str  # COPY text of the new customers' consent history (R2.16b)


class CopyWriter(ChunkWriter):
    """COPY for the bulk paths: new customers, changes, tags, journal, failures."""

    _prepared: _Prepared | None = None
    _gained: list[int]  # customers _hold gave the import tag, trimmed to 30 by _tag

    def _begin(self) -> None:
        """The chunk holds its channel (``FOR KEY SHARE``: the customer table does not check
        it, crm 0024), and its commit need not wait for the WAL flush: the job's progress
        commits in the same transaction, so a chunk lost to a database crash is simply redone
        on resume. One statement for both."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('synchronous_commit', 'off', true)"
                f" FROM {_table(Channel)} WHERE id = %s FOR KEY SHARE",
                [self.channel.pk],
            )
            if cursor.fetchone() is None:
                raise Channel.DoesNotExist(f"channel #{self.channel.pk} is gone")

    def prepare(self, result: ChunkResult) -> None:
        """Build the chunk's COPY text ahead of its transaction. In the write pipeline the main
        thread calls this, so the writer thread only talks to PostgreSQL, which then never
        waits for Python between chunks."""
        assign_ids(result.new_targets)
        now = timezone.now()
        head = f"\t{self.channel.pk}\t"
        tail = f"\tf\t\t{now.isoformat()}\t{now.isoformat()}\n"
        # One string per chunk: psycopg's write_row adapts each value in Python and cost more
        # than everything else of a new row.
        # Between the built-in columns and the profile: verified (true) for a new customer.
        verified = "\tt\t"
        created = [
            f"{t.id}{head}{_customer_fields(t, verified)}{tail}" for t in result.targets if t.new
        ]
        changed = [_delta_line(t) for t in result.targets if not t.new and t.changed]
        result.prepared = _Prepared(
            now=now,
            created="".join(created),
            changed="".join(changed),
            consent=self._consent_lines([t for t in result.targets if t.new], now),
        )

    def _consent_lines(self, targets: Sequence[Target], now: datetime) -> str:
        """The new customers' flags as consent history rows (old: no value), each the very
        value ``_builtin_fields`` writes into the customer's row; flags not given record
        nothing."""
        source = self.consent_source
        tail = (
            f"\t{now.isoformat()}\t{_copy_value(source.kind)}\t{_copy_value(source.reference)}"
            f"\t{_copy_value(source.label)}\n"
        )
        head = f"{self.channel.pk}\t"
        lines = []
        for t in targets:
            get = t.values.get
            for key in CONSENT_KEYS:
                value = get(key)
                if value is not None:
                    lines.append(f"{head}{t.id}\t{key}\t\\N\t{_copy_value(value)}{tail}")
        return "".join(lines)

    def write(self, result: ChunkResult, lease: jobs.Lease) -> None:
        if result.prepared is None:
            self.prepare(result)
        self._prepared = result.prepared
        try:
            super().write(result, lease)
        finally:
            self._prepared = None

    def _now(self, result: ChunkResult) -> datetime:
        return self._current.now

    @property
    def _current(self) -> _Prepared:
        assert self._prepared is not None, "write() prepares the chunk first"
        return self._prepared

    def _create(self, targets: Sequence[Target], now: datetime) -> list[Target]:
        if not targets:
            return []
        taken: list[Target] = []
        try:
            with transaction.atomic():  # a savepoint: only the insert is redone below
                _copy_text(
                    f"COPY {_table(Customer)} ({', '.join(_NEW_COLUMNS)}) FROM STDIN",
                    [self._current.created],
                )
        except (IntegrityError, psycopg.errors.UniqueViolation):  # COPY's errors come unwrapped
            inserted = self._insert_untaken()
            taken = [t for t in targets if t.id not in inserted]
            targets = [t for t in targets if t.id in inserted]
        if targets:
            # The prepared entries are the whole chunk's; those whose memberId was taken (rare)
            # have no row of this import, so no entry either.
            consent = self._consent_lines(targets, now) if taken else self._current.consent
            _copy_text(_CONSENT_COPY, [consent])
        return taken

    def _insert_untaken(self) -> set[int]:
        """The chunk's new customers but those whose memberId another writer (the Open API, a
        boot, a builder) created since the look-up: COPY into a staging table, then one
        ``INSERT … ON CONFLICT DO NOTHING`` (which waits for a writer still in its transaction).
        Returns the ids inserted. Only taken when the plain COPY met a unique memberId: the
        common chunk pays one savepoint, not a second copy."""
        columns = ", ".join(_NEW_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_NEW_STAGING} ON COMMIT DELETE ROWS AS"
                f" SELECT {columns} FROM {_table(Customer)} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {_NEW_STAGING}")  # inside an outer transaction too
            _copy_text(f"COPY {_NEW_STAGING} ({columns}) FROM STDIN", [self._current.created])
            cursor.execute(
                f"INSERT INTO {_table(Customer)} ({columns}) SELECT {columns} FROM {_NEW_STAGING}"
                " ON CONFLICT DO NOTHING RETURNING id"
            )
            return {i for (i,) in cursor.fetchall()}

    def _update(self, targets: Sequence[Target], now: datetime) -> set[int]:
        self._gained = []
        if not targets:
            return set()
        gone: set[int] = set()
        with connection.cursor() as cursor:
            if self._current.changed:
                changed = {target_id(t) for t in targets if t.changed}
                gone = changed.difference(self._apply_deltas(cursor, now))
            unchanged = [target_id(t) for t in targets if not t.changed]
            if unchanged:
                gone |= self._hold(cursor, unchanged, now)
        return gone

    def _hold(self, cursor: Any, ids: list[int], now: datetime) -> set[int]:
        """Hold customers the chunk does not change until the commit (their import tag and
        journal are written); returns those already gone.

        With an import tag only those that gained it are held, right after the insert: a
        customer that had it already is left as it is (a re-import pays nothing), and the link
        of one found gone is taken back. (The link has no foreign key to check this, issue 15:
        a purge that deletes the customer before the lock is waited for, or is seen done; one
        that comes after it waits for the commit, and deletes the links after the customers.)"""
        if self.import_tag is not None:
            ids = self._tag_existing(cursor, ids, now)
        present = customers_hold(ids)
        gone = set(ids).difference(present)
        if self.import_tag is not None:
            if gone:
                cursor.execute(
                    f"DELETE FROM {_table(CustomerImportTag)} WHERE customer_id = ANY(%s::bigint[])"
                    " AND import_tag_id = %s AND channel_id = %s",
                    [_bigint_array(gone), self.import_tag.pk, self.channel.pk],
                )
            self._gained += [i for i in ids if i in present]
        return gone

    def _apply_deltas(self, cursor: Any, now: datetime) -> list[int]:
        """Each changed customer's changes on its row as it is now, in one ``UPDATE … FROM`` a
        staging table: built-in columns whose bit is set, custom keys added and cleared."""
        fields = ", ".join(CUSTOMER_FIELDS)
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} ON COMMIT DELETE ROWS AS"
            f" SELECT id, 0 AS mask, {fields}, profile AS added, NULL::text[] AS cleared"
            f" FROM {_table(Customer)} WITH NO DATA"
        )
        # Emptied here too: inside an outer transaction (tests, a caller's atomic block)
        # ON COMMIT has not fired between chunks.
        cursor.execute(f"TRUNCATE {_STAGING}")
        _copy_text(
            f"COPY {_STAGING} (id, mask, {fields}, added, cleared) FROM STDIN",
            [self._current.changed],
        )
        cursor.execute(_CONSENT_CHANGED, consent_params(self.consent_source, now))
        columns = ", ".join(
            f"{f} = CASE WHEN s.mask & {1 << i} = 0 THEN c.{f} ELSE s.{f} END"
            for i, f in enumerate(CUSTOMER_FIELDS)
        )
        cursor.execute(
            f"UPDATE {_table(Customer)} c SET {columns},"
            " profile = CASE WHEN s.added IS NULL AND s.cleared IS NULL THEN c.profile"
            " ELSE (c.profile - COALESCE(s.cleared, '{}')) || COALESCE(s.added, '{}') END,"
            f" verified = true, updated_at = %s FROM {_STAGING} s WHERE c.id = s.id"
            " RETURNING c.id",
            [now],
        )
        return [i for (i,) in cursor.fetchall()]

    def _tag(self, targets: Sequence[Target], now: datetime) -> None:
        if self.import_tag is None or not targets:
            return
        table = _table(CustomerImportTag)
        new_ids = [t.id for t in targets if t.new]
        # Customers that did not change were tagged by _hold.
        changed_ids = [target_id(t) for t in targets if not t.new and t.changed]
        with connection.cursor() as cursor:
            if new_ids:
                tail = f"\t{self.import_tag.pk}\t{now.isoformat()}\n"
                _copy_text(
                    f"COPY {table} (channel_id, customer_id, import_tag_id, added_at) FROM STDIN",
                    [f"{self.channel.pk}\t{customer_id}{tail}" for customer_id in new_ids],
                )
            gained = self._gained + self._tag_existing(cursor, changed_ids, now)
            if gained:
                # Only customers that gained the tag can now hold 31 (R2.12); they are found
                # first from the (customer, tag) index alone, and the rare ones trimmed.
                # (A count per customer: the planner cannot make it one read of the table.)
                cursor.execute(
                    "SELECT u.id FROM unnest(%s::bigint[]) AS u(id)"
                    f" WHERE (SELECT count(*) FROM {table} WHERE customer_id = u.id) > %s",
                    [_bigint_array(gained), CustomerImportTag.MAX_PER_CUSTOMER],
                )
                gained = [customer_id for (customer_id,) in cursor.fetchall()]
            if gained:
                cursor.execute(
                    f"DELETE FROM {table} t USING ("
                    "  SELECT id, row_number() OVER ("
                    "    PARTITION BY customer_id ORDER BY added_at DESC, id DESC) AS rn"
                    f"  FROM {table} WHERE customer_id = ANY(%s::bigint[])"
                    ") old WHERE t.id = old.id AND old.rn > %s"
                    " RETURNING t.customer_id, t.import_tag_id, t.added_at",
                    [
                        _bigint_array(gained),
                        CustomerImportTag.MAX_PER_CUSTOMER,
                    ],
                )
                # Kept in the journal: undo puts them back (R2.16).
                for customer_id, dropped_tag, added_at in cursor.fetchall():
                    self.dropped.setdefault(customer_id, []).append(
                        [dropped_tag, added_at.isoformat()]
                    )

    def _tag_existing(self, cursor: Any, ids: list[int], now: datetime) -> list[int]:
        """The import tag on existing customers; returns those that gained it. A customer that
        already has it keeps it where it is (R2.12)."""
        if not ids:
            return []
        assert self.import_tag is not None
        cursor.execute(
            f"INSERT INTO {_table(CustomerImportTag)}"
            " (channel_id, customer_id, import_tag_id, added_at)"
            " SELECT %s, id, %s, %s FROM unnest(%s::bigint[]) AS id"
            " ON CONFLICT (customer_id, import_tag_id, channel_id) DO NOTHING"
            " RETURNING customer_id",
            [self.channel.pk, self.import_tag.pk, now, _bigint_array(ids)],
        )
        return [customer_id for (customer_id,) in cursor.fetchall()]

    def _journal(self, targets: Sequence[Target]) -> tuple[int, int]:
        table = _table(ImportJournal)
        new = [t for t in targets if t.new]
        old = [t for t in targets if not t.new]
        updated = 0
        with connection.cursor() as cursor:
            if new:
                head = f"{self.channel.pk}\t{self.job.pk}\t"
                _copy_text(
                    f"COPY {table} (channel_id, job_id, customer_id, created) FROM STDIN",
                    [f"{head}{t.id}\tt\n" for t in new],
                )
            if old:
                # One row per customer per import: a customer met again keeps its first entry,
                # growing it with the earlier values of keys changed only now (R2.14).
                cursor.execute(JOURNALED_SQL, [_bigint_array(t.id for t in old), self.job.pk])
                known = dict(cursor.fetchall())
                fresh = [t for t in old if t.id not in known]
                head = f"{self.channel.pk}\t{self.job.pk}\t"
                dropped, null = self.dropped, "\\N"
                _copy_text(
                    f"COPY {table} (channel_id, job_id, customer_id, created, previous, written,"
                    " dropped_tags) FROM STDIN",
                    [
                        f"{head}{t.id}\tf\t{_copy_json(jsonable(t.previous)) if t.previous else '{}'}"
                        f"\t{_copy_json(written_values(t)) if t.previous else '{}'}"
                        f"\t{_copy_json(dropped[t.id]) if t.id in dropped else null}\n"
                        for t in fresh
                    ],
                )
                grown = [
                    t for t in old if (t.previous or t.id in dropped) and known.get(t.id) is False
                ]
                if grown:
                    # The earlier value of a key stays the first one; the written one is the
                    # last (a customer met again in a later row).
                    cursor.execute(
                        f"UPDATE {table} AS j SET previous = u.prev::jsonb || j.previous,"
                        " written = coalesce(j.written, '{}'::jsonb) || u.written::jsonb,"
                        " dropped_tags = CASE WHEN u.dropped IS NULL THEN j.dropped_tags"
                        " ELSE coalesce(j.dropped_tags, '[]'::jsonb) || u.dropped::jsonb END"
                        " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[])"
                        " AS u(id, prev, written, dropped)"
                        " WHERE j.job_id = %s AND j.customer_id = u.id AND j.previous IS NOT NULL",
                        [
                            [t.id for t in grown],
                            [_dumps(jsonable(t.previous)) for t in grown],
                            [_dumps(written_values(t)) for t in grown],
                            [_dumps(dropped[t.id]) if t.id in dropped else None for t in grown],
                            self.job.pk,
                        ],
                    )
                updated = len(fresh)
        return len(new), updated

    def _failures(self, failures: Sequence[MappedRow]) -> None:
        if not failures:
            return
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY {_table(ImportFailure)} (channel_id, job_id, row_number, columns, reasons, values)"
                " FROM STDIN"
            ) as copy,
        ):
            for row in failures:
                copy.write_row(
                    (
                        self.channel.pk,
                        self.job.pk,
                        row.number,
                        _dumps([k for k, _ in row.errors]),
                        _dumps([r for _, r in row.errors]),
                        _dumps([cell_text(c) for c in row.cells]),
                    )
                )

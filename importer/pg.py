"""PostgreSQL writer for imports: COPY straight into the tables, set-based merges.

Ids for new customers come from the table's own sequence, so new rows are COPYed into
``crm_customer`` directly; changed customers go through a temporary staging table and one
``UPDATE … FROM``. The rows left behind are the same as ``OrmWriter``'s (the same tests run on
both); only the statements differ.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from crm.models import Customer, CustomerImportTag
from importer.mapping import MappedRow
from importer.merge import Target
from importer.writers import CUSTOMER_FIELDS, OrmWriter, _jsonable, cell_text

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

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

_STAGING = "import_customer_changes"


def _table(model: type[Any]) -> str:
    return str(model._meta.db_table)


def assign_ids(targets: Sequence[Target]) -> None:
    """Give new customers their ids from crm_customer's own sequence, before they are written,
    so a later chunk can refer to them while this one is still being written."""
    missing = [t for t in targets if t.id is None]
    if not missing:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [_table(Customer), len(missing)],
        )
        for target, (new_id,) in zip(missing, cursor.fetchall(), strict=True):
            target.id = new_id


class CopyWriter(OrmWriter):
    """OrmWriter with COPY for the bulk paths: new customers, changes, tags, journal, failures."""

    def _begin(self) -> None:
        # A chunk's commit need not wait for the WAL flush: the job's progress commits in the
        # same transaction, so a chunk lost to a database crash is simply redone on resume.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")

    def _create(self, targets: Sequence[Target], now: datetime) -> None:
        if not targets:
            return
        assign_ids(targets)
        with connection.cursor() as cursor:
            columns = ", ".join(_NEW_COLUMNS)
            with cursor.copy(f"COPY {_table(Customer)} ({columns}) FROM STDIN") as copy:
                channel_id = self.channel.pk
                for target in targets:
                    fields = target.field_values()
                    copy.write_row(
                        (
                            target.id,
                            channel_id,
                            *(fields[f] for f in CUSTOMER_FIELDS),
                            True,
                            _dumps(target.custom_profile()),
                            False,
                            "",
                            now,
                            now,
                        )
                    )

    def _update(self, targets: Sequence[Target], now: datetime) -> None:
        if not targets:
            return
        fields = ", ".join(CUSTOMER_FIELDS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} ON COMMIT DELETE ROWS AS "
                f"SELECT id, {fields}, profile FROM {_table(Customer)} WITH NO DATA"
            )
            # Emptied here too: inside an outer transaction (tests, a caller's atomic block)
            # ON COMMIT has not fired between chunks.
            cursor.execute(f"TRUNCATE {_STAGING}")
            with cursor.copy(f"COPY {_STAGING} (id, {fields}, profile) FROM STDIN") as copy:
                for target in targets:
                    values = target.field_values()
                    copy.write_row(
                        (
                            target.id,
                            *(values[f] for f in CUSTOMER_FIELDS),
                            _dumps(target.custom_profile()),
                        )
                    )
            assignments = ", ".join(f"{f} = s.{f}" for f in CUSTOMER_FIELDS)
            cursor.execute(
                f"UPDATE {_table(Customer)} c SET {assignments}, profile = s.profile,"
                f" verified = true, updated_at = %s FROM {_STAGING} s WHERE c.id = s.id",
                [now],
            )

    def _tag(self, targets: Sequence[Target], now: datetime) -> None:
        if self.import_tag is None or not targets:
            return
        table = _table(CustomerImportTag)
        new_ids = [t.id for t in targets if t.new]
        old_ids = [t.id for t in targets if not t.new]
        tag_id = self.import_tag.pk
        with connection.cursor() as cursor:
            if new_ids:
                with cursor.copy(
                    f"COPY {table} (channel_id, customer_id, import_tag_id, added_at) FROM STDIN"
                ) as copy:
                    for customer_id in new_ids:
                        copy.write_row((self.channel.pk, customer_id, tag_id, now))
            if old_ids:
                # A customer that already has the tag keeps it where it is (R2.12); only those
                # that gained it can now hold 31, and only they are trimmed.
                cursor.execute(
                    f"INSERT INTO {table} (channel_id, customer_id, import_tag_id, added_at)"
                    " SELECT %s, id, %s, %s FROM unnest(%s::bigint[]) AS id"
                    " ON CONFLICT (customer_id, import_tag_id) DO NOTHING RETURNING customer_id",
                    [self.channel.pk, tag_id, now, old_ids],
                )
                gained = [customer_id for (customer_id,) in cursor.fetchall()]
                if gained:
                    cursor.execute(
                        f"DELETE FROM {table} t USING ("
                        "  SELECT id, row_number() OVER ("
                        "    PARTITION BY customer_id ORDER BY added_at DESC, id DESC) AS rn"
                        f"  FROM {table} WHERE customer_id IN ("
                        f"    SELECT customer_id FROM {table} WHERE customer_id = ANY(%s)"
                        "     GROUP BY customer_id HAVING count(*) > %s)"
                        ") old WHERE t.id = old.id AND old.rn > %s",
                        [
                            gained,
                            CustomerImportTag.MAX_PER_CUSTOMER,
                            CustomerImportTag.MAX_PER_CUSTOMER,
                        ],
                    )

    def _journal(self, targets: Sequence[Target]) -> tuple[int, int]:
        from importer.models import ImportJournal

        table = _table(ImportJournal)
        new = [t for t in targets if t.new]
        old = [t for t in targets if not t.new]
        updated = 0
        with connection.cursor() as cursor:
            if new:
                with cursor.copy(
                    f"COPY {table} (channel_id, job_id, customer_id, created) FROM STDIN"
                ) as copy:
                    for t in new:
                        copy.write_row((self.channel.pk, self.job.pk, t.id, True))
            if old:
                # One row per customer per import: a customer met again keeps its first entry,
                # growing it with the earlier values of keys changed only now (R2.14).
                cursor.execute(
                    f"INSERT INTO {table} AS j (channel_id, job_id, customer_id, created, previous)"
                    " SELECT %s, %s, u.id, false, u.prev::jsonb"
                    " FROM unnest(%s::bigint[], %s::text[]) AS u(id, prev)"
                    " ON CONFLICT (job_id, customer_id) DO UPDATE"
                    " SET previous = EXCLUDED.previous || j.previous"
                    " WHERE NOT j.created AND j.previous IS NOT NULL"
                    " RETURNING (xmax = 0) AS inserted",
                    [
                        self.channel.pk,
                        self.job.pk,
                        [t.id for t in old],
                        [_dumps(_jsonable(t.previous)) for t in old],
                    ],
                )
                updated = sum(1 for (inserted,) in cursor.fetchall() if inserted)
        return len(new), updated

    def _failures(self, failures: Sequence[MappedRow]) -> None:
        from importer.models import ImportFailure

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

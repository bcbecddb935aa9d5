"""Failed rows and the manager's edits of them (R2.16a): the storage the grid, the check, the
import and the column-wide fixes (importer.fixes) share.

A job's failed rows are its ``ImportFailure`` rows: the check writes them for a draft (every
failing row, chunk by chunk), the import for itself (replacing the check's when it starts).
The manager's edits are ``RowEdit`` rows, kept apart so that a new check keeps them. Rows and
edits are always read in row order a page at a time (keyset pages): memory stays flat at
100,000 failed rows, and no database cursor stays open beside the import's writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from importer.job_files import open_job_table
from importer.models import ImportFailure, ImportJob, RowEdit
from importer.reading import Row, Table

PAGE = 2000  # rows a keyset page reads


# --- failed rows ---------------------------------------------------------------------------------
def failures_clear(job_id: int) -> None:
    """Forget a job's failed rows: a new check, or the import that replaces its check's."""
    ImportFailure.objects.filter(job_id=job_id).delete()


def failures_in_order(
    job_id: int, *, numbers: Sequence[int] | None = None, after: int = 0
) -> Iterator[ImportFailure]:
    """A job's failed rows in row order (only ``numbers`` when given, only those past row
    ``after``), a page at a time."""
    while True:
        page = ImportFailure.objects.filter(job_id=job_id, row_number__gt=after)
        if numbers is not None:
            page = page.filter(row_number__in=numbers)
        rows = list(page.order_by("row_number")[:PAGE])
        yield from rows
        if len(rows) < PAGE:
            return
        after = rows[-1].row_number


# --- edits -----------------------------------------------------------------------------------------
def edits_in_order(
    job_id: int, *, sent_to: int | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, edited cells) of a job's edits not yet sent to a follow-up import, or of
    those sent to ``sent_to``, in row order, a page at a time."""
    after = 0
    while True:
        if sent_to is None:
            page = RowEdit.objects.filter(job_id=job_id, sent_to__isnull=True)
        else:
            page = RowEdit.objects.filter(sent_to_id=sent_to)
        rows = list(
            page.filter(row_number__gt=after)
            .order_by("row_number")
            .values_list("row_number", "cells")[:PAGE]
        )
        yield from rows
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


def edited(cells: Sequence[object], edits: Mapping[str, str], width: int) -> tuple[object, ...]:
    """A row's cells with the manager's edits over them (a short row padded to ``width``)."""
    out = list(cells)
    if len(out) < width:
        out.extend([None] * (width - len(out)))
    for index, text in edits.items():
        i = int(index)
        if 0 <= i < len(out):
            out[i] = text
    return tuple(out)


def with_edits(
    rows: Iterable[Row], edits: Iterator[tuple[int, dict[str, str]]], width: int
) -> Iterator[Row]:
    """The file's rows with the edits over them: both in row order, merged as they stream."""
    pending = next(edits, None)
    if pending is None:  # the common import: the file as it is, at C speed
        yield from rows
        return
    for row in rows:
        while pending is not None and pending[0] < row.number:
            pending = next(edits, None)
        if pending is not None and pending[0] == row.number and row.error is None:
            yield Row(row.number, edited(row.cells, pending[1], width), None)
        else:
            yield row


def edits_write(
    job: ImportJob, changes: Iterable[tuple[int, int, str]], originals: Mapping[int, Sequence[str]]
) -> int:
    """Store edits (row number, column index, text) of rows whose original cells are
    ``originals`` by row number; a cell set back to its original text is no longer an edit.
    Returns how many rows changed. The one write path of the grid and of column-wide fixes."""
    by_row: dict[int, dict[int, str]] = {}
    for number, index, text in changes:
        by_row.setdefault(number, {})[index] = text
    if not by_row:
        return 0
    with transaction.atomic():
        current = {
            e.row_number: e
            for e in RowEdit.objects.select_for_update().filter(
                job=job, row_number__in=list(by_row)
            )
        }
        create, update, drop = [], [], []
        now = timezone.now()
        for number, cells in by_row.items():
            original = originals[number]
            edit = current.get(number)
            merged = dict(edit.cells) if edit is not None else {}
            for index, text in cells.items():
                was = original[index] if index < len(original) else ""
                if text == was:
                    merged.pop(str(index), None)
                else:
                    merged[str(index)] = text
            if edit is None:
                if merged:
                    create.append(
                        RowEdit(channel_id=job.channel_id, job=job, row_number=number, cells=merged)
                    )
            elif not merged:
                drop.append(edit.pk)
            else:
                edit.cells = merged
                edit.updated_at = now  # bulk_update does not apply auto_now
                update.append(edit)
        RowEdit.objects.bulk_create(create, batch_size=PAGE)
        RowEdit.objects.bulk_update(update, ["cells", "updated_at"], batch_size=PAGE)
        RowEdit.objects.filter(pk__in=drop).delete()
    return len(create) + len(update) + len(drop)


# --- what the check and the import read -------------------------------------------------------------
class ImportRows(Protocol):
    """The rows an import or a check reads: a file's, or a follow-up's failed rows."""

    @property
    def headers(self) -> tuple[str, ...]: ...

    @property
    def encoding(self) -> str | None: ...

    def rows(self) -> Iterator[Row]: ...

    def count_rows(self) -> int: ...


class EditedFile:
    """A draft's file with the manager's edits over its failed rows."""

    def __init__(self, table: Table, job: ImportJob) -> None:
        self.table = table
        self.job_id = job.pk
        self.headers = table.headers
        self.encoding = table.encoding

    def rows(self) -> Iterator[Row]:
        return with_edits(self.table.rows(), edits_in_order(self.job_id), len(self.headers))

    def count_rows(self) -> int:
        return self.table.count_rows()


class FollowUpRows:
    """A follow-up import's rows: the failed rows of the import it fixes that were sent to it,
    with their edits, under their original row numbers."""

    def __init__(self, job: ImportJob) -> None:
        assert job.fixes_id is not None
        self.job_id = job.pk
        self.fixes_id = job.fixes_id
        self.headers = tuple(job.headers)
        self.encoding: str | None = None

    def rows(self) -> Iterator[Row]:
        width = len(self.headers)
        edits = edits_in_order(self.fixes_id, sent_to=self.job_id)
        while page := [e for _, e in zip(range(PAGE), edits, strict=False)]:
            cells = dict(page)
            for failure in failures_in_order(self.fixes_id, numbers=list(cells)):
                yield Row(
                    failure.row_number,
                    edited(failure.values, cells[failure.row_number], width),
                    None,
                )

    def count_rows(self) -> int:
        return RowEdit.objects.filter(sent_to_id=self.job_id).count()


@contextmanager
def open_import_rows(job: ImportJob) -> Iterator[ImportRows]:
    """What the check and the import read: a follow-up's failed rows, or the job's file with
    the manager's edits over it."""
    if job.fixes_id is not None:
        yield FollowUpRows(job)
        return
    with open_job_table(job) as table:
        yield EditedFile(table, job)

"""The grid of failed rows (R2.16a): which jobs have one, a page of it, and one row judged
again with the import's own parsers after an edit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.utils import timezone
from django.utils.translation import gettext

from crm.selectors import profile_keys_by_name
from crm.values import InvalidValue
from importer.check import check_is_current, check_of
from importer.mapping import EMPTY, Column, Plan, build_plan, parse_cell
from importer.models import CheckStatus, ImportFailure, ImportJob, ImportStatus, RowEdit
from importer.writers.base import cell_text

PAGE_ROWS = 50


class GridRefused(Exception):
    """A request the grid cannot do: the message says why (a 4xx at HTTP)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def grid_refusal(job: ImportJob) -> str | None:
    """Why ``job`` has no grid of failed rows to fix, or None when it has one."""
    if job.is_undo:
        return gettext("An undo has no failed rows to fix.")
    if job.status == ImportStatus.DRAFT:
        check = check_of(job)
        if not check_is_current(check, job) or check is None or check.status != CheckStatus.DONE:
            return gettext("Check the whole file first: its failed rows are found by the check.")
        return None
    if job.status not in (ImportStatus.SUCCEEDED, ImportStatus.CANCELLED):
        return gettext("Failed rows can be fixed once the import has ended.")
    expires = job.failure_log_expires_at
    if expires is None or expires < timezone.now():
        return gettext("This import has no failed rows kept: they are kept for 30 days.")
    if job.undos.filter(status=ImportStatus.SUCCEEDED).exists():
        return gettext("This import was undone: its failed rows are no longer imported.")
    return None


def job_plan(job: ImportJob) -> Plan:
    """The import's plan (kind, identity, mapping, phone country), as the import builds it."""
    return build_plan(
        headers=job.headers,
        mapping=job.mapping,
        keys=profile_keys_by_name(job.channel),
        kind=job.kind,
        identity=job.identity,
        region=job.phone_region or None,
    )


@dataclass(frozen=True)
class GridCell:
    column: Column
    value: str
    edited: bool
    reason: str  # "" when the cell parses


@dataclass
class GridRow:
    number: int
    cells: list[GridCell]
    notes: list[str] = field(default_factory=list)  # reasons that are not one cell's
    sent_to: int | None = None  # the follow-up import that took it
    locked: bool = False  # a row-level problem (a damaged line): not fixed cell by cell

    @property
    def ok(self) -> bool:
        return not self.notes and not any(c.reason for c in self.cells)

    @property
    def edited(self) -> bool:
        return any(c.edited for c in self.cells)

    @property
    def reasons(self) -> dict[str, str]:
        """Column index → reason, for the page's script."""
        return {str(c.column.index): c.reason for c in self.cells}


def cell_reasons(plan: Plan, cells: Sequence[object]) -> dict[int, str]:
    """Why each mapped cell of a row fails (column index → reason), with the import's parsers;
    an empty identity fails too (R2.8)."""
    reasons: dict[int, str] = {}
    for column in plan.columns:
        raw = cells[column.index] if column.index < len(cells) else None
        try:
            value = parse_cell(column.parse, column.type, raw)
        except InvalidValue as exc:
            reasons[column.index] = exc.reason
            continue
        if value is EMPTY and column.key == plan.identity:
            reasons[column.index] = gettext(
                "%(key)s is empty: every row of this import needs one"
            ) % {"key": column.key}
    return reasons


def grid_row(plan: Plan, failure: ImportFailure, edit: RowEdit | None) -> GridRow:
    """One failed row as the grid shows it: its cells (edited or original), each judged."""
    changes = edit.cells if edit is not None else {}
    values = [cell_text(v) for v in failure.values]
    cells = [
        changes.get(str(i), values[i] if i < len(values) else "") for i in range(len(plan.headers))
    ]
    reasons = cell_reasons(plan, cells)
    row = GridRow(
        number=failure.row_number,
        cells=[
            GridCell(c, cells[c.index], str(c.index) in changes, reasons.get(c.index, ""))
            for c in plan.columns_in_file_order
        ],
        sent_to=edit.sent_to_id if edit is not None else None,
        locked="" in failure.columns,
    )
    if row.locked or not changes:
        # What the stored failure says beyond its cells: a damaged line, or a rule of the
        # resolve stage (a blocked member, a customer gone meanwhile); an edit is judged anew
        # by the check or the follow-up import.
        keys = {c.column.key for c in row.cells if c.reason}
        row.notes = [
            reason
            for key, reason in zip(failure.columns, failure.reasons, strict=False)
            if key not in keys
        ]
    return row


@dataclass
class GridPage:
    plan: Plan
    page: Page[ImportFailure]
    rows: list[GridRow]
    pending: int  # edited rows not yet imported


def grid_page(job: ImportJob, number: str | None) -> GridPage:
    """A page of a job's failed rows (PAGE_ROWS), each with its edits and reasons."""
    plan = job_plan(job)
    failures = ImportFailure.objects.filter(job=job).order_by("row_number")
    page = Paginator(failures, PAGE_ROWS).get_page(number)
    numbers = [f.row_number for f in page.object_list]
    edits = {e.row_number: e for e in RowEdit.objects.filter(job=job, row_number__in=numbers)}
    rows = [grid_row(plan, f, edits.get(f.row_number)) for f in page.object_list]
    pending = RowEdit.objects.filter(job=job, sent_to__isnull=True).count()
    return GridPage(plan=plan, page=page, rows=rows, pending=pending)

"""The grid's writes (R2.16a): a manager's edit of failed cells, and importing the fixed rows —
before the start by checking the file again with them, after the end as a follow-up import."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext

from crm.models import Channel
from crm.types import Actor, manager_or_none
from importer.check import check_start
from importer.failed_rows.grid import GridRefused, GridRow, grid_refusal, grid_row, job_plan
from importer.failed_rows.storage import edits_write
from importer.jobs import refuse_while_fixing
from importer.models import ImportFailure, ImportJob, ImportStatus, RowEdit
from importer.services import import_start

# No spreadsheet cell is longer (Excel's limit); a longer value is not a cell typed by a person.
MAX_CELL_CHARS = 32_767


def _check_permission(channel: Channel, by: Actor) -> None:
    if by is not None and not by.has_perm("crm.import_customers", channel):
        raise GridRefused(gettext("You may not import customers into this channel."), status=403)


def _clean(text: object) -> str:
    if not isinstance(text, str):
        raise GridRefused(gettext("A cell's value is text."))
    if "\x00" in text:
        raise GridRefused(gettext("A cell cannot contain a NUL character."))
    if len(text) > MAX_CELL_CHARS:
        raise GridRefused(
            gettext("A cell holds at most %(max)s characters; this one has %(n)s.")
            % {"max": f"{MAX_CELL_CHARS:,}", "n": f"{len(text):,}"}
        )
    return text


def cells_edit(
    *, job: ImportJob, by: Actor, changes: Iterable[tuple[int, int, object]]
) -> list[GridRow]:
    """Set failed cells (row number, file column index, text) of ``job``; returns each edited
    row judged again with the import's parsers. Refused (nothing written) for a row that is not
    one of the job's failed rows, a column not mapped, a row already imported by a follow-up, a
    damaged line, or a value that is not a cell's."""
    _check_permission(job.channel, by)
    refusal = grid_refusal(job)
    if refusal:
        raise GridRefused(refusal, status=409)
    plan = job_plan(job)
    mapped = {c.index for c in plan.columns}
    wanted = [(int(n), int(i), _clean(t)) for n, i, t in changes]
    for _, index, _ in wanted:
        if index not in mapped:
            raise GridRefused(
                gettext("Column %(column)s is not imported: only mapped columns can be edited.")
                % {"column": index + 1}
            )
    numbers = sorted({n for n, _, _ in wanted})
    failures = {
        f.row_number: f for f in ImportFailure.objects.filter(job=job, row_number__in=numbers)
    }
    for number in numbers:
        failure = failures.get(number)
        if failure is None:
            raise GridRefused(
                gettext("Row %(row)s is not one of this import's failed rows.") % {"row": number},
                status=404,
            )
        if "" in failure.columns:
            raise GridRefused(
                gettext("Row %(row)s cannot be fixed cell by cell: %(reason)s")
                % {"row": number, "reason": " ".join(failure.reasons)}
            )
    sent = RowEdit.objects.filter(job=job, row_number__in=numbers, sent_to__isnull=False).first()
    if sent is not None:
        raise GridRefused(
            gettext("Row %(row)s was already imported again by import #%(id)s.")
            % {"row": sent.row_number, "id": sent.sent_to_id},
            status=409,
        )
    edits_write(job, wanted, {n: f.values for n, f in failures.items()})
    edits = {e.row_number: e for e in RowEdit.objects.filter(job=job, row_number__in=numbers)}
    return [grid_row(plan, failures[n], edits.get(n)) for n in numbers]


def fixed_rows_import(*, job: ImportJob, by: Actor, dispatch: bool = True) -> ImportJob:
    """Import the rows fixed in the grid. A draft's file is checked again with its edits (its
    fixed rows become part of the import, their failures go); returns the draft. A finished
    import's edited rows run as a follow-up import under the channel's lock; returns it.
    Raises GridRefused, or ImportLocked while another import of the channel runs (FixApplying
    while a column-wide fix is applied to these rows: docs/decisions.md)."""
    _check_permission(job.channel, by)
    refusal = grid_refusal(job)
    if refusal:
        raise GridRefused(refusal, status=409)
    pending = RowEdit.objects.filter(job=job, sent_to__isnull=True)
    if not pending.exists():
        raise GridRefused(gettext("No row is edited yet: fix a cell first."))
    if job.status == ImportStatus.DRAFT:
        check_start(job=job, dispatch=dispatch)
        return job
    with transaction.atomic():
        ImportJob.objects.select_for_update().filter(pk=job.pk).first()  # a fix starting waits
        refuse_while_fixing(job.pk)  # FixApplying: its rows are not all fixed yet
        followup = ImportJob.objects.create(
            channel=job.channel,
            requested_by=manager_or_none(by),
            origin="web",
            fixes=job,
            filename=job.filename,
            headers=job.headers,
            kind=job.kind,
            identity=job.identity,
            mapping=job.mapping,
            phone_region=job.phone_region,
            empty_policy=job.empty_policy,
            tag=job.tag,
        )
        followup.rows_total = pending.update(sent_to=followup)
        followup.save(update_fields=["rows_total"])
        import_start(job=followup, dispatch=dispatch)  # ImportLocked: nothing stays
    return followup

"""Column-wide fixes on a job's failed rows (R2.16a): the fixes to offer, counted over the failed
rows as the grid shows them (the manager's edits over the original cells), and an accepted fix
written as the grid's own edits by a background job (``ColumnFixJob``, run by the job runtime
like imports and deletions: 100,000 failed rows take tens of seconds), a page of rows at a time,
each fixed row judged again.

Both walk the stored failed rows in keyset pages (``failures_in_order``): memory stays flat at
any number of failed rows. Offers are cached by a fingerprint of the job's failed rows and
edits, so turning the grid's pages does not count them again. Up to ``RECOUNT_ON_EDIT`` failed
rows any edit makes a new count; beyond, a count costs seconds (~20,000 failed rows per CPU
second), so only an applied fix, a new check or a follow-up import does, and a count may
include a few cells the manager has since fixed by hand (applying reads the rows as they are).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max
from django.utils.translation import gettext

from config.celery import queue_on_commit
from crm import jobs
from crm.types import Actor, manager_or_none
from importer.failed_rows.grid import GridRefused, cell_reasons, grid_refusal, job_plan
from importer.failed_rows.services import cells_edit
from importer.failed_rows.storage import PAGE, edited, edits_write, failures_in_order
from importer.fixes import FixFinder, Offer, RowFixer, UnknownFix
from importer.jobs import FIXES, active_fix
from importer.mapping import Plan
from importer.models import ColumnFixJob, FixStatus, ImportFailure, ImportJob, RowEdit
from importer.writers.base import cell_text

OFFERS_TTL = 24 * 3600  # seconds; a changed row or edit makes a new key anyway
RECOUNT_ON_EDIT = 10_000  # failed rows up to which each hand edit makes a new count


def fix_region(job: ImportJob) -> str | None:
    """The country the phone fix reads national numbers in: the channel's (R2.13a)."""
    return str(job.channel.country) or None


@dataclass(frozen=True)
class _FixableRow:
    number: int
    original: list[str]  # the cells as the file had them
    cells: tuple[object, ...]  # as the grid shows them: the manager's edits over the original


def _fixable_rows(job: ImportJob, *, after: int = 0) -> Iterator[_FixableRow]:
    """The job's failed rows a fix may change (past row ``after``), in row order, a page at a
    time: not a damaged line (fixed as a whole, not cell by cell), not a row a follow-up
    import already took."""
    width = len(job.headers)
    failures = failures_in_order(job.pk, after=after)
    while page := list(islice(failures, PAGE)):
        edits = {
            number: (cells, sent_to)
            for number, cells, sent_to in RowEdit.objects.filter(
                job=job,
                row_number__gte=page[0].row_number,
                row_number__lte=page[-1].row_number,
            ).values_list("row_number", "cells", "sent_to_id")
        }
        for failure in page:
            if "" in failure.columns:
                continue
            cells, sent_to = edits.get(failure.row_number, ({}, None))
            if sent_to is not None:
                continue
            original = [cell_text(v) for v in failure.values]
            yield _FixableRow(failure.row_number, original, edited(original, cells, width))


def _job_id(job: ImportJob) -> str:
    """The job, for the cache: its id and creation time (an id alone may come again on a
    database made anew, as tests do, while the cache kept its entries)."""
    return f"{job.pk}:{job.created_at.timestamp()}"


def _applied_key(job: ImportJob) -> str:
    return f"importer:fix-applied:{_job_id(job)}"


def _offers_key(job: ImportJob, plan: Plan, region: str | None) -> str:
    """What the offers depend on: the failed rows, the edits (every edit up to RECOUNT_ON_EDIT
    failed rows; beyond, the rows sent to follow-ups and the fixes applied), the columns and
    the country."""
    failures = ImportFailure.objects.filter(job=job).aggregate(n=Count("id"), last=Max("id"))
    edits: dict[str, object]
    if failures["n"] <= RECOUNT_ON_EDIT:
        edits = RowEdit.objects.filter(job=job).aggregate(
            n=Count("id"), sent=Count("sent_to"), last=Max("updated_at")
        )
    else:
        edits = RowEdit.objects.filter(job=job).aggregate(sent=Count("sent_to"))
        edits["applied"] = cache.get(_applied_key(job))
    columns = [(c.index, c.key, c.type, c.inverted) for c in plan.columns]
    parts = repr((_job_id(job), plan.region, region, columns, failures, edits))
    return "importer:fix-offers:" + hashlib.blake2b(parts.encode(), digest_size=16).hexdigest()


def fix_offers(job: ImportJob) -> list[Offer]:
    """The column-wide fixes to offer for the job's failed rows, most cells first."""
    plan = job_plan(job)
    region = fix_region(job)
    key = _offers_key(job, plan, region)
    cached = cache.get(key)
    if cached is not None:
        return [Offer.from_json(o) for o in cached]
    finder = FixFinder(plan.columns, region=region)
    for row in _fixable_rows(job):
        finder.add_row(row.number, row.cells)
    offers = finder.offers()
    cache.set(key, [o.as_json() for o in offers], OFFERS_TTL)
    return offers


def column_fix_start(
    *, job: ImportJob, by: Actor, key: str, fix: str, dispatch: bool = True
) -> ColumnFixJob:
    """Accept one offered fix: a job (``column_fix_run``) applies it to every failed cell of the
    column it explains, in a worker (in-process without REDIS_URL). Returns the queued job.

    Refused (GridRefused, nothing written) where the manager may not import, the grid is closed
    (the import started or was undone, its rows expired, its check is not current), the fix is
    not one of the column's, or a fix is already being applied to these rows (409)."""
    cells_edit(job=job, by=by, changes=[])  # the grid's own checks: permission, grid open
    plan = job_plan(job)
    try:
        RowFixer(plan, [(key, fix)], region=fix_region(job))
    except UnknownFix:
        raise GridRefused(gettext("This fix does not apply to that column.")) from None
    header = next(c.header for c in plan.columns if c.key == key)
    try:
        with transaction.atomic():
            # The import's row, locked: its check or its start waits for this fix to be
            # recorded, then refuses (importer.jobs.refuse_while_fixing); one that went first
            # is seen here.
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            refusal = grid_refusal(locked)
            if refusal:
                raise GridRefused(refusal, status=409)
            fixing = ColumnFixJob.objects.create(
                channel_id=job.channel_id,
                job=job,
                requested_by=manager_or_none(by),
                key=key,
                fix=fix,
                header=header,
            )
    except IntegrityError:
        raise GridRefused(
            gettext(
                "A fix is already being applied to these failed rows: wait until it ends, "
                "then apply the next one."
            ),
            status=409,
        ) from None
    if dispatch:
        queue_on_commit("importer.apply_column_fix", fixing.pk)
    return fixing


def _fix_page(
    fixing: ColumnFixJob, lease: jobs.Lease, plan: Plan, fixer: RowFixer, page: list[_FixableRow]
) -> None:
    """One page of rows fixed: its edits, its counts and how far the job got commit together
    under the lease (a worker that lost it writes nothing)."""
    index = {c.key: c.index for c in plan.columns}
    changes: list[tuple[int, int, str]] = []
    originals: dict[int, Sequence[str]] = {}
    rows_ok = 0
    for row in page:
        fixed = fixer.fix(row.cells)
        if fixed is None:
            continue
        new_cells, keys = fixed
        originals[row.number] = row.original
        changes += [(row.number, index[k], str(new_cells[index[k]])) for k in keys]
        rows_ok += not cell_reasons(plan, new_cells)
    with transaction.atomic():
        edits_write(fixing.job, changes, originals)
        jobs.fence(
            lease,
            after_row=page[-1].number,
            cells=F("cells") + len(changes),
            rows_ok=F("rows_ok") + rows_ok,
        )


def _end(fixing: ColumnFixJob, lease: jobs.Lease, status: str, error: str = "") -> None:
    if not jobs.release(lease, status=status, error=error):
        raise jobs.LeaseLost(f"column fix #{fixing.pk} was taken over while finishing")


def _offers_changed(job: ImportJob) -> None:
    """A fix was applied: the offers are counted again (beyond RECOUNT_ON_EDIT failed rows an
    edit alone does not make a new count)."""
    cache.set(_applied_key(job), uuid.uuid4().hex, OFFERS_TTL)


def column_fix_run(fix_id: int) -> ColumnFixJob:
    """Apply (or resume) an accepted fix as the manager's edits (what typing each fixed value in
    the grid would store), page by page, each page in its own transaction with the job's
    progress; the changed rows are judged again with the import's parsers. A retry resumes
    after the last committed page: no edit is lost or written twice. Returns the job as it
    stands afterwards; a job that is done or held by a live worker is left alone."""
    lease = jobs.claim(FIXES, fix_id)
    fixing = ColumnFixJob.objects.select_related("job__channel").get(pk=fix_id)
    if lease is None:
        return fixing
    with jobs.holding(lease) as held:
        job = fixing.job
        try:
            refusal = grid_refusal(job)
            if refusal:  # not while queued (the import waits), but its rows may have expired
                _end(fixing, lease, FixStatus.FAILED, refusal)
            else:
                plan = job_plan(job)
                try:
                    fixer = RowFixer(plan, [(fixing.key, fixing.fix)], region=fix_region(job))
                except UnknownFix:  # the mapping changed since (a new check was refused)
                    error = gettext("This fix does not apply to that column.")
                    _end(fixing, lease, FixStatus.FAILED, error)
                else:
                    rows = _fixable_rows(job, after=fixing.after_row)
                    while page := list(islice(rows, PAGE)):
                        held.checkpoint()
                        _fix_page(fixing, lease, plan, fixer, page)
                    _offers_changed(job)
                    # Counted here, before the grid reloads: not seconds of its request.
                    fix_offers(job)
                    _end(fixing, lease, FixStatus.SUCCEEDED)
        except jobs.JobCancelled:
            _offers_changed(job)
            _end(fixing, lease, FixStatus.CANCELLED)
    fixing.refresh_from_db()
    return fixing


def fix_shown(job: ImportJob, fix_id: str | None) -> ColumnFixJob | None:
    """The fix the grid's page shows: the one being applied to the import's rows, else the one
    the manager just applied (``?fix=``, once it ended), else none."""
    active = active_fix(job.pk)
    if active is not None or not (fix_id or "").isdigit():
        return active
    return ColumnFixJob.objects.filter(job=job, pk=int(fix_id or 0)).first()

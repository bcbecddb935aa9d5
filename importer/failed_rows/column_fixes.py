"""Column-wide fixes on a job's failed rows (R2.16a): the fixes to offer, counted over the failed
rows as the grid shows them (the manager's edits over the original cells), and an accepted fix
written as the grid's own edits, a page of rows at a time, each fixed row judged again.

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
from django.db.models import Count, Max
from django.utils.translation import gettext

from crm.types import Actor
from importer.failed_rows.grid import GridRefused, cell_reasons, job_plan
from importer.failed_rows.services import cells_edit
from importer.failed_rows.storage import PAGE, edited, edits_write, failures_in_order
from importer.fixes import FixFinder, Offer, RowFixer, UnknownFix
from importer.mapping import Plan
from importer.models import ImportFailure, ImportJob, RowEdit
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


def _fixable_rows(job: ImportJob) -> Iterator[_FixableRow]:
    """The job's failed rows a fix may change, in row order, a page at a time: not a damaged
    line (fixed as a whole, not cell by cell), not a row a follow-up import already took."""
    width = len(job.headers)
    failures = failures_in_order(job.pk)
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


@dataclass(frozen=True)
class FixApplied:
    header: str  # the column fixed
    cells: int  # cells the fix changed
    rows_ok: int  # of their rows, those every parser now accepts


def column_fix_apply(*, job: ImportJob, by: Actor, key: str, fix: str) -> FixApplied:
    """Apply one offered fix to every failed cell of a column it explains, as the manager's
    edits (what typing each fixed value in the grid would store), page by page, each page in
    its own transaction; the changed rows are judged again with the import's parsers.

    Refused (GridRefused, nothing written) where the manager may not import, the grid is
    closed (the import was undone, its rows expired) or the fix is not one of the column's."""
    cells_edit(job=job, by=by, changes=[])  # the grid's own checks: permission, grid open
    plan = job_plan(job)
    try:
        fixer = RowFixer(plan, [(key, fix)], region=fix_region(job))
    except UnknownFix:
        raise GridRefused(gettext("This fix does not apply to that column.")) from None
    index = {c.key: c.index for c in plan.columns}
    header = next(c.header for c in plan.columns if c.key == key)
    cells = rows_ok = 0
    rows = _fixable_rows(job)
    while page := list(islice(rows, PAGE)):
        changes: list[tuple[int, int, str]] = []
        originals: dict[int, Sequence[str]] = {}
        for row in page:
            fixed = fixer.fix(row.cells)
            if fixed is None:
                continue
            new_cells, keys = fixed
            originals[row.number] = row.original
            changes += [(row.number, index[k], str(new_cells[index[k]])) for k in keys]
            rows_ok += not cell_reasons(plan, new_cells)
        if changes:
            edits_write(job, changes, originals)
            cells += len(changes)
    cache.set(_applied_key(job), uuid.uuid4().hex, OFFERS_TTL)  # a new count of the offers
    return FixApplied(header=header, cells=cells, rows_ok=rows_ok)

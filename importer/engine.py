"""The import pipeline, end to end: read → map → resolve → apply → report, chunk by chunk.

``run_import`` is what the Celery task and the command line call. It claims the job (or leaves
it to the worker that holds it), resumes after the last committed row, and ends the job with
its counts, failure log, bot messages and activity entry.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from crm import jobs
from crm.db.statistics import analyze_changed, merge_gin_pending
from crm.models import ActivityLog, Customer, CustomerImportTag, ImportTag
from crm.selectors import profile_keys_by_name
from crm.services.activity import activity_record
from importer.apply import Merger
from importer.failed_rows.storage import failures_clear, open_import_rows
from importer.jobs import IMPORTS
from importer.mapping import MappedRow, MappingError, RowMapper, build_plan
from importer.models import ImportJob, ImportJournal, ImportStatus
from importer.reading import FileRefused, Row
from importer.report import import_finished, write_failure_logs
from importer.resolve import FEW_CUSTOMERS, refresh_statistics
from importer.writers import ChunkWriter, can_pipeline, writer_for
from importer.writers.pipeline import WritePipeline

log = logging.getLogger(__name__)

Progress = Callable[[ImportJob], None]


def chunk_size() -> int:
    return int(getattr(settings, "IMPORT_CHUNK_ROWS", 2000))


def run_import(job_id: int, *, progress: Progress | None = None) -> ImportJob:
    """Run (or resume) one import job; returns the job as it stands afterwards. An undo (a line
    of the import log too, dispatched and reaped as one) runs as ``importer.undo`` says."""
    if ImportJob.objects.filter(pk=job_id, undoes__isnull=False).exists():
        from importer.undo import run_undo  # the undo module builds on this one's neighbours

        return run_undo(job_id, progress=progress)
    lease = jobs.claim(IMPORTS, job_id)
    job = ImportJob.objects.select_related("channel", "requested_by").get(pk=job_id)
    if lease is None:
        log.info("import #%s not claimed (status %s): nothing to do", job_id, job.status)
        return job
    with jobs.holding(lease) as held:
        try:
            _run(job, lease, held, progress)
        except jobs.JobCancelled:
            _finish(job, lease, status=ImportStatus.CANCELLED)
        except (FileRefused, MappingError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            jobs.release(lease, status=ImportStatus.FAILED, error=reason)
            import_finished(ImportJob.objects.get(pk=job_id))
    job.refresh_from_db()
    return job


def _run(job: ImportJob, lease: jobs.Lease, held: jobs.Held, progress: Progress | None) -> None:
    channel = job.channel
    if job.position <= 1:
        # A fresh start: the check's failed rows (R2.16a) give way to the import's own.
        failures_clear(job.pk)
    with open_import_rows(job) as table:  # the file with the grid's fixes, or a follow-up's rows
        plan = build_plan(
            headers=table.headers,
            mapping=job.mapping,
            keys=profile_keys_by_name(channel),
            kind=job.kind,
            identity=job.identity,
            region=job.phone_region or None,
        )
        if job.rows_total is None:
            for _ in _stoppable(table.rows(), held):  # the first pass: count (and check)
                pass
            job.rows_total = table.count_rows()  # counted by the pass above
            jobs.fence(lease, rows_total=job.rows_total, encoding=table.encoding or "")
        tag = None
        if job.tag:
            tag, _ = ImportTag.objects.get_or_create(channel=channel, name=job.tag)
        mapper = RowMapper(plan)
        merger = Merger(plan, empty_policy=job.empty_policy)
        writer = writer_for(job, channel, tag)
        start_after = job.position
        chunks = mapper.map_rows(_after(table.rows(), start_after, held), chunk_size())
        statistics = _Statistics(channel.pk)
        with _few_collections():
            _chunks_through(job, lease, held, writer, merger, chunks, statistics, progress)
    _refresh_statistics(job)
    _finish(job, lease, status=ImportStatus.SUCCEEDED)


def _chunks_through(
    job: ImportJob,
    lease: jobs.Lease,
    held: jobs.Held,
    writer: ChunkWriter,
    merger: Merger,
    chunks: Iterator[list[MappedRow]],
    statistics: _Statistics,
    progress: Progress | None,
) -> None:
    """Merge and write each chunk: pipelined on PostgreSQL, one after the other elsewhere.
    Before each chunk the job may stop (cancelled, worker stopping, lease lost): what committed
    stays, and a resumed run starts after it."""
    channel_id = job.channel_id
    if can_pipeline(writer):
        with WritePipeline(writer, lease) as pipeline:
            for chunk in chunks:
                held.checkpoint()
                statistics.before(len(chunk))
                pipeline.submit(merger.apply_chunk(channel_id, chunk, pipeline.pending()))
                _report(job, progress)
    else:
        for chunk in chunks:
            held.checkpoint()
            statistics.before(len(chunk))
            writer.write(merger.apply_chunk(channel_id, chunk), lease)
            _report(job, progress)


def _stoppable(rows: Iterator[Row], held: jobs.Held, every: int = 5000) -> Iterator[Row]:
    """A pass over the file that can stop every ``every`` rows: a cancel or a SIGTERM is not
    kept waiting by counting a big file, or by skipping the rows a resumed import already did.
    The cancel flag is read every half second of it (a read per 5,000 rows was 0.25 s of a
    1,000,000-row import's critical path)."""
    for number, row in enumerate(rows):
        if not number % every:
            held.checkpoint(peek_every=0.5)
        yield row


def _after(rows: Iterator[Row], start_after: int, held: jobs.Held) -> Iterator[Row]:
    """The rows after ``start_after`` (a resumed import's position); skipping the rows before
    them can stop like the first pass, and the rows themselves stop at each chunk."""
    rows = iter(rows)
    for row in _stoppable(rows, held):
        if row.number > start_after:
            yield row
            break
    yield from rows


class _Statistics:
    """``refresh_statistics`` each time the rows this import has written double (from 20,000):
    the planner's estimate is asked ~6 times in a 1,000,000-row import, and ANALYZE runs where
    the estimate lags."""

    # From this many rows the look-ups probe value by value (importer.resolve.FEW_CUSTOMERS),
    # which needs the planner to know the channel is big: one number for both.
    FIRST = FEW_CUSTOMERS

    def __init__(self, channel_id: int) -> None:
        self.channel_id = channel_id
        self.rows = 0
        self.next_at = self.FIRST

    def before(self, rows: int) -> None:
        if self.rows >= self.next_at:
            refresh_statistics(self.channel_id, self.rows)
            self.next_at = 2 * self.rows
        self.rows += rows


def _refresh_statistics(job: ImportJob) -> None:
    """After the last chunk: the tables the import grew get fresh planner statistics where
    autovacuum would refresh them (crm.db.statistics), so that what a manager does next — the
    import-tag filter, deleting the import's customers — is planned for the tables as they are."""
    job.refresh_from_db(fields=["created", "updated"])
    touched = job.created + job.updated
    tables = {Customer._meta.db_table: touched, ImportJournal._meta.db_table: touched}
    if job.tag:
        tables[CustomerImportTag._meta.db_table] = touched
    analyzed = analyze_changed(tables)
    if touched and Customer._meta.db_table not in analyzed:
        # Below ANALYZE's threshold the search indexes' pending entries are merged all the same:
        # every search reads them whole (crm.db.statistics.merge_gin_pending).
        merge_gin_pending(Customer._meta.db_table)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, tuned for the chunk loop: the objects that exist before
    it (Django, the plan, the memo) are left out of collections, and collections come every
    50,000 new objects instead of 700. An import allocates millions of short-lived objects
    without cycles, and the default schedule spent ~12 µs per row collecting (measured with
    bench/import_stages.py). Restored afterwards; the worker process is otherwise unchanged."""
    threshold = gc.get_threshold()
    # A process that froze objects itself (a pre-forking server) keeps them frozen: then ours
    # stay frozen too, which only spares a few long-lived objects from collections.
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    gc.set_threshold(50_000, threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if not frozen_before:
            gc.unfreeze()


def _report(job: ImportJob, progress: Progress | None) -> None:
    if progress is not None:
        job.refresh_from_db()
        progress(job)


def _finish(job: ImportJob, lease: jobs.Lease, *, status: str) -> None:
    """End the job (succeeded, or cancelled with what committed): failure log, counts, the
    activity entry and the bot message."""
    job.refresh_from_db()
    paths = write_failure_logs(job)
    ended = jobs.release(
        lease,
        status=status,
        **({"error": ""} if status == ImportStatus.SUCCEEDED else {}),
        failure_log_csv=paths.csv if paths else "",
        failure_log_xlsx=paths.xlsx if paths else "",
        failure_log_expires_at=(
            timezone.now() + timedelta(days=settings.FAILURE_LOG_RETENTION_DAYS) if paths else None
        ),
    )
    if not ended:
        raise jobs.LeaseLost(f"import #{job.pk} was taken over while finishing")
    job.refresh_from_db()
    activity_record(
        channel=job.channel,
        actor=job.requested_by,
        action=ActivityLog.Action.IMPORT,
        via=ActivityLog.Via.IMPORT,
        count=job.created + job.updated,
        detail={
            "import": job.pk,
            "file": job.filename,
            "kind": job.kind,
            "identity": job.identity,
            "tag": job.tag,
            "created": job.created,
            "updated": job.updated,
            "failed": job.failed,
        },
    )
    import_finished(job)

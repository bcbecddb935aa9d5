"""Imports as jobs of the job runtime (``crm.jobs``), and the channel's one-import lock (R2.17).

The lock is the database's: a partial unique index allows one queued-or-running import per
channel. Claiming, the heartbeat, fencing, the reaper, cancellation and hand-back are the
runtime's; this module says how an import is one of its jobs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from config.celery import queue
from crm import jobs
from importer.models import ColumnFixJob, FixStatus, ImportJob, ImportStatus
from importer.report import import_finished


class ImportLocked(Exception):
    """Another import of the channel is queued or running."""

    def __init__(self, running: ImportJob | None) -> None:
        self.running = running
        if running is None:
            message = gettext(
                "another import of this channel is queued or running; try again when it ends"
            )
        else:
            who = running.requested_by.get_username() if running.requested_by else running.origin
            message = gettext(
                "import #%(import)s of %(file)s (by %(who)s) is %(status)s in this channel"
                " (%(rows)s rows done): one import runs at a time; start this one when it ends"
            ) % {
                "import": running.pk,
                "file": repr(running.filename),
                "who": who,
                "status": running.get_status_display().lower(),
                "rows": f"{running.rows_done:,}",
            }
        super().__init__(message)


class FixApplying(ImportLocked):
    """A column-wide fix is being applied to the import's failed rows (R2.16a): the import,
    its check and a follow-up wait until it ends (docs/decisions.md)."""

    def __init__(self, fix: ColumnFixJob) -> None:
        self.running = None
        self.fix = fix
        Exception.__init__(
            self,
            gettext(
                "A fix is being applied to column “%(column)s” of the failed rows: "
                "start again when it ends (the failed rows page shows its progress)."
            )
            % {"column": fix.header},
        )


def active_fix(job_id: int) -> ColumnFixJob | None:
    """The column-wide fix queued or running on import ``job_id``'s failed rows, if any."""
    return ColumnFixJob.objects.filter(
        job_id=job_id, status__in=[FixStatus.QUEUED, FixStatus.RUNNING]
    ).first()


def refuse_while_fixing(job_id: int) -> None:
    """Inside the caller's transaction, having locked or updated the import's row: FixApplying
    while a fix runs on its failed rows (a fix starting meanwhile waits for that lock, then
    sees the import no longer open to fixes)."""
    fix = active_fix(job_id)
    if fix is not None:
        raise FixApplying(fix)


def _dispatch(job_id: int) -> None:
    queue("importer.run_import", job_id)


IMPORTS = jobs.register(
    jobs.JobKind(
        name="import",
        model=ImportJob,
        queued=ImportStatus.QUEUED,
        running=ImportStatus.RUNNING,
        failed=ImportStatus.FAILED,
        cancelled=ImportStatus.CANCELLED,
        stale_seconds=lambda: settings.IMPORT_STALE_SECONDS,
        max_attempts=lambda: settings.IMPORT_MAX_ATTEMPTS,
        dispatch=_dispatch,
        ended=import_finished,  # the bot message (R2.18); the upload goes
        queued_since="queued_at",
    )
)


def _dispatch_fix(fix_id: int) -> None:
    queue("importer.apply_column_fix", fix_id)


FIXES = jobs.register(
    jobs.JobKind(
        name="column fix",
        model=ColumnFixJob,
        queued=FixStatus.QUEUED,
        running=FixStatus.RUNNING,
        failed=FixStatus.FAILED,
        cancelled=FixStatus.CANCELLED,
        stale_seconds=lambda: settings.IMPORT_STALE_SECONDS,
        max_attempts=lambda: settings.IMPORT_MAX_ATTEMPTS,
        dispatch=_dispatch_fix,
    )
)


def active_import(channel_id: int) -> ImportJob | None:
    return (
        ImportJob.objects.select_related("requested_by")
        .filter(channel_id=channel_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
        .first()
    )


def enqueue(job: ImportJob) -> None:
    """draft → queued, or ImportLocked naming the import that holds the channel (FixApplying
    while a column-wide fix is applied to the draft's failed rows)."""
    try:
        with transaction.atomic():
            changed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.DRAFT).update(
                status=ImportStatus.QUEUED, queued_at=timezone.now()
            )
            if changed:
                refuse_while_fixing(job.pk)  # a draft reads its edits: not half-applied ones
    except IntegrityError:
        raise ImportLocked(active_import(job.channel_id)) from None
    if not changed:
        job.refresh_from_db()
        raise ImportLocked(job if job.active else None)
    job.refresh_from_db()


def claim(job_id: int) -> jobs.Lease | None:
    return jobs.claim(IMPORTS, job_id)

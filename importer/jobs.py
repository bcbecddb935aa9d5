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
from importer.models import ImportJob, ImportStatus
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


def active_import(channel_id: int) -> ImportJob | None:
    return (
        ImportJob.objects.select_related("requested_by")
        .filter(channel_id=channel_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
        .first()
    )


def enqueue(job: ImportJob) -> None:
    """draft → queued, or ImportLocked naming the import that holds the channel."""
    try:
        with transaction.atomic():
            changed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.DRAFT).update(
                status=ImportStatus.QUEUED, queued_at=timezone.now()
            )
    except IntegrityError:
        raise ImportLocked(active_import(job.channel_id)) from None
    if not changed:
        job.refresh_from_db()
        raise ImportLocked(job if job.active else None)
    job.refresh_from_db()


def claim(job_id: int) -> jobs.Lease | None:
    return jobs.claim(IMPORTS, job_id)

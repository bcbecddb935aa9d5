"""All import locking in one place (R2.17): queueing under the database's one-active-import
constraint, claiming a job with a conditional UPDATE, fencing every chunk, finding dead workers.

The database is the truth: a partial unique index allows one queued-or-running job per channel;
a worker owns a running job only while its lease token is the job's, and each chunk's commit
re-checks that token in the same transaction, so a worker that lost the job writes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from importer.models import ImportJob, ImportStatus


class ImportLocked(Exception):
    """Another import of the channel is queued or running."""

    def __init__(self, running: ImportJob | None) -> None:
        self.running = running
        if running is None:
            message = "another import of this channel is queued or running; try again when it ends"
        else:
            who = running.requested_by.get_username() if running.requested_by else running.origin
            message = (
                f"import #{running.pk} of {running.filename!r} (by {who}) is {running.status}"
                f" in this channel ({running.rows_done:,} rows done): one import runs at a time;"
                " start this one when it ends"
            )
        super().__init__(message)


class LeaseLost(Exception):
    """This worker no longer owns the job (another worker resumed it): stop, write nothing."""


@dataclass(frozen=True)
class Lease:
    job_id: int
    token: uuid.UUID


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "IMPORT_STALE_SECONDS", 60))


def max_attempts() -> int:
    return int(getattr(settings, "IMPORT_MAX_ATTEMPTS", 3))


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


def claim(job_id: int) -> Lease | None:
    """Take a queued job, or a running one whose worker stopped beating; None if not ours."""
    token = uuid.uuid4()
    now = timezone.now()
    dead = Q(status=ImportStatus.RUNNING, heartbeat_at__lt=now - stale_after())
    taken = ImportJob.objects.filter(Q(status=ImportStatus.QUEUED) | dead, pk=job_id).update(
        status=ImportStatus.RUNNING,
        lease_token=token,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    if not taken:
        return None
    ImportJob.objects.filter(pk=job_id, started_at__isnull=True).update(started_at=now)
    return Lease(job_id=job_id, token=token)


def fence(lease: Lease, **updates: object) -> None:
    """Inside the chunk's transaction: record progress only if the lease still holds."""
    ok = ImportJob.objects.filter(pk=lease.job_id, lease_token=lease.token).update(
        heartbeat_at=timezone.now(), **updates
    )
    if not ok:
        raise LeaseLost(f"import #{lease.job_id} was taken over by another worker")


def release(lease: Lease, *, status: str, error: str = "", **updates: object) -> bool:
    """End the job (succeeded/failed): the channel is free again."""
    return bool(
        ImportJob.objects.filter(pk=lease.job_id, lease_token=lease.token).update(
            status=status,
            error=error,
            lease_token=None,
            finished_at=timezone.now(),
            **updates,
        )
    )


def stale_jobs() -> list[ImportJob]:
    """Running jobs whose worker stopped beating, and queued jobs nobody picked up."""
    now = timezone.now()
    return list(
        ImportJob.objects.filter(
            Q(status=ImportStatus.RUNNING, heartbeat_at__lt=now - stale_after())
            | Q(status=ImportStatus.QUEUED, queued_at__lt=now - stale_after())
        )
    )


def fail_abandoned(job: ImportJob, reason: str) -> bool:
    """Fail a job that has used up its attempts, freeing its channel."""
    return bool(
        ImportJob.objects.filter(pk=job.pk, status=job.status, attempts=job.attempts).update(
            status=ImportStatus.FAILED,
            error=reason,
            lease_token=None,
            finished_at=timezone.now(),
        )
    )

"""Claiming, fencing, ending, handing back and cancelling a job: conditional UPDATEs on the job's
row, the database being the truth (R2.17, R2.24).

A job kind (imports, deletions, builder pulls…) is described once by a ``JobKind`` and
registered, so the reaper (``crm.jobs.reaper``) knows every kind without importing its app.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.languages import in_language_of, requester_of
from crm.models import LeasedJob


class LeaseLost(Exception):
    """This worker no longer holds the job (another worker resumed it): stop, write nothing."""


class JobStopped(Exception):
    """The job stops at a chunk boundary: what committed stays."""


class JobCancelled(JobStopped):
    """A manager cancelled the job."""


class HandBack(JobStopped):
    """The worker was asked to stop (SIGTERM): the job goes back to the queue."""


def _nothing(job: Any) -> None:
    return None


@dataclass(frozen=True)
class JobKind:
    """How the runtime reads one model of jobs: its statuses, limits and task.

        ``dispatch`` hands a job id to a worker (a Celery task's ``delay``); ``ended`` runs after the
        runtime itself ended a job no worker holds (failed out of attempts, cancelled while queued or
        dead), e.g. the import's bot message; ``upkeep`` is kind-specific tidying the reaper runs
    too (a pull follows its import). ``queued_since`` is the row's field for "waiting since"
        when no heartbeat was ever written.
    """

    name: str
    model: type[LeasedJob]
    queued: str
    running: str
    failed: str
    cancelled: str
    stale_seconds: Callable[[], float]
    max_attempts: Callable[[], int]
    dispatch: Callable[[int], None]
    ended: Callable[[Any], None] = field(default=_nothing)
    queued_since: str = "created_at"
    upkeep: Callable[[], None] | None = None  # the reaper runs it after each pass

    def rows(self) -> Any:
        """The model's rows (typed loosely: the status and time fields are the model's own)."""
        return self.model._default_manager

    def stale_after(self) -> timedelta:
        return timedelta(seconds=float(self.stale_seconds()))


@dataclass(frozen=True)
class Lease:
    kind: JobKind
    job_id: int
    token: uuid.UUID


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Make a kind known to the reaper (each app registers its own, at import)."""
    _KINDS[kind.name] = kind
    return kind


def kinds() -> list[JobKind]:
    return list(_KINDS.values())


def claim(kind: JobKind, job_id: int, **updates: Any) -> Lease | None:
    """Take a queued job, or a running one whose worker stopped beating, if attempts are left.

    One conditional UPDATE: of two workers delivered the same job, one gets it. None when the
    job is not ours to run (done, held by a live worker, out of attempts, being cancelled).
    """
    token = uuid.uuid4()
    now = timezone.now()
    dead = Q(status=kind.running, heartbeat_at__lt=now - kind.stale_after())
    taken = (
        kind.rows()
        .filter(
            Q(status=kind.queued) | dead,
            pk=job_id,
            attempts__lt=kind.max_attempts(),
            cancel_requested=False,
        )
        .update(
            **{
                "status": kind.running,
                "lease_token": token,
                "heartbeat_at": now,
                "attempts": F("attempts") + 1,
                "started_at": Coalesce(F("started_at"), Value(now)),
                **updates,
            }
        )
    )
    return Lease(kind=kind, job_id=job_id, token=token) if taken else None


def _held(lease: Lease) -> Any:
    return lease.kind.rows().filter(pk=lease.job_id, lease_token=lease.token)


def fence(lease: Lease, **updates: Any) -> None:
    """Inside a chunk's transaction: record progress only while the lease holds (else
    LeaseLost, and the transaction's writes roll back with it)."""
    if not _held(lease).update(heartbeat_at=timezone.now(), **updates):
        raise LeaseLost(f"{lease.kind.name} #{lease.job_id} was taken over by another worker")


def beat(lease: Lease) -> bool | None:
    """The heartbeat: True when a manager asked to cancel, None when the lease is lost."""
    held = _held(lease)
    if not held.update(heartbeat_at=timezone.now()):
        return None
    return bool(held.values_list("cancel_requested", flat=True).first())


def peek(lease: Lease) -> bool | None:
    """Whether a manager asked to cancel (None: the lease is lost), read without writing: what
    a checkpoint asks between two chunks while a heartbeat thread does the beating."""
    return _held(lease).values_list("cancel_requested", flat=True).first()


def release(lease: Lease, *, status: str, **updates: Any) -> bool:
    """End the job (succeeded, failed, cancelled): the lease goes with it."""
    return bool(
        _held(lease).update(status=status, lease_token=None, finished_at=timezone.now(), **updates)
    )


def hand_back(lease: Lease) -> bool:
    """The worker stops (SIGTERM): the job is queued again for any worker, its attempt given
    back (a clean hand-back is not a dead worker), and dispatched at once."""
    kind = lease.kind
    requeued = (
        _held(lease)
        .filter(status=kind.running)
        .update(
            status=kind.queued,
            lease_token=None,
            heartbeat_at=timezone.now(),
            attempts=F("attempts") - 1,
        )
    )
    if requeued:
        kind.dispatch(lease.job_id)
    return bool(requeued)


def ended(kind: JobKind, job_id: int) -> None:
    """Run the kind's ``ended`` hook for a job the runtime itself ended, in the language of the
    manager who started it (R11.1)."""
    with in_language_of(requester_of(kind.model, job_id)):
        kind.ended(kind.rows().get(pk=job_id))


def cancel(kind: JobKind, job_id: int, *, error: str) -> str:
    """Cancel a job: ``"cancelled"`` when nobody was running it (queued, or its worker is dead:
    ended now, the channel is free), ``"requested"`` when its worker stops at its next chunk
    boundary, ``"over"`` when it had already ended."""
    now = timezone.now()
    rows = kind.rows()
    idle = Q(status=kind.queued) | Q(status=kind.running, heartbeat_at__lt=now - kind.stale_after())
    if rows.filter(idle, pk=job_id).update(
        status=kind.cancelled,
        lease_token=None,
        cancel_requested=True,
        error=error,
        finished_at=now,
    ):
        ended(kind, job_id)
        return "cancelled"
    if rows.filter(pk=job_id, status=kind.running).update(cancel_requested=True, error=error):
        return "requested"
    return "over"

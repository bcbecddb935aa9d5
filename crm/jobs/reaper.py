"""Finding jobs nobody runs: a running job whose heartbeat went silent (its worker died) is
queued again and dispatched, or failed once out of attempts, or cancelled if a manager asked;
a queued job nobody picked up (its message was lost) is dispatched again.

Each change is a conditional UPDATE on the row as it was read, so of several reapers (every
worker runs one) exactly one acts on a job.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from crm.jobs.lease import JobKind, ended, kinds
from crm.languages import in_language_of, requester_of


def reap(kind: JobKind) -> list[int]:
    """Reap one kind of job; returns the ids dispatched again."""
    now = timezone.now()
    limit = now - kind.stale_after()
    rows = kind.rows()
    dispatched: list[int] = []
    dead = rows.filter(status=kind.running, heartbeat_at__lt=limit)
    for job_id, token, attempts, cancel in dead.values_list(
        "pk", "lease_token", "attempts", "cancel_requested"
    ):
        this = rows.filter(
            pk=job_id, status=kind.running, lease_token=token, heartbeat_at__lt=limit
        )
        if cancel:
            _end(kind, this, job_id, status=kind.cancelled, finished_at=now, lease_token=None)
        elif attempts >= kind.max_attempts():
            with in_language_of(requester_of(kind.model, job_id)):  # R11.1: the reader's
                reason = gettext(
                    "The worker running it stopped %(attempts)s times; it was abandoned."
                ) % {"attempts": attempts}
            _end(
                kind,
                this,
                job_id,
                status=kind.failed,
                error=reason,
                finished_at=now,
                lease_token=None,
            )
        elif this.update(status=kind.queued, lease_token=None, heartbeat_at=now):
            kind.dispatch(job_id)
            dispatched.append(job_id)
    waiting = Q(heartbeat_at__lt=limit) | Q(
        heartbeat_at__isnull=True, **{f"{kind.queued_since}__lt": limit}
    )
    for job_id in rows.filter(waiting, status=kind.queued).values_list("pk", flat=True):
        if rows.filter(waiting, pk=job_id, status=kind.queued).update(heartbeat_at=now):
            kind.dispatch(job_id)
            dispatched.append(job_id)
    if kind.upkeep is not None:
        kind.upkeep()
    return dispatched


def _end(kind: JobKind, this: QuerySet[Any], job_id: int, **updates: Any) -> None:
    if this.update(**updates):
        ended(kind, job_id)


def reap_all() -> dict[str, list[int]]:
    """Every registered kind: what the worker's reaper thread runs every few seconds."""
    return {kind.name: reap(kind) for kind in kinds()}

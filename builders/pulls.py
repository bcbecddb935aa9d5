"""Pulling a builder's customers (R5.1): pages from the builder's API into an import file, then
the same member import as an upload — the channel's one-import lock, counts, failure log and
progress are the import engine's.

A pull is claimed with a conditional UPDATE and fenced by its lease at every page; one whose
worker died while fetching is fetched again from the start (the import that follows is an
upsert by memberId, so nothing is doubled), at most ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import csv
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from builders.base import PULL_COLUMNS
from builders.http import JsonClient, PullFailed
from builders.models import BuilderInstallation, BuilderPull, PullStatus
from builders.registry import builder_for
from config.celery import queue, queue_on_commit
from crm.models import Channel
from crm.types import Actor, manager_or_none
from importer import locking
from importer.engine import run_import
from importer.mapping import MappingError
from importer.models import EmptyPolicy, ImportJob, ImportKind, ImportStatus
from importer.reading import FileRefused
from importer.services import import_configure, import_create, import_start

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3

Progress = Callable[[BuilderPull, ImportJob | None], None]


class LeaseLost(Exception):
    """Another worker took the pull over: this one stops writing."""


def stale_after() -> timedelta:
    return timedelta(seconds=int(settings.BUILDER_PULL_STALE_SECONDS))


# --- requesting -----------------------------------------------------------------------------
def builder_pull_request(*, channel: Channel, platform: str, by: Actor) -> BuilderPull:
    """Queue a pull of ``platform``'s customers into ``channel``.

    Raises PermissionDenied (no import permission), ValidationError (nothing to pull from, or a
    pull of it running) or ImportLocked (an import of the channel is queued or running).
    """
    if by is not None and not by.has_perm("crm.import_customers", channel):
        raise PermissionDenied(f"{by.get_username()} may not import customers into {channel.slug}")
    builder = builder_for(platform)
    if not builder.can_pull:
        raise ValidationError(f"{builder.label} customers cannot be pulled (R5.3)")
    installation = BuilderInstallation.objects.filter(
        channel=channel, platform=platform, active=True
    ).first()
    if installation is None:
        raise ValidationError(f"{builder.label} is not connected to channel {channel.slug!r}")
    if not installation.access_token:
        raise ValidationError(f"the {builder.label} connection has no API access token")
    running = locking.active_import(channel.pk)
    if running is not None:
        raise locking.ImportLocked(running)
    try:
        with transaction.atomic():
            return BuilderPull.objects.create(
                channel=channel, installation=installation, requested_by=manager_or_none(by)
            )
    except IntegrityError:
        raise ValidationError(
            f"a {builder.label} pull of this channel is already running"
        ) from None


def builder_pull_dispatch(pull: BuilderPull) -> None:
    queue_on_commit("builders.run_pull", pull.pk)


# --- running ----------------------------------------------------------------------------------
def _claim(pull_id: int) -> str | None:
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = BuilderPull.objects.filter(
        Q(status=PullStatus.QUEUED)
        | Q(status=PullStatus.FETCHING, heartbeat_at__lt=now - stale_after()),
        pk=pull_id,
        attempts__lt=MAX_ATTEMPTS,
    ).update(
        status=PullStatus.FETCHING,
        lease=token,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        pages=0,
        fetched=0,
        started_at=now,
    )
    return token if claimed else None


def _fence(pull: BuilderPull, lease: str, **updates: object) -> None:
    if not BuilderPull.objects.filter(pk=pull.pk, lease=lease).update(
        heartbeat_at=timezone.now(), **updates
    ):
        raise LeaseLost(f"pull #{pull.pk} was taken over")


def builder_pull_run(
    pull_id: int, *, progress: Progress | None = None, client: JsonClient | None = None
) -> BuilderPull:
    """Run (or take over) one pull; returns it as it stands afterwards. Safe to call twice."""
    lease = _claim(pull_id)
    pull = BuilderPull.objects.select_related("installation", "channel", "requested_by").get(
        pk=pull_id
    )
    if lease is None:
        return pull
    client = client or JsonClient()
    path = Path(settings.MEDIA_ROOT) / "builder_pulls" / f"{pull.pk}-{lease}.csv"
    try:
        _fetch(pull, lease, client, path, progress)
        job = _import(pull, lease, path)
        job = run_import(job.pk, progress=(lambda j: progress(pull, j)) if progress else None)
        _end(pull, lease, job)
    except (PullFailed, FileRefused, MappingError, ValidationError, locking.ImportLocked) as exc:
        reason = getattr(exc, "reason", None) or " ".join(getattr(exc, "messages", [str(exc)]))
        _fail(pull, lease, reason)
    except LeaseLost:
        log.warning("pull #%s: lease lost, another worker carries on", pull_id)
    finally:
        path.unlink(missing_ok=True)
    pull.refresh_from_db()
    return pull


def _fetch(
    pull: BuilderPull, lease: str, client: JsonClient, path: Path, progress: Progress | None
) -> None:
    """Every page into one CSV (bounded memory): columns are profile keys, cells are text."""
    builder = builder_for(pull.installation.platform)
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = fetched = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=PULL_COLUMNS)
        writer.writeheader()
        for page in builder.customer_pages(pull.installation, client):
            writer.writerows(builder.customer_row(customer) for customer in page)
            pages += 1
            fetched += len(page)
            _fence(pull, lease, pages=pages, fetched=fetched, retries=client.retried)
            if progress is not None:
                pull.pages, pull.fetched, pull.retries = pages, fetched, client.retried
                progress(pull, None)


def _import(pull: BuilderPull, lease: str, path: Path) -> ImportJob:
    """The member import of the pulled file, queued under the channel's import lock."""
    installation = pull.installation
    label = builder_for(installation.platform).label
    day = timezone.localdate().isoformat()
    with open(path, "rb") as source:
        job = import_create(
            channel=pull.channel,
            by=pull.requested_by,
            source=source,
            filename=f"{label} {installation.shop_id} {day}.csv",
            kind=ImportKind.MEMBER,
            origin=f"builder:{installation.platform}",
        )
    try:
        import_configure(
            job=job, mapping={key: key for key in PULL_COLUMNS}, empty_policy=EmptyPolicy.KEEP
        )
        import_start(job=job, dispatch=False)
    except Exception:
        _discard(job)
        raise
    _fence(pull, lease, status=PullStatus.IMPORTING, import_job=job)
    return job


def _discard(job: ImportJob) -> None:
    """A refused import leaves nothing behind: no job row, no stored upload."""
    if job.source_path:
        (Path(settings.MEDIA_ROOT) / job.source_path).unlink(missing_ok=True)
    job.delete()


def _end(pull: BuilderPull, lease: str, job: ImportJob) -> None:
    if job.status == ImportStatus.SUCCEEDED:
        _finish(pull, lease, PullStatus.SUCCEEDED)
    elif job.status == ImportStatus.FAILED:
        _finish(pull, lease, PullStatus.FAILED, job.error or "the import failed")
    # Otherwise another worker holds the import (it resumed it): pull_sync ends the pull.


def _fail(pull: BuilderPull, lease: str, reason: str) -> None:
    _finish(pull, lease, PullStatus.FAILED, reason)


def _finish(pull: BuilderPull, lease: str, status: str, error: str = "") -> None:
    BuilderPull.objects.filter(pk=pull.pk, lease=lease).update(
        status=status, error=error, lease="", finished_at=timezone.now()
    )


def pull_sync(pull: BuilderPull) -> BuilderPull:
    """A pull whose import ended elsewhere (the import reaper resumed it) ends with it."""
    if pull.status != PullStatus.IMPORTING or pull.import_job_id is None:
        return pull
    job = ImportJob.objects.only("status", "error").get(pk=pull.import_job_id)
    if job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED):
        status = PullStatus.SUCCEEDED if job.status == ImportStatus.SUCCEEDED else PullStatus.FAILED
        BuilderPull.objects.filter(pk=pull.pk, status=PullStatus.IMPORTING).update(
            status=status, error=job.error, lease="", finished_at=timezone.now()
        )
        pull.refresh_from_db()
    return pull


def pulls_reap() -> list[int]:
    """Pulls whose worker went silent while fetching: fetched again, or failed after
    MAX_ATTEMPTS; importing pulls follow their import job."""
    limit = timezone.now() - stale_after()
    silent = BuilderPull.objects.filter(
        Q(status=PullStatus.FETCHING, heartbeat_at__lt=limit)
        | Q(status=PullStatus.QUEUED, created_at__lt=limit)
    )
    silent.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=PullStatus.FAILED,
        error=f"the worker stopped {MAX_ATTEMPTS} times",
        lease="",
        finished_at=timezone.now(),
    )
    resumed = list(silent.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True))
    for pull_id in resumed:
        queue("builders.run_pull", pull_id)
    for pull in BuilderPull.objects.filter(status=PullStatus.IMPORTING):
        pull_sync(pull)
    return resumed

"""Pulling a builder's customers (R5.1): pages from the builder's API into an import file, then
the same member import as an upload — the channel's one-import lock, counts, failure log and
progress are the import engine's.

A pull is a job of the job runtime (``crm.jobs``), fenced by its lease at every page; one whose
worker died while fetching is fetched again from the start (the import that follows is an
upsert by memberId, so nothing is doubled), at most ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from builders.base import PULL_COLUMNS
from builders.http import JsonClient, PullFailed
from builders.models import BuilderInstallation, BuilderPull, PullStatus
from builders.registry import builder_for
from config.celery import queue, queue_on_commit
from crm import jobs
from crm.models import Channel
from crm.types import Actor, manager_or_none
from importer.engine import run_import
from importer.jobs import ImportLocked, active_import
from importer.mapping import MappingError
from importer.models import EmptyPolicy, ImportJob, ImportKind, ImportStatus
from importer.reading import FileRefused
from importer.services import import_cancel, import_configure, import_create, import_start

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3

Progress = Callable[[BuilderPull, ImportJob | None], None]


def _dispatch(pull_id: int) -> None:
    queue("builders.run_pull", pull_id)


def _follow_imports() -> None:
    for pull in BuilderPull.objects.filter(status=PullStatus.IMPORTING):
        pull_sync(pull)


# A pull holds its lease while fetching; once importing, its import job holds its own.
PULLS = jobs.register(
    jobs.JobKind(
        name="pull",
        model=BuilderPull,
        queued=PullStatus.QUEUED,
        running=PullStatus.FETCHING,
        failed=PullStatus.FAILED,
        cancelled=PullStatus.CANCELLED,
        stale_seconds=lambda: settings.BUILDER_PULL_STALE_SECONDS,
        max_attempts=lambda: MAX_ATTEMPTS,
        dispatch=_dispatch,
        upkeep=_follow_imports,
    )
)


# --- requesting -----------------------------------------------------------------------------
def builder_pull_request(*, channel: Channel, platform: str, by: Actor) -> BuilderPull:
    """Queue a pull of ``platform``'s customers into ``channel``.

    Raises PermissionDenied (no import permission), ValidationError (nothing to pull from, or a
    pull of it running) or ImportLocked (an import of the channel is queued or running).
    """
    if by is not None and not by.has_perm("crm.import_customers", channel):
        raise PermissionDenied(
            gettext("%(manager)s may not import customers into %(channel)s")
            % {"manager": by.get_username(), "channel": channel.slug}
        )
    builder = builder_for(platform)
    if not builder.can_pull:
        raise ValidationError(
            gettext("%(builder)s customers cannot be pulled (R5.3)") % {"builder": builder.label}
        )
    installation = BuilderInstallation.objects.filter(
        channel=channel, platform=platform, active=True
    ).first()
    if installation is None:
        raise ValidationError(
            gettext("%(builder)s is not connected to channel %(channel)s")
            % {"builder": builder.label, "channel": repr(channel.slug)}
        )
    if not installation.access_token:
        raise ValidationError(
            gettext("the %(builder)s connection has no API access token")
            % {"builder": builder.label}
        )
    running = active_import(channel.pk)
    if running is not None:
        raise ImportLocked(running)
    try:
        with transaction.atomic():
            return BuilderPull.objects.create(
                channel=channel, installation=installation, requested_by=manager_or_none(by)
            )
    except IntegrityError:
        raise ValidationError(
            gettext("a %(builder)s pull of this channel is already running")
            % {"builder": builder.label}
        ) from None


def builder_pull_cancel(*, pull: BuilderPull, by: Actor) -> str:
    """Cancel a pull (R2.24): a queued one ends now (``"cancelled"``); one fetching stops before
    its next page, importing nothing (``"requested"``); one importing cancels its import, which
    stops at its next chunk keeping what it imported, and the pull ends with it
    (``"requested"``). ``"over"`` when it had already ended."""
    if by is not None and not by.has_perm("crm.import_customers", pull.channel):
        raise PermissionDenied(
            gettext("%(manager)s may not import customers into %(channel)s")
            % {"manager": by.get_username(), "channel": pull.channel.slug}
        )
    who = by.get_username() if by is not None else gettext("the command line")
    outcome = jobs.cancel(PULLS, pull.pk, error=gettext("Cancelled by %(who)s.") % {"who": who})
    if outcome == "over":  # importing (or it started to meanwhile): its import is the job now
        pull.refresh_from_db()
        if pull.status == PullStatus.IMPORTING and pull.import_job is not None:
            return import_cancel(job=pull.import_job, by=by)
    return outcome


def builder_pull_dispatch(pull: BuilderPull) -> None:
    queue_on_commit("builders.run_pull", pull.pk)


# --- running ----------------------------------------------------------------------------------
def builder_pull_run(
    pull_id: int, *, progress: Progress | None = None, client: JsonClient | None = None
) -> BuilderPull:
    """Run (or take over) one pull; returns it as it stands afterwards. Safe to call twice."""
    # Fetched again from the start by each attempt (the import is an upsert by memberId).
    lease = jobs.claim(PULLS, pull_id, pages=0, fetched=0, started_at=timezone.now())
    pull = BuilderPull.objects.select_related("installation", "channel", "requested_by").get(
        pk=pull_id
    )
    if lease is None:
        return pull
    client = client or JsonClient()
    path = Path(settings.MEDIA_ROOT) / "builder_pulls" / f"{pull.pk}-{lease.token.hex}.csv"
    try:
        with jobs.holding(lease) as held:
            try:
                _fetch(pull, lease, held, client, path, progress)
                job = _import(pull, lease, path)
                job = run_import(
                    job.pk, progress=(lambda j: progress(pull, j)) if progress else None
                )
                _end(pull, lease, job)
            except jobs.JobCancelled:
                _finish(pull, lease, PullStatus.CANCELLED)
            except (PullFailed, FileRefused, MappingError, ValidationError, ImportLocked) as exc:
                reason = getattr(exc, "reason", None) or " ".join(
                    getattr(exc, "messages", [str(exc)])
                )
                _fail(pull, lease, reason)
    finally:
        path.unlink(missing_ok=True)
    pull.refresh_from_db()
    return pull


def _fetch(
    pull: BuilderPull,
    lease: jobs.Lease,
    held: jobs.Held,
    client: JsonClient,
    path: Path,
    progress: Progress | None,
) -> None:
    """Every page into one CSV (bounded memory): columns are profile keys, cells are text."""
    builder = builder_for(pull.installation.platform)
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = fetched = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=PULL_COLUMNS)
        writer.writeheader()
        for page in builder.customer_pages(pull.installation, client):
            held.checkpoint()
            writer.writerows(builder.customer_row(customer) for customer in page)
            pages += 1
            fetched += len(page)
            jobs.fence(lease, pages=pages, fetched=fetched, retries=client.retried)
            if progress is not None:
                pull.pages, pull.fetched, pull.retries = pages, fetched, client.retried
                progress(pull, None)


def _import(pull: BuilderPull, lease: jobs.Lease, path: Path) -> ImportJob:
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
    jobs.fence(lease, status=PullStatus.IMPORTING, import_job=job)
    return job


def _discard(job: ImportJob) -> None:
    """A refused import leaves nothing behind: no job row, no stored upload."""
    if job.source_path:
        (Path(settings.MEDIA_ROOT) / job.source_path).unlink(missing_ok=True)
    job.delete()


_ENDS: dict[str, str] = {
    ImportStatus.SUCCEEDED: PullStatus.SUCCEEDED,
    ImportStatus.FAILED: PullStatus.FAILED,
    ImportStatus.CANCELLED: PullStatus.CANCELLED,
}


def _end(pull: BuilderPull, lease: jobs.Lease, job: ImportJob) -> None:
    if job.status in _ENDS:
        _finish(pull, lease, _ENDS[job.status], job.error or "")
    # Otherwise another worker holds the import (it resumed it): pull_sync ends the pull.


def _fail(pull: BuilderPull, lease: jobs.Lease, reason: str) -> None:
    _finish(pull, lease, PullStatus.FAILED, reason)


def _finish(pull: BuilderPull, lease: jobs.Lease, status: str, error: str | None = None) -> None:
    jobs.release(lease, status=status, **({} if error is None else {"error": error}))


def pull_sync(pull: BuilderPull) -> BuilderPull:
    """A pull whose import ended elsewhere (the import reaper resumed it) ends with it."""
    if pull.status != PullStatus.IMPORTING or pull.import_job_id is None:
        return pull
    job = ImportJob.objects.only("status", "error").get(pk=pull.import_job_id)
    if job.status in _ENDS:
        BuilderPull.objects.filter(pk=pull.pk, status=PullStatus.IMPORTING).update(
            status=_ENDS[job.status], error=job.error, lease_token=None, finished_at=timezone.now()
        )
        pull.refresh_from_db()
    return pull

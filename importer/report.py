"""The REPORT stage: failure logs (R2.15), the bot message (R2.18), purging after 30 days."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from openpyxl import Workbook

from crm.display import count
from crm.languages import in_language_of
from crm.models import InboxMessage, Membership, Role
from crm.spreadsheets import neutralise
from importer.models import ImportFailure, ImportJob, ImportStatus

HEAD = ("rowNumber", "errorColumns", "errorReasons")


@dataclass(frozen=True)
class FailureLogPaths:
    csv: str  # relative to MEDIA_ROOT
    xlsx: str


def _mapped_indexes(job: ImportJob) -> list[tuple[int, str]]:
    return [(i, job.mapping[h]) for i, h in enumerate(job.headers) if job.mapping.get(h)]


def failure_rows(job: ImportJob) -> Iterator[list[object]]:
    """The failure log's rows, the header row first (R2.15): the row number as a number (a
    spreadsheet sorts and filters it as one), every other cell text, neutralised."""
    mapped = _mapped_indexes(job)
    yield [*HEAD, *(key for _, key in mapped)]
    failures = ImportFailure.objects.filter(job=job).order_by("row_number")
    for failure in failures.iterator(chunk_size=2000):
        values: Sequence[str] = failure.values
        cells = [values[i] if i < len(values) else "" for i, _ in mapped]
        yield [
            failure.row_number,
            ",".join(c for c in failure.columns if c),
            " | ".join(failure.reasons),
            *(neutralise(c) for c in cells),
        ]


def write_failure_logs(job: ImportJob) -> FailureLogPaths | None:
    if not ImportFailure.objects.filter(job=job).exists():
        return None
    folder = Path("failure-logs") / str(job.channel_id)
    (Path(settings.MEDIA_ROOT) / folder).mkdir(parents=True, exist_ok=True)
    stem = f"import-{job.pk}-failures"
    csv_rel, xlsx_rel = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    with open(Path(settings.MEDIA_ROOT) / csv_rel, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        for row in failure_rows(job):
            writer.writerow(row)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("failures")
    for row in failure_rows(job):
        sheet.append(row)
    book.save(Path(settings.MEDIA_ROOT) / xlsx_rel)
    return FailureLogPaths(csv=str(csv_rel), xlsx=str(xlsx_rel))


def _job_link(job: ImportJob) -> str:
    try:
        return reverse("importer:job", args=[job.channel.slug, job.pk])
    except NoReverseMatch:
        return ""


def result_counts(job: ImportJob) -> str:
    """An import's counts as one sentence (R2.14): the bot message, the command line."""
    n = {
        "created": count(job.created),
        "updated": count(job.updated),
        "unified": count(job.unified),
        "failed": count(job.failed),
        "rows": count(job.rows_done),
    }
    parts = [
        ngettext("%(created)s customer created", "%(created)s customers created", job.created),
        ngettext("%(updated)s updated", "%(updated)s updated", job.updated),
    ]
    if job.kind == "member":
        parts.append(ngettext("%(unified)s lead unified", "%(unified)s leads unified", job.unified))
    parts.append(ngettext("%(failed)s row failed", "%(failed)s rows failed", job.failed))
    counts = ", ".join(part % n for part in parts)
    return ngettext("%(counts)s (%(rows)s row).", "%(counts)s (%(rows)s rows).", job.rows_done) % {
        "counts": counts,
        "rows": n["rows"],
    }


def import_finished(job: ImportJob) -> None:
    """Bot message to the channel owner and the requesting manager (R2.18), each in their own
    language (R11.1); the upload goes."""
    recipients = set(
        Membership.objects.filter(channel=job.channel, role=Role.OWNER).values_list(
            "user_id", flat=True
        )
    )
    if job.requested_by_id:
        recipients.add(job.requested_by_id)
    messages = []
    for user in get_user_model().objects.filter(pk__in=recipients).order_by("pk"):
        with in_language_of(user):
            title, body = _finished_message(job)
        messages.append(
            InboxMessage(
                channel=job.channel, recipient=user, title=title, body=body, link=_job_link(job)
            )
        )
    with transaction.atomic():
        InboxMessage.objects.bulk_create(messages)
    if job.source_path:
        (Path(settings.MEDIA_ROOT) / job.source_path).unlink(missing_ok=True)


def _finished_message(job: ImportJob) -> tuple[str, str]:
    """The bot message's title and body in the active language (the job's error is in the
    language of the manager who started it, as the job wrote it)."""
    if job.is_undo:
        return _undo_message(job)
    if job.status == ImportStatus.SUCCEEDED:
        title = gettext("Import of %(file)s finished") % {"file": job.filename}
        body = result_counts(job)
        if job.failed:
            body += " " + gettext("Download the failure log to fix and re-upload the failed rows.")
    elif job.status == ImportStatus.CANCELLED:
        title = gettext("Import of %(file)s cancelled") % {"file": job.filename}
        body = gettext("It stopped before the end; what it imported stays: %(counts)s") % {
            "counts": result_counts(job)
        }
    else:
        title = gettext("Import of %(file)s failed") % {"file": job.filename}
        body = job.error or gettext("The import could not run.")
    return title, body


def _undo_message(undo: ImportJob) -> tuple[str, str]:
    """The bot message of an undo (R2.16)."""
    names = {"import": undo.undoes_id, "file": undo.filename}
    if undo.status == ImportStatus.SUCCEEDED:
        title = gettext("Import #%(import)s of %(file)s undone") % names
    elif undo.status == ImportStatus.CANCELLED:
        title = gettext("Undo of import #%(import)s of %(file)s cancelled") % names
    else:
        title = gettext("Undo of import #%(import)s of %(file)s failed") % names
    body = gettext(
        "%(deleted)s customers deleted, %(restored)s restored; %(kept)s values changed after"
        " the import were kept."
    ) % {
        "deleted": f"{undo.deleted:,}",
        "restored": f"{undo.restored:,}",
        "kept": f"{undo.kept:,}",
    }
    if undo.status == ImportStatus.FAILED and undo.error:
        body = f"{undo.error} {body}"
    return title, body


def purge_failure_logs(now: datetime | None = None) -> int:
    """Delete failure logs (files and rows) past their 30 days (R2.15); returns how many."""
    now = now or timezone.now()
    expired = ImportJob.objects.filter(failure_log_expires_at__lt=now)
    count = 0
    for job in expired.iterator():
        for rel in (job.failure_log_csv, job.failure_log_xlsx):
            if rel:
                (Path(settings.MEDIA_ROOT) / rel).unlink(missing_ok=True)
        ImportFailure.objects.filter(job=job).delete()
        ImportJob.objects.filter(pk=job.pk).update(
            failure_log_csv="", failure_log_xlsx="", failure_log_expires_at=None
        )
        count += 1
    return count


def purge_abandoned_drafts(now: datetime | None = None) -> int:
    """Delete imports left in the wizard before they started, older than
    IMPORT_DRAFT_RETENTION_HOURS, with their uploaded files and checks; returns how many.

    A started import is never touched: it is the import log's (and its failure log's, R2.15).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.IMPORT_DRAFT_RETENTION_HOURS)
    abandoned = ImportJob.objects.filter(status=ImportStatus.DRAFT, created_at__lt=cutoff)
    count = 0
    for job in abandoned.iterator():
        # Conditional: a draft started meanwhile is no longer a draft and is left alone.
        deleted, _ = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.DRAFT).delete()
        if deleted and job.source_path:
            (Path(settings.MEDIA_ROOT) / job.source_path).unlink(missing_ok=True)
        count += bool(deleted)
    return count

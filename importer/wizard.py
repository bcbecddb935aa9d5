"""What the import wizard's pages show, and its one write of its own (discarding a draft).

Reads only, apart from ``draft_discard``: the file preview of the mapping screen (R2.8), which
step a draft has reached, the progress of a running import with its time left (R2.22), and the
import log (R2.19). The writes of the steps are importer.services and importer.check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from crm.models import Channel
from crm.selectors import profile_keys_by_name
from importer.check import check_is_current, check_of
from importer.job_files import open_job_table
from importer.models import CheckStatus, ImportJob, ImportStatus
from importer.reading import (
    PREVIEW_ROWS,
    encoding_label,
    likely_encodings_of,
    text_preview,
)
from importer.vocabulary import auto_mapping, skipped_lookalikes, split_inverted
from importer.writers.base import cell_text

SAMPLE_VALUES = 3


@dataclass(frozen=True)
class PreviewColumn:
    index: int
    header: str
    samples: list[str]  # the first few non-empty values


@dataclass(frozen=True)
class PreviewRow:
    number: int
    cells: list[str]
    error: str | None


@dataclass(frozen=True)
class FilePreview:
    """The mapping screen's view of a file: every column and the first 30 rows (R2.8)."""

    columns: list[PreviewColumn]
    rows: list[PreviewRow]


def file_preview(job: ImportJob) -> FilePreview:
    """Header and first rows only: cheap even for a 200,000-row file (no full pass)."""
    with open_job_table(job) as table:
        width = len(table.headers)
        rows = [
            PreviewRow(
                number=row.number,
                cells=[cell_text(c) for c in (*row.cells, *(None,) * width)[:width]],
                error=row.error,
            )
            for row in table.preview(PREVIEW_ROWS)
        ]
        headers = table.headers
    columns = []
    for index, header in enumerate(headers):
        samples = [r.cells[index] for r in rows if r.error is None and r.cells[index].strip()]
        columns.append(PreviewColumn(index, header, samples[:SAMPLE_VALUES]))
    return FilePreview(columns=columns, rows=rows)


def column_values(preview: FilePreview) -> list[list[str]]:
    """Every non-empty cell of each column in the preview rows: what a column is recognised by."""
    good = [r for r in preview.rows if r.error is None]
    return [[r.cells[c.index] for r in good if r.cells[c.index].strip()] for c in preview.columns]


def offered_keys(job: ImportJob) -> dict[str, str]:
    """The profile keys a column of this job may map to, with their labels (R2.1: a lead import
    never sets memberId)."""
    keys = profile_keys_by_name(job.channel)
    return {
        name: key.label
        for name, key in keys.items()
        if not (job.kind == "lead" and name == "memberId")
    }


def suggested_mapping(job: ImportJob, preview: FilePreview | None = None) -> dict[str, str]:
    """The automatic mapping of a job's file (R2.8a): by header, label and column values."""
    preview = preview if preview is not None else file_preview(job)
    return auto_mapping(
        job.headers, offered_keys(job), column_values(preview), job.phone_region or None
    )


def lookalikes_skipped(
    job: ImportJob, mapping: dict[str, str], preview: FilePreview | None = None
) -> list[tuple[str, str, bool]]:
    """Columns of the mapping left on "don't import" that look like a known key (R2.8a):
    (header, key, whether inverted)."""
    preview = preview if preview is not None else file_preview(job)
    found = skipped_lookalikes(
        job.headers, mapping, offered_keys(job), column_values(preview), job.phone_region or None
    )
    return [(header, *split_inverted(key)) for header, key in found]


ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": gettext_lazy("UTF-8 with BOM"),
    "cp949": gettext_lazy("CP949 (EUC-KR, Korean Excel's default)"),
    "utf-16": gettext_lazy("UTF-16 (Excel's Unicode text)"),
}


def file_description(job: ImportJob) -> str:
    """ "CSV, CP949 (…)" or "XLSX workbook, first sheet": what the reader found (R2.3)."""
    columns = len(job.headers)
    if job.file_format in ("xlsx", "xls"):
        return ngettext(
            "Excel workbook (%(format)s), first sheet, %(count)s column",
            "Excel workbook (%(format)s), first sheet, %(count)s columns",
            columns,
        ) % {"format": job.file_format.upper(), "count": columns}
    if job.encoding_pending:
        return gettext("CSV, encoding to choose")
    encoding = ENCODINGS.get(job.encoding) or encoding_label(job.encoding)
    return ngettext(
        "CSV in %(encoding)s, %(count)s column", "CSV in %(encoding)s, %(count)s columns", columns
    ) % {"encoding": encoding, "count": columns}


ENCODING_PREVIEW_ROWS = 6


@dataclass(frozen=True)
class EncodingOption:
    """One encoding the manager may choose for a text file, with its file read in it (R2.3a)."""

    name: str
    label: str
    rows: list[list[str]]
    current: bool


def encoding_options(job: ImportJob) -> list[EncodingOption]:
    """The likely encodings of a draft's text file, the one it is read in first."""
    path = str(Path(settings.MEDIA_ROOT) / job.source_path)
    names = likely_encodings_of(path)
    if job.encoding:
        names = [job.encoding, *(n for n in names if n != job.encoding)]
    return [
        EncodingOption(
            name=name,
            label=encoding_label(name),
            rows=text_preview(path, name, ENCODING_PREVIEW_ROWS),
            current=name == job.encoding,
        )
        for name in names
    ]


def draft_step(job: ImportJob) -> str:
    """The wizard page a draft has reached: encoding, mapping, check or settings."""
    if job.encoding_pending:
        return "encoding"
    if not job.mapping:
        return "mapping"
    check = check_of(job)
    if check is None or not check_is_current(check, job) or check.status != CheckStatus.DONE:
        return "check"
    return "settings"


@transaction.atomic
def draft_discard(*, job: ImportJob) -> None:
    """Forget an import that never started: its stored upload, check and saved settings."""
    locked = ImportJob.objects.select_for_update().filter(pk=job.pk).first()
    if locked is None:
        return
    if locked.status != ImportStatus.DRAFT:
        raise ValueError("an import that has started cannot be discarded")
    if locked.source_path:
        path = Path(settings.MEDIA_ROOT) / locked.source_path
        transaction.on_commit(lambda: path.unlink(missing_ok=True))
    locked.delete()


@dataclass(frozen=True)
class Progress:
    """Rows done of total, as the progress bar shows them (R2.22)."""

    state: str  # queued, counting, running, finished
    done: int
    total: int | None
    left: timedelta | None

    @property
    def percent(self) -> int:
        if self.state == "finished":
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)

    @property
    def left_display(self) -> str:
        if self.left is None:
            return ""
        seconds = int(self.left.total_seconds())
        if seconds < 60:
            return gettext("less than a minute left")
        minutes = round(seconds / 60)
        if minutes < 90:
            return ngettext("about %(minutes)s min left", "about %(minutes)s min left", minutes) % {
                "minutes": minutes
            }
        return gettext("about %(hours)s hours left") % {"hours": f"{minutes / 60:.1f}"}


def progress_of(job: ImportJob) -> Progress:
    if not job.active:
        return Progress("finished", job.rows_done, job.rows_total, None)
    if job.status == ImportStatus.QUEUED or job.started_at is None:
        return Progress("queued", 0, job.rows_total, None)
    if job.rows_total is None:
        return Progress("counting", job.rows_done, None, None)
    left = None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    if job.rows_done and elapsed > 0:
        rate = job.rows_done / elapsed
        left = timedelta(seconds=max(0, job.rows_total - job.rows_done) / rate)
    return Progress("running", job.rows_done, job.rows_total, left)


def import_log(channel: Channel) -> QuerySet[ImportJob]:
    """Every import of the channel that started (R2.19), newest first."""
    return (
        ImportJob.objects.filter(channel=channel)
        .exclude(status=ImportStatus.DRAFT)
        .select_related("requested_by")
    )


def drafts_of(channel: Channel, user_id: int) -> QuerySet[ImportJob]:
    """The manager's imports that were uploaded but not started, to resume or discard."""
    return ImportJob.objects.filter(
        channel=channel, requested_by_id=user_id, status=ImportStatus.DRAFT
    )


def failure_log_path(job: ImportJob, fmt: str) -> Path | None:
    """The stored failure log (R2.15) while it is kept (30 days), else None."""
    rel = job.failure_log_xlsx if fmt == "xlsx" else job.failure_log_csv
    if not rel:
        return None
    if job.failure_log_expires_at is not None and job.failure_log_expires_at < timezone.now():
        return None
    path = Path(settings.MEDIA_ROOT) / rel
    return path if path.is_file() else None

"""A draft or running import's stored upload, opened by the read stage the one way every step
uses: with the size limit, the name the manager uploaded, and the encoding found or chosen at
upload (R2.3a), so no later pass detects it again."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from importer.models import ImportJob
from importer.reading import Table, open_table


def source_file(job: ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / job.source_path


def open_job_table(job: ImportJob, *, encoding: str | None = None) -> Table:
    """The job's file as a `Table`; `encoding` overrides the job's (a new choice being tried)."""
    return open_table(
        source_file(job),
        max_bytes=settings.UPLOAD_MAX_BYTES,
        filename=job.filename,
        encoding=encoding or job.encoding or None,
    )

"""R2.15: failure logs are kept 30 days, then purged (files and rows)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.utils import timezone

from crm.models import Channel
from importer.models import ImportFailure, ImportJob
from tests.importer.conftest import run_import

HEAD = ["memberId", "unsubscribeEmail", "unsubscribeTexting"]


def test_r2_15_failure_log_kept_30_days_then_purged(
    channel: Channel, csv_file: Callable[..., Path], settings: Any
) -> None:
    run_import(channel, csv_file([HEAD, ["", "0", "0"], ["m1", "0", "0"]]), "--kind", "member")
    job = ImportJob.objects.get()
    files = [
        Path(settings.MEDIA_ROOT) / job.failure_log_csv,
        Path(settings.MEDIA_ROOT) / job.failure_log_xlsx,
    ]
    assert all(f.exists() for f in files)
    expires = job.failure_log_expires_at
    assert expires is not None
    assert timedelta(days=29, hours=23) < expires - timezone.now() <= timedelta(days=30)

    out = io.StringIO()
    call_command("purge_failure_logs", stdout=out)  # not yet expired: nothing goes
    assert "0 import" in out.getvalue() and all(f.exists() for f in files)

    ImportJob.objects.filter(pk=job.pk).update(
        failure_log_expires_at=timezone.now() - timedelta(seconds=1)
    )
    call_command("purge_failure_logs", stdout=out)
    job.refresh_from_db()
    assert not any(f.exists() for f in files)
    assert (job.failure_log_csv, job.failure_log_xlsx, job.failed) == ("", "", 1)
    assert not ImportFailure.objects.filter(job=job).exists()


def test_r2_15_no_failures_no_failure_log(channel: Channel, csv_file: Callable[..., Path]) -> None:
    result = run_import(channel, csv_file([HEAD, ["m1", "0", "0"]]), "--kind", "member")
    assert result["failure_log"] is None
    job = ImportJob.objects.get()
    assert (job.failure_log_csv, job.failure_log_expires_at) == ("", None)


def test_abandoned_wizard_drafts_and_their_uploads_are_deleted_after_a_day(
    channel: Channel, csv_file: Callable[..., Path], settings: Any
) -> None:
    """An upload never started is deleted with its file after IMPORT_DRAFT_RETENTION_HOURS; a
    fresh draft and a started import are left alone."""
    from importer.models import ImportStatus
    from importer.report import purge_abandoned_drafts
    from importer.services import import_create

    def upload(name: str) -> ImportJob:
        with open(csv_file([HEAD, ["m1", "0", "0"]], name=name), "rb") as fh:
            return import_create(
                channel=channel, by=None, source=fh, filename=name, kind="member", identity=""
            )

    old, fresh, started = upload("old.csv"), upload("fresh.csv"), upload("started.csv")
    day_ago = timezone.now() - timedelta(hours=settings.IMPORT_DRAFT_RETENTION_HOURS, minutes=1)
    ImportJob.objects.filter(pk__in=[old.pk, started.pk]).update(created_at=day_ago)
    ImportJob.objects.filter(pk=started.pk).update(status=ImportStatus.SUCCEEDED)
    files = {j.pk: Path(settings.MEDIA_ROOT) / j.source_path for j in (old, fresh, started)}
    assert all(f.exists() for f in files.values())

    out = io.StringIO()
    call_command("purge_failure_logs", stdout=out)
    assert "deleted 1 abandoned import draft" in out.getvalue()
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {fresh.pk, started.pk}
    assert not files[old.pk].exists()
    assert files[fresh.pk].exists() and files[started.pk].exists()
    assert purge_abandoned_drafts() == 0

"""Celery tasks of the importer: thin, they take ids and call the engine or a service."""

from __future__ import annotations

from celery import shared_task

from importer.check import check_run
from importer.engine import run_import
from importer.failed_rows.column_fixes import column_fix_run
from importer.report import purge_abandoned_drafts, purge_failure_logs


@shared_task(name="importer.run_import", acks_late=True, reject_on_worker_lost=True)
def run_import_task(job_id: int) -> str:
    return run_import(job_id).status


@shared_task(name="importer.purge_failure_logs")
def purge_failure_logs_task() -> int:
    return purge_failure_logs()


@shared_task(name="importer.purge_abandoned_drafts")
def purge_abandoned_drafts_task() -> int:
    return purge_abandoned_drafts()


@shared_task(name="importer.check_file", acks_late=True, reject_on_worker_lost=True)
def check_file_task(check_id: int, token: str) -> str | None:
    """The wizard's whole-file check (R2.9): a dry run, re-run from the start if redelivered."""
    check = check_run(check_id, token)
    return check.status if check is not None else None


@shared_task(name="importer.apply_column_fix", acks_late=True, reject_on_worker_lost=True)
def apply_column_fix_task(fix_id: int) -> str:
    """A column-wide fix of failed rows (R2.16a), resumed after its last page if redelivered."""
    return column_fix_run(fix_id).status

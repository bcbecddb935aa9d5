"""`purge_failure_logs`: delete failure logs older than their 30 days (R2.15), and uploads left
in the import wizard without starting (older than IMPORT_DRAFT_RETENTION_HOURS).

Celery beat runs the same purges hourly (importer.purge_failure_logs,
importer.purge_abandoned_drafts); this is for cron or by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from importer.report import purge_abandoned_drafts, purge_failure_logs


class Command(BaseCommand):
    help = (
        "Delete import failure logs (files and rows) past their retention period, and imports"
        " abandoned in the wizard before they started."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_failure_logs()
        self.stdout.write(f"purged the failure logs of {purged} import(s)")
        drafts = purge_abandoned_drafts()
        self.stdout.write(f"deleted {drafts} abandoned import draft(s) and their uploads")

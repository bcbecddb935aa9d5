"""`purge_failure_logs`: delete failure logs older than their 30 days (R2.15).

Celery beat runs the same purge hourly (importer.purge_failure_logs); this is for cron or by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from importer.report import purge_failure_logs


class Command(BaseCommand):
    help = "Delete import failure logs (files and rows) past their retention period."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_failure_logs()
        self.stdout.write(f"purged the failure logs of {purged} import(s)")

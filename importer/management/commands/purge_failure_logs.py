"""`purge_failure_logs`: delete failure logs older than their 30 days (R2.15), and uploads left
in the import wizard without starting (older than IMPORT_DRAFT_RETENTION_HOURS).

Celery beat runs the same purges hourly (importer.purge_failure_logs,
importer.purge_abandoned_drafts); this is for cron or by hand.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.management.base import BaseCommand
from django.utils.translation import gettext_lazy, ngettext

from importer.report import purge_abandoned_drafts, purge_failure_logs


class Command(BaseCommand):
    # Lazy: read in the language of the command line when --help is printed.
    help = cast(
        str,
        gettext_lazy(
            "Delete import failure logs (files and rows) past their retention period, and"
            " imports abandoned in the wizard before they started."
        ),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_failure_logs()
        self.stdout.write(
            ngettext(
                "purged the failure logs of %(count)s import",
                "purged the failure logs of %(count)s imports",
                purged,
            )
            % {"count": purged}
        )
        drafts = purge_abandoned_drafts()
        self.stdout.write(
            ngettext(
                "deleted %(count)s abandoned import draft and its upload",
                "deleted %(count)s abandoned import drafts and their uploads",
                drafts,
            )
            % {"count": drafts}
        )

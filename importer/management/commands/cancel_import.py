"""`cancel_import SLUG IMPORT_ID` (R2.24): stop an import at its next chunk boundary, keeping what
it committed, and free the channel."""

from __future__ import annotations

import json
import time
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy

from crm.management.lookups import manager_named
from importer.models import ImportJob
from importer.services import import_cancel


class Command(BaseCommand):
    # Lazy: read in the language of the command line when --help is printed.
    help = cast(
        str,
        gettext_lazy(
            "Cancel a queued or running import: it stops at its next chunk, keeping what it wrote."
        ),
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("import_id", type=int)
        parser.add_argument(
            "--manager", default=None, help=gettext("username of the cancelling manager")
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help=gettext(
                "wait this long for a running import to stop (default 60; 0: do not wait)"
            ),
        )
        parser.add_argument("--json", action="store_true", help=gettext("print one JSON object"))

    def handle(self, *args: Any, **opts: Any) -> None:
        job = ImportJob.objects.filter(channel__slug=opts["slug"], pk=opts["import_id"]).first()
        if job is None or job.status == "draft":
            raise CommandError(
                gettext("No import #%(id)s in channel %(slug)s.")
                % {"id": opts["import_id"], "slug": opts["slug"]}
            )
        manager = manager_named(opts["manager"])
        try:
            outcome = import_cancel(job=job, by=manager)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        deadline = time.monotonic() + opts["wait"]
        while outcome == "requested" and time.monotonic() < deadline:
            time.sleep(0.5)
            job.refresh_from_db()
            if not job.active:
                outcome = "cancelled" if job.status == "cancelled" else "over"
        job.refresh_from_db()
        if opts["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "outcome": outcome,
                        "status": job.status,
                        "created": job.created,
                        "updated": job.updated,
                        "failed": job.failed,
                        "rows_done": job.rows_done,
                    }
                )
            )
        elif outcome == "requested":
            self.stdout.write(
                gettext(
                    "Import #%(id)s: cancel requested; it stops at its next chunk"
                    " (%(rows)s rows done so far)."
                )
                % {"id": job.pk, "rows": f"{job.rows_done:,}"}
            )
        else:
            self.stdout.write(
                gettext(
                    "Import #%(id)s %(status)s: %(created)s created, %(updated)s updated,"
                    " %(failed)s failed (%(rows)s rows)."
                )
                % {
                    "id": job.pk,
                    "status": job.get_status_display(),
                    "created": f"{job.created:,}",
                    "updated": f"{job.updated:,}",
                    "failed": f"{job.failed:,}",
                    "rows": f"{job.rows_done:,}",
                }
            )
        if outcome == "over" and job.status != "cancelled":
            raise CommandError(
                gettext("Import #%(id)s had already ended (%(status)s).")
                % {"id": job.pk, "status": job.get_status_display()}
            )

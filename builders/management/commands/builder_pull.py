"""`builder_pull SLUG cafe24|shopify`: pull the customers registered before installation (R5.1)
and import them, in this process, with a progress line on a terminal."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from builders.models import BuilderPull
from builders.pulls import builder_pull_request, builder_pull_run
from builders.registry import pull_platforms
from crm import display
from crm.languages import in_language_of
from crm.management.commands._cli import channel_or_error
from crm.management.lookups import manager_named
from crm.models import Channel
from importer.jobs import ImportLocked
from importer.models import ImportJob


class Command(BaseCommand):
    help = "Pull a builder's customers registered before installation into a channel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("platform", choices=pull_platforms())
        parser.add_argument("--manager", default=None, help="username of the requesting manager")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        channel = channel_or_error(opts["slug"])
        manager = manager_named(opts["manager"])
        # Human output in the requesting manager's language; --json is data, the same in any.
        with in_language_of(manager):
            self._pull(channel, manager, opts)

    def _pull(self, channel: Channel, manager: Any, opts: dict[str, Any]) -> None:
        try:
            pull = builder_pull_request(channel=channel, platform=opts["platform"], by=manager)
        except (ValidationError, PermissionDenied, ImportLocked) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        pull = builder_pull_run(pull.pk, progress=None if opts["json"] else self._progress)
        if sys.stderr.isatty() and not opts["json"]:
            sys.stderr.write("\n")
        job = pull.import_job
        result = {
            "status": pull.status,
            "fetched": pull.fetched,
            "pages": pull.pages,
            "retries": pull.retries,
            "import": job.pk if job else None,
            "created": job.created if job else 0,
            "updated": job.updated if job else 0,
            "failed": job.failed if job else 0,
            "error": pull.error or None,
        }
        if opts["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                gettext(
                    "%(status)s: %(fetched)s fetched in %(pages)s pages;"
                    " %(created)s created, %(updated)s updated, %(failed)s failed"
                )
                % {
                    "status": pull.get_status_display(),
                    "fetched": display.count(pull.fetched),
                    "pages": display.count(pull.pages),
                    "created": display.count(job.created if job else 0),
                    "updated": display.count(job.updated if job else 0),
                    "failed": display.count(job.failed if job else 0),
                }
            )
        if pull.status != "succeeded":
            raise CommandError(
                pull.error
                or gettext("The pull did not succeed: %(status)s.")
                % {"status": pull.get_status_display()}
            )

    def _progress(self, pull: BuilderPull, job: ImportJob | None) -> None:
        if not sys.stderr.isatty():
            return
        if job is None:
            line = gettext("fetching: %(customers)s customers, %(pages)s pages") % {
                "customers": display.count(pull.fetched),
                "pages": display.count(pull.pages),
            }
        else:
            line = gettext("importing: %(done)s of %(total)s rows") % {
                "done": display.count(job.rows_done),
                "total": display.count(job.rows_total or 0),
            }
        sys.stderr.write(f"\r{line}\033[K")
        sys.stderr.flush()

"""`builder_pull SLUG cafe24|shopify`: pull the customers registered before installation (R5.1)
and import them, in this process, with a progress line on a terminal."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from builders.models import BuilderPull
from builders.pulls import builder_pull_request, builder_pull_run
from builders.registry import pull_platforms
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
        channel = Channel.objects.filter(slug=opts["slug"]).first()
        if channel is None:
            raise CommandError(f"no channel with the slug {opts['slug']!r}")
        manager = manager_named(opts["manager"])
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
                f"{pull.status}: {pull.fetched:,} fetched in {pull.pages:,} pages;"
                f" {result['created']:,} created, {result['updated']:,} updated,"
                f" {result['failed']:,} failed"
            )
        if pull.status != "succeeded":
            raise CommandError(pull.error or f"the pull {pull.status}")

    def _progress(self, pull: BuilderPull, job: ImportJob | None) -> None:
        if not sys.stderr.isatty():
            return
        if job is None:
            line = f"fetching: {pull.fetched:,} customers, {pull.pages:,} pages"
        else:
            line = f"importing: {job.rows_done:,} of {job.rows_total or 0:,} rows"
        sys.stderr.write(f"\r{line}\033[K")
        sys.stderr.flush()

"""`import_customers SLUG FILE --kind member|lead …` (SPEC §9): a file import from the shell."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy

from crm.management.lookups import manager_named
from crm.models import Channel
from importer.engine import run_import
from importer.jobs import ImportLocked
from importer.mapping import MappingError
from importer.models import ImportJob
from importer.reading import EncodingUnknown, FileRefused
from importer.report import result_counts
from importer.services import import_configure, import_create, import_start
from importer.wizard import suggested_mapping


def _pairs(values: list[str]) -> dict[str, str]:
    mapping = {}
    for item in values:
        header, sep, key = item.rpartition("=")
        if not sep or not header:
            raise CommandError(
                gettext('--map %(item)s: write it as "Header=key"') % {"item": repr(item)}
            )
        mapping[header] = key.strip()
    return mapping


class Command(BaseCommand):
    # Lazy: read in the language of the command line when --help is printed.
    help = cast(str, gettext_lazy("Import customers from a CSV or XLSX file into a channel."))
    # A scripting command: the system checks (URLconf, admin, templates: ~0.7 s) belong to
    # deploys and `manage.py check`, not to every file a script imports.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file")
        parser.add_argument("--kind", required=True, choices=["member", "lead"])
        parser.add_argument("--identity", choices=["email", "mobileNumber"], default="")
        parser.add_argument("--map", action="append", default=[], metavar="HEADER=KEY")
        parser.add_argument("--skip", action="append", default=[], metavar="HEADER")
        parser.add_argument("--empty", choices=["keep", "clear"], default="keep")
        parser.add_argument(
            "--tag", default=None, help=gettext("import tag (default: the file name)")
        )
        parser.add_argument(
            "--manager",
            default=None,
            help=gettext(
                "username of the requesting manager (the failure log is written in their language)"
            ),
        )
        parser.add_argument("--failures-out", default=None, metavar="PATH")
        parser.add_argument(
            "--json", action="store_true", help=gettext("print one JSON object, no bar")
        )
        parser.add_argument(
            "--no-default-country",
            action="store_true",
            help=gettext(
                "phone numbers without a +country code fail their row instead of being read "
                "in the channel's country (R2.13a)"
            ),
        )
        parser.add_argument(
            "--encoding",
            default=None,
            metavar="NAME",
            help=gettext("a text file's encoding (cp949, cp1252, euc_jp, …); detected when absent"),
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        channel = Channel.objects.filter(slug=opts["slug"]).first()
        if channel is None:
            raise CommandError(
                gettext("no channel with the slug %(slug)s") % {"slug": repr(opts["slug"])}
            )
        if opts["kind"] == "lead" and not opts["identity"]:
            raise CommandError(
                gettext("a lead import needs --identity email or --identity mobileNumber")
            )
        manager = manager_named(opts["manager"])
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(gettext("%(path)s: no such file") % {"path": path})
        try:
            with open(path, "rb") as fh:
                job = import_create(
                    channel=channel,
                    by=manager,
                    source=fh,
                    filename=path.name,
                    kind=opts["kind"],
                    identity=opts["identity"],
                    origin="command",
                    default_country=not opts["no_default_country"],
                    encoding=opts["encoding"],
                )
        except EncodingUnknown as exc:
            likely = ", ".join(exc.choices) or gettext("none of the common ones")
            raise CommandError(
                gettext("%(file)s: %(reason)s Give it with --encoding NAME (likely: %(likely)s).")
                % {"file": path.name, "reason": exc.reason, "likely": likely}
            ) from None
        except FileRefused as exc:
            raise CommandError(f"{path.name}: {exc.reason}") from None
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(str(exc)) from None
        try:
            mapping: dict[str, str | None] = dict(suggested_mapping(job))
            mapping.update(_pairs(opts["map"]))
            for header in opts["skip"]:
                if header not in job.headers:
                    raise CommandError(
                        gettext("--skip %(header)s: the file has no such column")
                        % {"header": repr(header)}
                    )
                mapping[header] = ""
            import_configure(job=job, mapping=mapping, empty_policy=opts["empty"], tag=opts["tag"])
            import_start(job=job, dispatch=False)
        except (MappingError, ValidationError, ImportLocked) as exc:
            _discard(job)
            raise CommandError(str(exc)) from None
        except CommandError:
            _discard(job)
            raise
        job = self._run(job, quiet=opts["json"])
        failure_log = self._failure_log(job, opts["failures_out"])
        if opts["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "status": job.status,
                        "import": job.pk,
                        "created": job.created,
                        "updated": job.updated,
                        "unified": job.unified,
                        "failed": job.failed,
                        "encoding": job.encoding or None,
                        "failure_log": failure_log,
                    }
                )
            )
        else:
            self.stdout.write(
                f"{job.get_status_display()} (#{job.pk}, {job.encoding or job.file_format}): "
                f"{result_counts(job)}"
            )
            if failure_log:
                self.stdout.write(gettext("failure log: %(path)s") % {"path": failure_log})
        if job.status != "succeeded":
            raise CommandError(
                job.error
                or gettext("the import ended %(status)s") % {"status": job.get_status_display()}
            )

    def _run(self, job: ImportJob, *, quiet: bool) -> ImportJob:
        bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=0, unit="rows", unit_scale=True, file=sys.stderr)

        def progress(current: ImportJob) -> None:
            if bar is not None:
                bar.total = current.rows_total or 0
                bar.n = current.rows_done
                bar.refresh()

        try:
            # Without a bar, no progress: each report re-reads the job, a round trip per chunk.
            return run_import(job.pk, progress=progress if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()

    def _failure_log(self, job: ImportJob, out: str | None) -> str | None:
        stored = (
            job.failure_log_xlsx if out and out.lower().endswith(".xlsx") else job.failure_log_csv
        )
        if not stored:
            return None
        source = Path(settings.MEDIA_ROOT) / stored
        if out:
            shutil.copyfile(source, out)
            return str(Path(out))
        return str(source)


def _discard(job: ImportJob) -> None:
    """A refused import leaves nothing behind: no job row, no stored upload."""
    if job.source_path:
        (Path(settings.MEDIA_ROOT) / job.source_path).unlink(missing_ok=True)
    job.delete()

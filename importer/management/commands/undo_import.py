"""`undo_import SLUG IMPORT_ID [--yes] [--json]` (R2.16, SPEC §9): without --yes, print what undoing
the import would do (its dry run); with it, undo it here, as a job under the channel's lock."""

from __future__ import annotations

import json
import sys
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy

from crm.management.lookups import manager_named
from importer.jobs import ImportLocked
from importer.models import ImportJob, ImportStatus
from importer.undo import UndoRefused, run_undo, undo_preview, undo_start, undo_summary


class Command(BaseCommand):
    # Lazy: read in the language of the command line when --help is printed.
    help = cast(
        str,
        gettext_lazy(
            "Undo an import: delete the customers it created and give back the values it changed."
        ),
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("import_id", type=int)
        parser.add_argument(
            "--yes", action="store_true", help=gettext("undo now (else: print what it would do)")
        )
        parser.add_argument(
            "--manager", default=None, help=gettext("username of the manager undoing it")
        )
        parser.add_argument("--json", action="store_true", help=gettext("print one JSON object"))

    def handle(self, *args: Any, **opts: Any) -> None:
        job = (
            ImportJob.objects.select_related("channel")
            .filter(channel__slug=opts["slug"], pk=opts["import_id"], undoes__isnull=True)
            .exclude(status=ImportStatus.DRAFT)
            .first()
        )
        if job is None:
            raise CommandError(
                gettext("No import #%(id)s in channel %(slug)s.")
                % {"id": opts["import_id"], "slug": opts["slug"]}
            )
        manager = manager_named(opts["manager"])
        if not opts["yes"]:
            self._preview(job, as_json=opts["json"])
            return
        done = job.undos.filter(status=ImportStatus.SUCCEEDED).first()
        if done is not None:  # idempotent: a second undo does nothing
            if opts["json"]:
                self.stdout.write(
                    json.dumps({**undo_summary(done), "status": "already_undone", "undo": done.pk})
                )
            else:
                self.stdout.write(
                    gettext("Import #%(id)s was already undone (undo #%(undo)s); nothing changed.")
                    % {"id": job.pk, "undo": done.pk}
                )
            return
        try:
            undo = undo_start(job=job, by=manager, origin="command", dispatch=False)
        except (UndoRefused, ImportLocked) as exc:
            raise CommandError(str(exc)) from None
        undo = run_undo(undo.pk, progress=None if opts["json"] else self._progress)
        if opts["json"]:
            self.stdout.write(json.dumps(undo_summary(undo)))
        else:
            self.stdout.write(
                gettext(
                    "%(status)s: %(deleted)s customers deleted, %(restored)s restored,"
                    " %(kept)s values kept as changed after the import."
                )
                % {
                    "status": undo.get_status_display(),
                    "deleted": f"{undo.deleted:,}",
                    "restored": f"{undo.restored:,}",
                    "kept": f"{undo.kept:,}",
                }
            )
            for sample in undo.kept_samples[:10]:
                self.stdout.write(_kept_line(sample))
        if undo.status != ImportStatus.SUCCEEDED:
            raise CommandError(undo.error or undo.get_status_display())

    def _progress(self, undo: ImportJob) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{undo.rows_done:,}/{undo.rows_total or 0:,}")

    def _preview(self, job: ImportJob, *, as_json: bool) -> None:
        preview = undo_preview(job)
        if as_json:
            self.stdout.write(json.dumps(preview.as_json(), ensure_ascii=False, default=str))
            return
        lines = [
            gettext("Undoing import #%(id)s (%(file)s) would:")
            % {"id": job.pk, "file": job.filename},
            gettext(
                "- delete %(count)s customers it created (%(since)s of them changed or chatted"
                " since; their chats and messages stay)"
            )
            % {"count": f"{preview.delete:,}", "since": f"{preview.changed_since:,}"},
            gettext("- restore %(count)s customers it updated") % {"count": f"{preview.restore:,}"},
            gettext("- keep %(count)s values changed after the import")
            % {"count": f"{preview.kept:,}"},
            gettext("- leave %(count)s unifications as they are")
            % {"count": f"{preview.unifications:,}"},
        ]
        lines += [_kept_line(k.as_json()) for k in preview.kept_samples]
        if preview.refusal:
            lines.append(preview.refusal)
        else:
            lines.append(gettext("Run again with --yes to undo it."))
        self.stdout.write("\n".join(lines))


def _kept_line(sample: dict[str, Any]) -> str:
    return gettext(
        "  customer %(customer)s, %(key)s: the import wrote %(imported)s, today %(today)s (kept)"
    ) % {
        "customer": sample["customer"],
        "key": sample["key"],
        "imported": json.dumps(sample["imported"], ensure_ascii=False),
        "today": json.dumps(sample["today"], ensure_ascii=False),
    }

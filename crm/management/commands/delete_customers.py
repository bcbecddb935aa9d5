"""``delete_customers SLUG (--id ID ... | --member-id MID ... | --import-tag TAG) [--yes]``
(R3.1, R2.21, SPEC §9).

Without ``--yes`` nothing is deleted: the command says how many customers would go and exits
with status 1, so a script that forgot ``--yes`` cannot take the count for a deletion. Every id
and memberId must name a customer of the channel, else nothing is deleted. ``--import-tag``
deletes the contacts carrying the tag (blocked customers are not in contacts: delete them by
id). Runs in this process, chunk by chunk, with a progress bar on a terminal; chats and
messages stay, shown as from a deleted customer.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext
from tqdm import tqdm

from crm import display
from crm.management.commands._cli import channel_or_error, validation_error
from crm.models import ActivityLog, Channel, Customer, DeletionJob, ImportTag
from crm.services.deletion import customers_delete, deletion_job_run, deletion_preview


class Command(BaseCommand):
    help = "Delete customers by id, memberId or import tag. Cannot be undone; needs --yes."
    # Django's system checks (0.5 s of CPU, seconds on a busy machine) are for starting a server;
    # a deletion needs the database only (issue 15: the command's own overhead).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the channel")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--id", type=int, nargs="+", dest="ids", metavar="ID")
        which.add_argument("--member-id", nargs="+", dest="member_ids", metavar="MID")
        which.add_argument("--import-tag", dest="import_tag", metavar="TAG")
        parser.add_argument("--yes", action="store_true", help="really delete (cannot be undone)")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = channel_or_error(options["slug"])
        ids, filter, what = _target(channel, options)
        if not options["yes"]:
            count, _ = deletion_preview(channel=channel, ids=ids, filter=filter)
            self.stdout.write(
                ngettext(
                    "%(count)s customer of %(channel)s would be deleted (%(what)s).",
                    "%(count)s customers of %(channel)s would be deleted (%(what)s).",
                    count,
                )
                % {"count": display.count(count), "channel": repr(channel.slug), "what": what}
            )
            raise CommandError(
                gettext("nothing deleted: add --yes to delete them (cannot be undone)")
            )
        # With --yes nothing is counted here: the deletion takes what matches now (customers
        # added meanwhile excluded) and its job counts it, once (issue 15).
        try:
            job = customers_delete(
                channel=channel,
                by=None,
                via=ActivityLog.Via.COMMAND,
                ids=ids,
                filter=filter,
                description=what,
                background=False,
            )
        except ValidationError as exc:
            raise validation_error(exc) from None
        if not job.done:
            job = self._run(job)
        if job.status != DeletionJob.Status.SUCCEEDED:
            raise CommandError(
                gettext("deletion #%(id)s %(status)s: %(error)s")
                % {"id": job.pk, "status": job.get_status_display(), "error": job.error}
            )
        self.stdout.write(
            ngettext(
                "deleted %(count)s customer of %(channel)s (%(what)s)",
                "deleted %(count)s customers of %(channel)s (%(what)s)",
                job.deleted,
            )
            % {"count": display.count(job.deleted), "channel": repr(channel.slug), "what": what}
        )

    def _run(self, job: DeletionJob) -> DeletionJob:
        bar = tqdm(
            total=job.total,
            unit=gettext("customers"),
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
            desc=gettext("Deleting"),
        )

        def progress(current: DeletionJob) -> None:
            if bar.total != current.total:  # counted by the job as it starts
                bar.total = current.total
                bar.refresh()
            bar.update(current.deleted - bar.n)

        with bar:
            return deletion_job_run(job.pk, progress=progress)


def _target(
    channel: Channel, options: dict[str, Any]
) -> tuple[list[int] | None, dict[str, str] | None, str]:
    if options["ids"]:
        ids = sorted(set(options["ids"]))
        found = set(
            Customer.objects.filter(channel=channel, pk__in=ids).values_list("pk", flat=True)
        )
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise CommandError(
                gettext("no customer with the id %(ids)s in channel %(channel)s: nothing deleted")
                % {"ids": ", ".join(missing), "channel": repr(channel.slug)}
            )
        return ids, None, gettext("ids %(ids)s") % {"ids": ", ".join(map(str, ids))}
    if options["member_ids"]:
        wanted = sorted(set(options["member_ids"]))
        rows = dict(
            Customer.objects.filter(channel=channel, member_id__in=wanted).values_list(
                "member_id", "pk"
            )
        )
        missing = [m for m in wanted if m not in rows]
        if missing:
            raise CommandError(
                gettext(
                    "no customer with the memberId %(member_ids)s in channel %(channel)s: "
                    "nothing deleted"
                )
                % {"member_ids": ", ".join(missing), "channel": repr(channel.slug)}
            )
        what = gettext("memberIds %(member_ids)s") % {"member_ids": ", ".join(wanted)}
        return sorted(rows.values()), None, what
    tag = options["import_tag"]
    if not ImportTag.objects.filter(channel=channel, name=tag).exists():
        raise CommandError(
            gettext("no import tag %(tag)s in channel %(channel)s")
            % {"tag": repr(tag), "channel": repr(channel.slug)}
        )
    return None, {"importTag": tag}, gettext("import tag %(tag)s") % {"tag": repr(tag)}

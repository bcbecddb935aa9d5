"""Import write services: create a job from an uploaded file, start it, cancel it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext

from config.celery import queue_on_commit
from crm import jobs
from crm.models import Channel
from crm.selectors import profile_keys_by_name
from crm.types import Actor, manager_or_none
from importer.job_files import open_job_table
from importer.jobs import IMPORTS, FixApplying, active_fix, active_import, enqueue
from importer.mapping import build_plan
from importer.models import EmptyPolicy, ImportCheck, ImportJob, ImportKind, ImportStatus
from importer.reading import EncodingUnknown, FileRefused, open_table


def _check_permission(channel: Channel, by: Actor) -> None:
    if by is not None and not by.has_perm("crm.import_customers", channel):
        raise PermissionDenied(
            gettext("%(manager)s may not import customers into %(channel)s")
            % {"manager": by.get_username(), "channel": channel.slug}
        )


def store_upload(channel: Channel, source: IO[bytes], filename: str) -> str:
    """Copy an upload under MEDIA_ROOT/imports/; returns the path relative to MEDIA_ROOT."""
    safe = Path(filename).name or "upload"
    rel = Path("imports") / str(channel.pk) / f"{uuid.uuid4().hex}-{safe}"
    target = Path(settings.MEDIA_ROOT) / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        shutil.copyfileobj(source, out, length=1024 * 1024)
    return str(rel)


def import_create(
    *,
    channel: Channel,
    by: Actor,
    source: IO[bytes],
    filename: str,
    kind: str,
    identity: str = "",
    origin: str = "web",
    default_country: bool = True,
    encoding: str | None = None,
    choose_encoding_later: bool = False,
) -> ImportJob:
    """A draft job for an uploaded file: the file is stored and read once for its headers.

    ``default_country``: national phone numbers are read in the channel's country (R2.13a);
    False makes them fail their row, for this import only.

    `encoding` is a text file's encoding as the manager chose it (R2.3a); else it is detected.
    Raises FileRefused (nothing kept) when the file cannot be imported at all (R2.3). A text
    file whose encoding is unsure raises EncodingUnknown, unless `choose_encoding_later`: the
    wizard then keeps the file in a draft whose encoding is pending (`encoding_pending`), and
    the manager chooses it on the next page (`import_encoding_set`).
    """
    _check_permission(channel, by)
    if kind not in ImportKind.values:
        raise ValidationError(
            {"kind": gettext("unknown import kind %(kind)s: member or lead") % {"kind": repr(kind)}}
        )
    if kind == ImportKind.MEMBER:
        identity = "memberId"
    elif identity not in ("email", "mobileNumber"):
        raise ValidationError(
            {"identity": gettext("a lead import is identified by email or mobileNumber")}
        )
    rel = store_upload(channel, source, filename)
    path = Path(settings.MEDIA_ROOT) / rel
    headers: list[str] = []
    file_format = "csv"
    try:
        with open_table(
            path, max_bytes=settings.UPLOAD_MAX_BYTES, filename=filename, encoding=encoding
        ) as table:
            headers = list(table.headers)
            encoding = table.encoding or ""
            file_format = table.format
    except EncodingUnknown:
        if not choose_encoding_later:
            path.unlink(missing_ok=True)
            raise
        encoding = ""  # pending: the manager chooses it (R2.3a)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return ImportJob.objects.create(
        channel=channel,
        requested_by=manager_or_none(by),
        origin=origin,
        source_path=rel,
        filename=Path(filename).name,
        file_format=file_format,
        encoding=encoding or "",
        headers=headers,
        kind=kind,
        identity=identity,
        phone_region=str(channel.country) if default_country else "",
        tag=Path(filename).stem[:512],
    )


def _file_fixed() -> str:
    return gettext("the import has already started; its file cannot change")


def import_encoding_set(*, job: ImportJob, encoding: str) -> ImportJob:
    """Read a draft's text file in the encoding the manager chose (R2.3a): its headers are read
    again, and a mapping made for another reading of them is forgotten.

    Raises FileRefused (EncodingUnknown when the file is not valid text in that encoding).
    """
    if job.status != ImportStatus.DRAFT:
        raise ValidationError(_file_fixed())
    if job.file_format != "csv":
        raise FileRefused(gettext("only a text (CSV) file has an encoding to choose"))
    with open_job_table(job, encoding=encoding) as table:
        headers = list(table.headers)
        chosen = table.encoding or ""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportStatus.DRAFT:
            raise ValidationError(_file_fixed())
        if headers != locked.headers:
            locked.mapping = {}
        if chosen != locked.encoding:
            # A check of another reading counted other values: the file is checked again.
            ImportCheck.objects.filter(job=locked).delete()
        locked.encoding = chosen
        locked.headers = headers
        locked.rows_total = None
        locked.save(update_fields=["encoding", "headers", "mapping", "rows_total"])
    return locked


@transaction.atomic
def import_configure(
    *,
    job: ImportJob,
    mapping: Mapping[str, str | None],
    empty_policy: str = EmptyPolicy.KEEP,
    tag: str | None = None,
    default_country: bool | None = None,
) -> ImportJob:
    """Set the mapping and settings of a draft job; MappingError names every problem (R2.8).

    ``default_country`` turns the reading of national phone numbers in the channel's country on
    or off for this import (R2.13a); None leaves it as it is.
    """
    if job.status != ImportStatus.DRAFT:
        raise ValidationError(gettext("the import has already started; its settings cannot change"))
    if empty_policy not in EmptyPolicy.values:
        raise ValidationError({"empty_policy": gettext("use keep or clear")})
    build_plan(
        headers=job.headers,
        mapping=mapping,
        keys=profile_keys_by_name(job.channel),
        kind=job.kind,
        identity=job.identity,
    )
    new_mapping = {h: (k or "") for h, k in mapping.items()}
    new_region = job.phone_region
    if default_country is not None:
        new_region = str(job.channel.country) if default_country else ""
    fixing = active_fix(job.pk)
    if fixing is not None and (new_mapping != job.mapping or new_region != job.phone_region):
        raise ValidationError(str(FixApplying(fixing)))  # the fix reads the columns as mapped
    job.mapping = new_mapping
    job.empty_policy = empty_policy
    if tag is not None:
        job.tag = tag.strip()[:512]
    job.phone_region = new_region
    job.save(update_fields=["mapping", "empty_policy", "tag", "phone_region"])
    return job


def import_start(*, job: ImportJob, dispatch: bool = True) -> ImportJob:
    """Queue the job under the channel's one-import lock (R2.17) and hand it to a worker.

    Raises ImportLocked at once when another import of the channel is queued or running.
    """
    _reap_if_dead(job.channel_id)
    enqueue(job)
    if dispatch:
        queue_on_commit("importer.run_import", job.pk)
    return job


def _reap_if_dead(channel_id: int) -> None:
    """A dead worker's job that has used its attempts no longer holds the channel (workers
    reap every few seconds; this covers a channel whose import ran in a killed command)."""
    if active_import(channel_id) is not None:
        jobs.reap(IMPORTS)


def import_cancel(*, job: ImportJob, by: Actor) -> str:
    """Cancel an import (R2.24): a queued one, or one whose worker died, ends now and frees the
    channel (``"cancelled"``); a running one stops at its next chunk boundary, keeping what it
    committed (``"requested"``); ``"over"`` when it had already ended."""
    _check_permission(job.channel, by)
    who = by.get_username() if by is not None else gettext("the command line")
    return jobs.cancel(IMPORTS, job.pk, error=gettext("Cancelled by %(who)s.") % {"who": who})

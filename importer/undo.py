"""Undoing an import (R2.16): its dry run, and the undo itself as a job of the job runtime.

An undo is a line of the import log (an ``ImportJob`` whose ``undoes`` is the import), so the
channel's one-at-a-time lock, the reaper, cancellation and hand-back are the import's. It walks
the import's journal in customer order, a chunk per transaction fenced by its lease, its position
the last customer done: a resumed undo starts after it and a finished one is never run twice.

Per journal entry (see docs/decisions.md, "Undo"):
- a customer the import created, still there, is deleted (R3: its chats and messages stay);
- a customer it updated gets back the previous value of each key the import changed, where the
  customer still has the value the import wrote; a key changed since keeps today's value and is
  reported (``kept``);
- the import tag added by the import comes off, and import tags the 30-limit dropped come back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from crm import jobs
from crm.models import ActivityLog, Chat, Customer, CustomerImportTag, ImportTag
from crm.services.activity import activity_record
from crm.services.consent import CONSENT_FIELDS, ConsentSource, consent_record_many
from crm.services.customers import customers_hold
from crm.services.deletion import purge_customers
from crm.types import Actor, manager_or_none
from importer.jobs import IMPORTS, active_import, enqueue
from importer.models import ImportJob, ImportJournal, ImportStatus
from importer.resolve import CUSTOMER_COLUMNS, Target
from importer.writers.base import jsonable

log = logging.getLogger(__name__)

Progress = Callable[[ImportJob], None]

KEPT_SAMPLES = 100  # values kept as changed after the import, listed in the undo's report
ENDED = (ImportStatus.SUCCEEDED, ImportStatus.CANCELLED, ImportStatus.FAILED)


def chunk_size() -> int:
    return int(getattr(settings, "IMPORT_CHUNK_ROWS", 2000))


class UndoRefused(Exception):
    """The import cannot be undone (now or at all); the message says why."""


# --- when an import can be undone ---------------------------------------------------------------
def undo_deadline(job: ImportJob) -> datetime | None:
    """Until when the import can be undone: as long as its failure log is kept (R2.16)."""
    if job.finished_at is None:
        return None
    return job.finished_at + timedelta(days=settings.FAILURE_LOG_RETENTION_DAYS)


def undo_refusal(job: ImportJob, now: datetime | None = None) -> str | None:
    """Why this import cannot be undone, or None when it can."""
    if job.is_undo:
        return gettext("An undo cannot itself be undone.")
    if job.status not in ENDED or job.finished_at is None:
        return gettext("Only an import that has ended can be undone.")
    done = job.undos.filter(status=ImportStatus.SUCCEEDED).first()
    if done is not None:
        return gettext("Import #%(id)s was already undone (undo #%(undo)s).") % {
            "id": job.pk,
            "undo": done.pk,
        }
    deadline = undo_deadline(job)
    if deadline is not None and deadline < (now or timezone.now()):
        return gettext(
            "Import #%(id)s can no longer be undone: an import can be undone for %(days)s days."
        ) % {"id": job.pk, "days": settings.FAILURE_LOG_RETENTION_DAYS}
    return None


# --- one journal entry: what undo does to its customer -------------------------------------------
@dataclass
class Kept:
    customer_id: int
    key: str
    imported: Any  # the value the import wrote (None: unknown, a journal older than undo)
    today: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "customer": self.customer_id,
            "key": self.key,
            "imported": self.imported,
            "today": self.today,
        }


@dataclass
class _Current:
    target: Target
    created_at: datetime
    updated_at: datetime


@dataclass
class ChunkPlan:
    delete: list[int] = field(default_factory=list)
    restore: dict[int, Target] = field(default_factory=dict)  # customer -> values to write
    retagged: set[int] = field(default_factory=set)  # customers with a dropped tag given back
    untag: list[int] = field(default_factory=list)  # customers whose import tag comes off
    add_tags: list[CustomerImportTag] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    # (customer, key, today's value, the value given back) of consent flags (R2.16b)
    consent: list[tuple[int, str, Any, Any]] = field(default_factory=list)
    changed_since: int = 0  # customers to delete that were changed or chatted after the import

    @property
    def restored(self) -> int:
        return len(set(self.restore) | self.retagged)


def _same(a: Any, b: Any) -> bool:
    """The value the import wrote and today's, compared as JSON holds them (dates as ISO text;
    a date-time written by one JSON encoder and read back from another compares as a time)."""
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        left, right = parse_datetime(a), parse_datetime(b)
        return left is not None and right is not None and left == right
    return False


def _load(channel_id: int, ids: Sequence[int]) -> dict[int, _Current]:
    rows = Customer.objects.filter(channel_id=channel_id, id__in=ids).values(
        *CUSTOMER_COLUMNS, "created_at", "updated_at"
    )
    return {
        row["id"]: _Current(Target.from_row(row), row["created_at"], row["updated_at"])
        for row in rows
    }


def _chatted_since(channel_id: int, ids: Sequence[int], since: datetime) -> set[int]:
    if not ids:
        return set()
    return set(
        Chat.objects.filter(channel_id=channel_id, customer_id__in=ids, created_at__gte=since)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def _plan_chunk(job: ImportJob, entries: Sequence[ImportJournal]) -> ChunkPlan:
    """What undoing these journal entries does, read from the database as it is now."""
    assert job.started_at is not None and job.finished_at is not None
    plan = ChunkPlan()
    current = _load(job.channel_id, [e.customer_id for e in entries])
    for entry in entries:
        now = current.get(entry.customer_id)
        if now is None:
            continue  # deleted since: nothing left to undo
        if entry.created:
            if now.created_at >= job.started_at:
                plan.delete.append(entry.customer_id)
                if now.updated_at > job.finished_at:
                    plan.changed_since += 1
            # else: the entry followed a lead the import created into an older member it was
            # unified with (importer.journal); the member and the unification stay.
            continue
        plan.untag.append(entry.customer_id)
        values = dict(now.target.values)
        changed = False
        for key, before in (entry.previous or {}).items():
            today = jsonable({key: values.get(key)})[key]
            if entry.written is None:
                # A journal from before undo kept the written value: unchanged since when the
                # customer was not updated after the import ended.
                unchanged = now.updated_at <= job.finished_at
                imported = None
            else:
                imported = entry.written.get(key)
                unchanged = _same(imported, today)
            if not unchanged:
                plan.kept.append(Kept(entry.customer_id, key, imported, today))
                continue
            if _same(before, today):
                continue
            if key in CONSENT_FIELDS:
                plan.consent.append((entry.customer_id, key, today, before))
            if before is None:
                values.pop(key, None)
            else:
                values[key] = before
            changed = True
        if changed:
            now.target.values = values
            plan.restore[entry.customer_id] = now.target
    deleted = set(plan.delete)
    plan.changed_since += len(
        _chatted_since(job.channel_id, plan.delete, job.started_at)
        - {i for i in deleted if current[i].updated_at > job.finished_at}
    )
    _plan_tags(job, entries, plan)
    return plan


def _import_tag(job: ImportJob) -> ImportTag | None:
    if not job.tag:
        return None
    return ImportTag.objects.filter(channel_id=job.channel_id, name=job.tag).first()


def _plan_tags(job: ImportJob, entries: Sequence[ImportJournal], plan: ChunkPlan) -> None:
    """Dropped import tags come back where the customer has room once the import's tag is off."""
    assert job.started_at is not None and job.finished_at is not None
    dropping = [e for e in entries if e.dropped_tags and e.customer_id in set(plan.untag)]
    if not dropping:
        return
    ids = [e.customer_id for e in dropping]
    tag = _import_tag(job)
    held: dict[int, set[int]] = {}
    for customer_id, tag_id, added_at in CustomerImportTag.objects.filter(
        customer_id__in=ids
    ).values_list("customer_id", "import_tag_id", "added_at"):
        if tag is not None and tag_id == tag.pk and job.started_at <= added_at <= job.finished_at:
            continue  # comes off with this undo
        held.setdefault(customer_id, set()).add(tag_id)
    wanted = {t for e in dropping for t, _ in e.dropped_tags or []}
    alive = set(
        ImportTag.objects.filter(channel_id=job.channel_id, id__in=wanted).values_list(
            "id", flat=True
        )
    )
    for entry in dropping:
        has = held.setdefault(entry.customer_id, set())
        for tag_id, added_at in entry.dropped_tags or []:
            if tag_id not in alive or tag_id in has:
                continue
            if len(has) >= CustomerImportTag.MAX_PER_CUSTOMER:
                break
            moment = parse_datetime(added_at)
            assert moment is not None
            plan.add_tags.append(
                CustomerImportTag(
                    channel_id=job.channel_id,
                    customer_id=entry.customer_id,
                    import_tag_id=tag_id,
                    added_at=moment,
                )
            )
            has.add(tag_id)
            plan.retagged.add(entry.customer_id)


def _entries(job: ImportJob, after: int) -> Iterator[list[ImportJournal]]:
    """The import's journal in customer order, a chunk at a time, from after ``after``."""
    size = chunk_size()
    while True:
        chunk = list(
            ImportJournal.objects.filter(job=job, customer_id__gt=after)
            .order_by("customer_id")
            .only("customer_id", "created", "previous", "written", "dropped_tags")[:size]
        )
        if not chunk:
            return
        yield chunk
        after = chunk[-1].customer_id


# --- the dry run ----------------------------------------------------------------------------------
@dataclass
class UndoPreview:
    job: ImportJob
    delete: int = 0
    changed_since: int = 0  # of those, customers changed or chatted after the import
    restore: int = 0
    kept: int = 0
    kept_samples: list[Kept] = field(default_factory=list)
    unifications: int = 0
    refusal: str | None = None
    deadline: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "import": self.job.pk,
            "delete": self.delete,
            "changedSince": self.changed_since,
            "restore": self.restore,
            "kept": self.kept,
            "keptSamples": [k.as_json() for k in self.kept_samples],
            "unifications": self.unifications,
            "refusal": self.refusal,
        }


def undo_preview(job: ImportJob, *, samples: int = 10) -> UndoPreview:
    """The dry run: what undoing the import would do now, counted (nothing is written)."""
    preview = UndoPreview(job=job, refusal=undo_refusal(job), deadline=undo_deadline(job))
    if job.is_undo or job.started_at is None or job.finished_at is None:
        return preview
    for entries in _entries(job, 0):
        plan = _plan_chunk(job, entries)
        preview.delete += len(plan.delete)
        preview.changed_since += plan.changed_since
        preview.restore += plan.restored
        preview.kept += len(plan.kept)
        room = samples - len(preview.kept_samples)
        preview.kept_samples.extend(plan.kept[: max(room, 0)])
    preview.unifications = job.unified  # leads it unified into members (R2.7): they stay
    return preview


# --- starting and running an undo -----------------------------------------------------------------
def undo_start(
    *, job: ImportJob, by: Actor, origin: str = "web", dispatch: bool = True
) -> ImportJob:
    """Queue an undo of ``job`` under the channel's one-at-a-time lock (R2.16, R2.17).

    Raises UndoRefused when the import cannot be undone, ImportLocked when another import or
    undo of the channel is queued or running. An undo of this import that stopped (cancelled,
    failed) is carried on from where it stopped.
    """
    if by is not None and not by.has_perm("crm.import_customers", job.channel):
        raise UndoRefused(
            gettext("%(who)s may not import customers into %(channel)s, so may not undo imports.")
            % {"who": by.get_username(), "channel": job.channel.slug}
        )
    refusal = undo_refusal(job)
    if refusal:
        raise UndoRefused(refusal)
    if active_import(job.channel_id) is not None:
        jobs.reap(IMPORTS)  # a dead worker's job out of attempts no longer holds the channel
    stopped = job.undos.order_by("-position").values_list("position", flat=True).first()
    undo = ImportJob.objects.create(
        channel=job.channel,
        requested_by=manager_or_none(by),
        origin=origin,
        undoes=job,
        filename=job.filename,
        kind=job.kind,
        identity=job.identity,
        tag=job.tag,
        position=stopped or 0,
        rows_total=ImportJournal.objects.filter(job=job).count(),
    )
    try:
        enqueue(undo)
    except Exception:
        undo.delete()
        raise
    if dispatch:
        transaction.on_commit(lambda: _dispatch(undo.pk))
    return undo


def _dispatch(job_id: int) -> None:
    from config.celery import queue

    queue("importer.run_import", job_id)


def run_undo(undo_id: int, *, progress: Progress | None = None) -> ImportJob:
    """Run (or resume) one undo; returns it as it stands afterwards. Safe to call twice."""
    lease = jobs.claim(IMPORTS, undo_id)
    undo = ImportJob.objects.select_related("channel", "requested_by", "undoes").get(pk=undo_id)
    if lease is None:
        return undo
    with jobs.holding(lease) as held:
        try:
            original = undo.undoes
            assert original is not None, "run_undo runs undos"
            samples = list(undo.kept_samples)
            for entries in _entries(original, undo.position):
                held.checkpoint()
                _undo_chunk(undo, original, lease, entries, samples)
                if progress is not None:
                    undo.refresh_from_db()
                    progress(undo)
            _finish(undo, lease, status=ImportStatus.SUCCEEDED)
        except jobs.JobCancelled:
            _finish(undo, lease, status=ImportStatus.CANCELLED)
    undo.refresh_from_db()
    return undo


def _undo_chunk(
    undo: ImportJob,
    original: ImportJob,
    lease: jobs.Lease,
    entries: Sequence[ImportJournal],
    samples: list[dict[str, Any]],
) -> None:
    now = timezone.now()
    with transaction.atomic():
        plan = _plan_chunk(original, entries)
        purge_customers(channel_id=original.channel_id, ids=plan.delete)
        _write_values(original.channel_id, plan.restore.values(), now)
        consent_record_many(
            channel_id=original.channel_id,
            changes=plan.consent,
            source=ConsentSource.undoing(original.pk, undo_id=undo.pk),
            at=now,
        )
        tag = _import_tag(original)
        if tag is not None and plan.untag:
            CustomerImportTag.objects.filter(
                customer_id__in=plan.untag,
                import_tag=tag,
                added_at__gte=original.started_at,
                added_at__lte=original.finished_at,
            ).delete()
        if plan.add_tags:
            # The links are not checked by the database: a customer deleted meanwhile gets none.
            present = customers_hold([t.customer_id for t in plan.add_tags])
            CustomerImportTag.objects.bulk_create(
                [t for t in plan.add_tags if t.customer_id in present], ignore_conflicts=True
            )
        room = KEPT_SAMPLES - len(samples)
        samples.extend(k.as_json() for k in plan.kept[: max(room, 0)])
        jobs.fence(
            lease,
            position=entries[-1].customer_id,
            rows_done=F("rows_done") + len(entries),
            deleted=F("deleted") + len(plan.delete),
            restored=F("restored") + plan.restored,
            kept=F("kept") + len(plan.kept),
            kept_samples=samples,
        )


def _write_values(channel_id: int, targets: Iterable[Target], now: datetime) -> None:
    """Write the restored customers: one UPDATE from a JSON record set on PostgreSQL (Django's
    ``bulk_update`` builds a CASE per column and row, most of an undo's time), else the ORM."""
    from importer.writers.base import CUSTOMER_FIELDS

    targets = list(targets)
    if not targets:
        return
    if connection.vendor == "postgresql":
        records = [{"id": t.id, **t.field_values(), "profile": t.custom_profile()} for t in targets]
        types = {"unsubscribe_email": "boolean", "unsubscribe_texting": "boolean"}
        columns = ", ".join(f"{f} {types.get(f, 'text')}" for f in CUSTOMER_FIELDS)
        assignments = ", ".join(f"{f} = u.{f}" for f in CUSTOMER_FIELDS)
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{Customer._meta.db_table}" c SET {assignments}, profile = u.profile,'
                " updated_at = %s FROM jsonb_to_recordset(%s::jsonb)"
                f" AS u(id bigint, {columns}, profile jsonb)"
                " WHERE c.id = u.id AND c.channel_id = %s",
                [now, json.dumps(records, cls=DjangoJSONEncoder), channel_id],
            )
        return
    customers = []
    for target in targets:
        customer = Customer(id=target.id, profile=target.custom_profile(), updated_at=now)
        for name, value in target.field_values().items():
            setattr(customer, name, value)
        customers.append(customer)
    Customer.objects.bulk_update(
        customers, [*CUSTOMER_FIELDS, "profile", "updated_at"], batch_size=500
    )


def _finish(undo: ImportJob, lease: jobs.Lease, *, status: str) -> None:
    with transaction.atomic():
        cleared = {"error": ""} if status == ImportStatus.SUCCEEDED else {}
        if not jobs.release(lease, status=status, **cleared):
            raise jobs.LeaseLost(f"undo #{undo.pk} was taken over while finishing")
        undo.refresh_from_db()
        activity_record(
            channel=undo.channel,
            actor=undo.requested_by,
            action=ActivityLog.Action.IMPORT_UNDO,
            via=ActivityLog.Via.IMPORT,
            count=undo.deleted + undo.restored,
            detail={
                "undo": undo.pk,
                "import": undo.undoes_id,
                "file": undo.filename,
                "status": undo.status,
                "deleted": undo.deleted,
                "restored": undo.restored,
                "kept": undo.kept,
            },
        )
    from importer.report import import_finished

    import_finished(undo)


def undo_summary(undo: ImportJob) -> dict[str, Any]:
    """``undo_import --json`` (SPEC §9)."""
    return {
        "status": undo.status,
        "deleted": undo.deleted,
        "restored": undo.restored,
        "kept": undo.kept,
        "failed": undo.failed,
    }


def mark_undo_states(items: Iterable[ImportJob], now: datetime | None = None) -> None:
    """For the import log: each import's ``undo_state`` ("available", "undone" with
    ``undone_by``, "expired", or "" when not offered) in one query for the page."""
    items = list(items)
    now = now or timezone.now()
    done = dict(
        ImportJob.objects.filter(
            undoes_id__in=[i.pk for i in items], status=ImportStatus.SUCCEEDED
        ).values_list("undoes_id", "pk")
    )
    for item in items:
        item.undone_by = done.get(item.pk)  # type: ignore[attr-defined]
        deadline = undo_deadline(item)
        if item.is_undo or item.status not in ENDED or deadline is None:
            state = ""
        elif item.pk in done:
            state = "undone"
        elif deadline < now:
            state = "expired"
        else:
            state = "available"
        item.undo_state = state  # type: ignore[attr-defined]

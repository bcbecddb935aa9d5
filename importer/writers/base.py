"""What every import writer shares: one chunk, one transaction, fenced by the job's lease.

A writer commits a ``ChunkResult`` (importer.apply): new customers, changed customers, the import
tag, the journal, the failed rows, the detailed audit and, for members, unification — then the
job's progress, in the same transaction. ``OrmWriter`` and ``CopyWriter`` say how each of those
is written; the order and the transaction are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from crm import jobs
from crm.models import ActivityLog, Channel, Customer, ImportTag
from crm.services.consent import ConsentSource
from crm.services.unification import unify_member_with_leads
from importer.apply import ChunkResult
from importer.mapping import MappedRow
from importer.models import ImportFailure, ImportJob
from importer.resolve import Target

# The built-in keys' columns, in the order writers send them.
CUSTOMER_FIELDS = (
    "name",
    "email",
    "mobile_number",
    "landline_number",
    "member_id",
    "unsubscribe_email",
    "unsubscribe_texting",
)


def cell_text(value: object) -> str:
    """A cell as the failure log shows it: the original text, dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Profile values as JSON holds them (dates as ISO 8601): the journal's earlier values."""
    return {k: (v.isoformat() if isinstance(v, datetime | date) else v) for k, v in values.items()}


def written_values(target: Target) -> dict[str, Any]:
    """The value the import left in each key it changed (None: cleared), for undo (R2.16)."""
    return jsonable({k: target.values.get(k) for k in target.previous})


def failure_record(job: ImportJob, row: MappedRow) -> ImportFailure:
    """A failed row as stored (R2.15): failing keys, reasons and the row's cells as text."""
    return ImportFailure(
        channel_id=job.channel_id,
        job_id=job.pk,
        row_number=row.number,
        columns=[key for key, _ in row.errors],
        reasons=[reason for _, reason in row.errors],
        values=[cell_text(c) for c in row.cells],
    )


def failures_add(job: ImportJob, rows: Sequence[MappedRow]) -> None:
    """Store a chunk's failed rows: the ORM writer's, and the check's (R2.16a)."""
    if rows:
        ImportFailure.objects.bulk_create(
            (failure_record(job, row) for row in rows), batch_size=2000
        )


def _taken_reason() -> str:
    return gettext(
        "a customer with this memberId was created by someone else while this import ran"
        " (the Open API, a boot or a site builder): import this row again to update it"
    )


def target_id(target: Target) -> int:
    assert target.id is not None, "a target is written only after it has an id"
    return target.id


class ChunkWriter:
    """One chunk's writes in one transaction; subclasses say how each part is written."""

    def __init__(self, job: ImportJob, channel: Channel, import_tag: ImportTag | None) -> None:
        self.job = job
        self.channel = channel
        self.import_tag = import_tag
        # The chunk's import tags the 30-limit dropped, per customer ([tag id, added at]): the
        # journal keeps them so undo can put them back (R2.16).
        self.dropped: dict[int, list[list[Any]]] = {}
        # Ids given (by the COPY writer, ahead of the write) to new customers it could not
        # create, their memberId taken meanwhile: a later chunk that met one as pending finds
        # it missing, and its rows fail for that reason, not as "deleted".
        self.taken: set[int] = set()

    @property
    def consent_source(self) -> ConsentSource:
        """What the consent history says changed a flag (R2.16b): this import, or the site
        builder whose pull it is."""
        kind, _, platform = self.job.origin.partition(":")
        return ConsentSource.importing(self.job.pk, builder=platform if kind == "builder" else "")

    def prepare(self, result: ChunkResult) -> None:
        """Work done ahead of the chunk's transaction (in the write pipeline, by the main
        thread while the writer thread commits the chunk before)."""

    def write(self, result: ChunkResult, lease: jobs.Lease) -> None:
        now = self._now(result)
        self.dropped = {}
        with transaction.atomic():
            self._begin()
            taken = self._create(result.new_targets, now)
            if taken:
                self.taken.update(t.id for t in taken if t.id is not None)
                self._fail_taken(result, taken)
            gone = self._update([t for t in result.targets if not t.new], now)
            if gone:
                self._fail_gone(result, gone)
            self._tag(result.targets, now)
            created, updated = self._journal(result.targets)
            self._failures(result.failures)
            self._audit(result.targets)
            unified, later = self._unify(result.targets) if self.job.kind == "member" else (0, 0)
            jobs.fence(
                lease,
                position=result.last_row,
                rows_done=F("rows_done") + result.rows,
                created=F("created") + created,
                updated=F("updated") + updated,
                failed=F("failed") + len(result.failures),
                unified=F("unified") + unified,
                unify_later=F("unify_later") + later,
            )

    def _now(self, result: ChunkResult) -> datetime:
        """The chunk's time stamp (created_at, updated_at, import tags)."""
        return timezone.now()

    def _begin(self) -> None:
        """Called first inside each chunk's transaction."""

    def _create(self, targets: Sequence[Target], now: datetime) -> list[Target]:
        """Insert the new customers. Returns those it could not insert because another writer
        (the Open API, a boot, a builder) created a customer with the same memberId after the
        chunk's look-up: the others are inserted, never the whole chunk refused."""
        raise NotImplementedError

    def _fail_taken(self, result: ChunkResult, taken: Sequence[Target]) -> None:
        """The rows of new customers whose memberId another writer took meanwhile fail with
        the reason; the member stays as that writer left it, and importing the row again
        updates it (the unique memberId decides who created it, R6.2)."""
        reason = _taken_reason()
        lost = {id(t) for t in taken}
        identities = {i for i, t in result.by_identity.items() if id(t) in lost}
        for identity in identities:
            del result.by_identity[identity]
        result.targets = [t for t in result.targets if id(t) not in lost]
        for row in result.source:
            if not row.errors and row.identity in identities:
                row.errors.append(("memberId", reason))
                result.failures.append(row)
        result.failures.sort(key=lambda row: row.number)

    def _update(self, targets: Sequence[Target], now: datetime) -> set[int]:
        """Write the changes (``Target.changes``) of the changed ones among these existing
        customers on their rows as the database has them now (R2.25), and hold every one of
        them until the commit (no deletion or unification can take them away mid-chunk).
        Returns the ids of those that are gone since the look-up."""
        raise NotImplementedError

    def _fail_gone(self, result: ChunkResult, gone: set[int]) -> None:
        """The rows of customers deleted, or unified into another, since the look-up fail with
        the reason: the rest of the chunk is written (a whole chunk never fails for them)."""
        reason = gettext(
            "the customer was deleted, or unified into another customer, while this import"
            " ran: import this row again"
        )
        kept = []
        for target in result.targets:
            if target.id not in gone:
                kept.append(target)
                continue
            column, why = (
                ("memberId", _taken_reason())
                if target.id in self.taken
                else (self.job.identity, reason)
            )
            for row in target.rows or ():
                row.errors.append((column, why))
                result.failures.append(row)
        result.targets = kept
        result.failures.sort(key=lambda row: row.number)

    def _tag(self, targets: Sequence[Target], now: datetime) -> None:
        """R2.12: the import tag on every created or updated customer; the newest 30 kept."""
        raise NotImplementedError

    def _journal(self, targets: Sequence[Target]) -> tuple[int, int]:
        """One journal row per customer per import: counts each customer once (R2.14).
        Returns (created, updated) customers this chunk met for the first time."""
        raise NotImplementedError

    def _failures(self, failures: Sequence[MappedRow]) -> None:
        raise NotImplementedError

    def _audit(self, targets: Sequence[Target]) -> None:
        """Detailed audit (R2.20): an entry per customer the import created or changed."""
        if not self.channel.detailed_audit:
            return
        ActivityLog.objects.bulk_create(
            ActivityLog(
                channel=self.channel,
                actor_id=self.job.requested_by_id,
                action=ActivityLog.Action.CUSTOMER_EDIT,
                via=ActivityLog.Via.IMPORT,
                customer_id=t.id,
                detail={"import": self.job.pk, "created": t.new, "keys": sorted(t.previous)},
            )
            for t in targets
            if t.new or t.changed
        )

    def _unify(self, targets: Sequence[Target]) -> tuple[int, int]:
        """Member import (R2.7): verified leads sharing a member's contact are unified.
        Returns (unified now, deferred until the lead logs in)."""
        with_contact = [
            t.id for t in targets if t.values.get("email") or t.values.get("mobileNumber")
        ]
        if not with_contact:
            return 0, 0
        members = Customer.objects.filter(id__in=with_contact)
        return unify_member_with_leads(
            channel=self.channel,
            members=members,
            via=ActivityLog.Via.IMPORT,
            by=self.job.requested_by,
        )

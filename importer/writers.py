"""The APPLY stage's database writes: one chunk, one transaction, fenced by the job's lease.

``OrmWriter`` works on every database (the embedded SQLite default); ``importer.pg`` writes the
same rows with PostgreSQL COPY where speed matters. Both leave the same data behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from crm.models import ActivityLog, Channel, Customer, CustomerImportTag, ImportTag
from crm.services.unification import unify_member_with_leads
from importer import locking
from importer.mapping import MappedRow
from importer.merge import ChunkResult, Target
from importer.models import ImportFailure, ImportJob, ImportJournal

CUSTOMER_FIELDS = (
    "name",
    "email",
    "mobile_number",
    "landline_number",
    "member_id",
    "unsubscribe_email",
    "unsubscribe_texting",
)


@dataclass(frozen=True)
class Written:
    created: int
    updated: int
    failed: int


def cell_text(value: object) -> str:
    """A cell as the failure log shows it: the original text, dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def failure_row(job: ImportJob, row: MappedRow) -> ImportFailure:
    return ImportFailure(
        channel_id=job.channel_id,
        job=job,
        row_number=row.number,
        columns=[key for key, _ in row.errors],
        reasons=[reason for _, reason in row.errors],
        values=[cell_text(c) for c in row.cells],
    )


class OrmWriter:
    """Bulk ORM writes: correct everywhere, fast enough for SQLite's small imports."""

    def __init__(self, job: ImportJob, channel: Channel, import_tag: ImportTag | None) -> None:
        self.job = job
        self.channel = channel
        self.import_tag = import_tag

    def write(self, result: ChunkResult, lease: locking.Lease) -> Written:
        now = self._now(result)
        with transaction.atomic():
            self._begin()
            self._create(result.new_targets, now)
            changed = [t for t in result.targets if not t.new and t.changed]
            self._update(changed, now)
            touched = [t for t in result.targets]
            self._tag(touched, now)
            created, updated = self._journal(touched)
            self._failures(result.failures)
            self._audit(result.targets)
            if self.job.kind == "member":
                self._unify(touched)
            locking.fence(
                lease,
                position=result.last_row,
                rows_done=F("rows_done") + result.rows,
                created=F("created") + created,
                updated=F("updated") + updated,
                failed=F("failed") + len(result.failures),
            )
        return Written(created=created, updated=updated, failed=len(result.failures))

    def _now(self, result: ChunkResult) -> datetime:
        """The chunk's time stamp (created_at, updated_at, import tags)."""
        return timezone.now()

    def _begin(self) -> None:
        """Called first inside each chunk's transaction."""

    def _failures(self, failures: Sequence[MappedRow]) -> None:
        ImportFailure.objects.bulk_create(failure_row(self.job, r) for r in failures)

    def _create(self, targets: Sequence[Target], now: datetime) -> None:
        if not targets:
            return
        customers = [
            Customer(
                channel=self.channel,
                verified=True,
                profile=t.custom_profile(),
                created_at=now,
                updated_at=now,
                **t.field_values(),
            )
            for t in targets
        ]
        Customer.objects.bulk_create(customers)
        for target, customer in zip(targets, customers, strict=True):
            target.id = customer.pk

    def _update(self, targets: Sequence[Target], now: datetime) -> None:
        if not targets:
            return
        customers = []
        for t in targets:
            customer = Customer(id=t.id, profile=t.custom_profile(), updated_at=now, verified=True)
            for name, value in t.field_values().items():
                setattr(customer, name, value)
            customers.append(customer)
        Customer.objects.bulk_update(
            customers, [*CUSTOMER_FIELDS, "profile", "updated_at", "verified"], batch_size=500
        )

    def _tag(self, targets: Sequence[Target], now: datetime) -> None:
        """R2.12: the import tag on every created or updated customer; the newest 30 kept."""
        if self.import_tag is None or not targets:
            return
        CustomerImportTag.objects.bulk_create(
            [
                CustomerImportTag(
                    channel=self.channel,
                    customer_id=_id(t),
                    import_tag=self.import_tag,
                    added_at=now,
                )
                for t in targets
            ],
            ignore_conflicts=True,  # a customer that has the tag keeps it where it is
        )
        old_ids = [t.id for t in targets if not t.new]
        if not old_ids:
            return
        crowded = (
            CustomerImportTag.objects.filter(customer_id__in=old_ids)
            .values("customer_id")
            .annotate(n=Count("id"))
            .filter(n__gt=CustomerImportTag.MAX_PER_CUSTOMER)
            .values_list("customer_id", flat=True)
        )
        for customer_id in list(crowded):
            ids = (
                CustomerImportTag.objects.filter(customer_id=customer_id)
                .order_by("-added_at", "-id")
                .values_list("id", flat=True)[CustomerImportTag.MAX_PER_CUSTOMER :]
            )
            CustomerImportTag.objects.filter(id__in=list(ids)).delete()

    def _journal(self, targets: Sequence[Target]) -> tuple[int, int]:
        """One journal row per customer per import: counts each customer once (R2.14)."""
        ids = [t.id for t in targets]
        known = {
            j.customer_id: j
            for j in ImportJournal.objects.filter(job=self.job, customer_id__in=ids)
        }
        fresh = []
        grown = []
        for t in targets:
            entry = known.get(t.id)  # type: ignore[arg-type]
            if entry is None:
                fresh.append(
                    ImportJournal(
                        channel_id=self.job.channel_id,
                        job=self.job,
                        customer_id=_id(t),
                        created=t.new,
                        previous=None if t.new else _jsonable(t.previous),
                    )
                )
            elif not entry.created and t.previous:
                before = entry.previous or {}
                extra = {k: v for k, v in _jsonable(t.previous).items() if k not in before}
                if extra:
                    entry.previous = {**before, **extra}
                    grown.append(entry)
        ImportJournal.objects.bulk_create(fresh)
        if grown:
            ImportJournal.objects.bulk_update(grown, ["previous"])
        created = sum(1 for j in fresh if j.created)
        return created, len(fresh) - created

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

    def _unify(self, targets: Sequence[Target]) -> None:
        """Member import (R2.7): verified leads sharing a member's contact are unified."""
        with_contact = [
            t.id for t in targets if t.values.get("email") or t.values.get("mobileNumber")
        ]
        if not with_contact:
            return
        members = Customer.objects.filter(id__in=with_contact)
        unify_member_with_leads(
            channel=self.channel,
            members=members,
            via=ActivityLog.Via.IMPORT,
            by=self.job.requested_by,
        )


def _id(target: Target) -> int:
    assert target.id is not None, "a target is written only after it has an id"
    return target.id


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime | date) else v) for k, v in values.items()}

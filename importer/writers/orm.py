"""The ORM writer: a chunk's writes through Django's bulk ORM calls, on every database (the
embedded SQLite default). ``importer.writers.pg_copy`` leaves the same rows behind on PostgreSQL,
faster; the same tests run on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count

from crm.models import Customer, CustomerImportTag
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.services.consent import CONSENT_FIELDS, consent_record_many, consent_values
from importer.mapping import MappedRow
from importer.models import ImportJournal
from importer.resolve import Target
from importer.writers.base import (
    CUSTOMER_FIELDS,
    ChunkWriter,
    failures_add,
    jsonable,
    target_id,
    written_values,
)


class OrmWriter(ChunkWriter):
    """Bulk ORM writes: correct everywhere, fast enough for SQLite's small imports."""

    def _failures(self, failures: Sequence[MappedRow]) -> None:
        failures_add(self.job, failures)

    def _create(self, targets: Sequence[Target], now: datetime) -> list[Target]:
        if not targets:
            return []
        pairs = [
            (
                t,
                Customer(
                    channel=self.channel,
                    verified=True,
                    profile=t.custom_profile(),
                    created_at=now,
                    updated_at=now,
                    **t.field_values(),
                ),
            )
            for t in targets
        ]
        taken: list[Target] = []
        for attempt in range(3):
            try:
                with transaction.atomic():  # a savepoint: the chunk goes on without the taken
                    Customer.objects.bulk_create([c for _, c in pairs])
                break
            except IntegrityError:
                # Another writer created some of these members since the look-up (R6.2's
                # unique memberId): leave those to it, insert the rest.
                there = set(
                    Customer.objects.filter(
                        channel=self.channel,
                        member_id__in=[c.member_id for _, c in pairs if c.member_id],
                    ).values_list("member_id", flat=True)
                )
                if not there or attempt == 2:
                    raise
                taken += [t for t, c in pairs if c.member_id in there]
                pairs = [(t, c) for t, c in pairs if c.member_id not in there]
        for target, customer in pairs:
            target.id = customer.pk
        customers = [c for _, c in pairs]
        consent_record_many(
            channel_id=self.channel.pk,
            changes=(
                (c.pk, key, None, getattr(c, field))
                for c in customers
                for key, field in CONSENT_FIELDS.items()
            ),
            source=self.consent_source,
            at=now,
        )
        return taken

    def _update(self, targets: Sequence[Target], now: datetime) -> set[int]:
        if not targets:
            return set()
        current = Customer.objects.select_for_update(no_key=True).in_bulk(
            [target_id(t) for t in targets]
        )
        customers = []
        # The flags as the locked rows have them, not as the import read them (R2.25).
        before: dict[int, dict[str, bool | None]] = {}
        for t in targets:
            customer = current.get(target_id(t))
            if customer is None or not t.changed:
                continue
            before[customer.pk] = consent_values(customer)
            for key, value in t.changes().items():
                column = BUILTIN_FIELDS.get(key)
                if column is None:
                    if value is None:
                        customer.profile.pop(key, None)
                    else:
                        customer.profile[key] = value
                else:
                    setattr(customer, column, "" if value is None and column == "name" else value)
            customer.verified = True
            customer.updated_at = now
            customers.append(customer)
        Customer.objects.bulk_update(
            customers, [*CUSTOMER_FIELDS, "profile", "updated_at", "verified"], batch_size=500
        )
        consent_record_many(
            channel_id=self.channel.pk,
            changes=(
                (pk, key, flags[key], getattr(current[pk], field))
                for pk, flags in before.items()
                for key, field in CONSENT_FIELDS.items()
            ),
            source=self.consent_source,
            at=now,
        )
        return {target_id(t) for t in targets} - current.keys()

    def _tag(self, targets: Sequence[Target], now: datetime) -> None:
        if self.import_tag is None or not targets:
            return
        CustomerImportTag.objects.bulk_create(
            [
                CustomerImportTag(
                    channel=self.channel,
                    customer_id=target_id(t),
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
            dropped = CustomerImportTag.objects.filter(id__in=list(ids))
            self.dropped[customer_id] = [
                [tag_id, added_at.isoformat()]
                for tag_id, added_at in dropped.values_list("import_tag_id", "added_at")
            ]
            dropped.delete()

    def _journal(self, targets: Sequence[Target]) -> tuple[int, int]:
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
                        customer_id=target_id(t),
                        created=t.new,
                        previous=None if t.new else jsonable(t.previous),
                        written=None if t.new else written_values(t),
                        dropped_tags=self.dropped.get(target_id(t)),
                    )
                )
            elif not entry.created and (t.previous or t.id in self.dropped):
                before = entry.previous or {}
                extra = {k: v for k, v in jsonable(t.previous).items() if k not in before}
                entry.previous = {**before, **extra}
                # The last value written wins: a customer met again in a later row.
                entry.written = {**(entry.written or {}), **written_values(t)}
                if t.id in self.dropped:
                    entry.dropped_tags = [*(entry.dropped_tags or []), *self.dropped[t.id]]
                grown.append(entry)
        ImportJournal.objects.bulk_create(fresh)
        if grown:
            ImportJournal.objects.bulk_update(grown, ["previous", "written", "dropped_tags"])
        created = sum(1 for j in fresh if j.created)
        return created, len(fresh) - created

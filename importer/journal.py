"""The import journal kept in step with crm's customer deletions and unifications (crm.hooks):
a customer's earlier values, kept per import, go with the customer or follow it."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.dispatch import receiver

from crm.db import among
from crm.hooks import customers_purged, lead_unified
from crm.models import Customer
from importer.models import ImportJob, ImportJournal


@receiver(customers_purged, dispatch_uid="importer.journal.customers_purged")
def journal_purge(sender: object, *, channel_id: int, ids: list[int], **kwargs: Any) -> None:
    """The journal keeps a customer's earlier profile values: customer data, deleted with it."""
    if connection.vendor == "postgresql":
        # The rows reached through the channel's imports (the journal's only index is by
        # (import, customer)), each import's read over the ids' span (crm.db.among).
        where, params = among("j.customer_id", sorted(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f'DELETE FROM "{ImportJournal._meta.db_table}" j USING "{ImportJob._meta.db_table}" k'
                f" WHERE k.channel_id = %s AND j.job_id = k.id AND {where}",
                [channel_id, *params],
            )
        return
    jobs = ImportJob.objects.filter(channel_id=channel_id)
    ImportJournal.objects.filter(job__in=jobs, customer_id__in=ids).delete()


@receiver(lead_unified, dispatch_uid="importer.journal.lead_unified")
def journal_follow(sender: object, *, member: Customer, lead: Customer, **kwargs: Any) -> None:
    """The journal of the lead's earlier values (consent history) follows it to the member; an
    import that touched both keeps the member's entry (one per customer per import)."""
    both = ImportJournal.objects.filter(channel_id=member.channel_id, customer_id=member.pk).values(
        "job_id"
    )
    ImportJournal.objects.filter(channel_id=lead.channel_id, customer_id=lead.pk).exclude(
        job_id__in=both
    ).update(customer_id=member.pk)

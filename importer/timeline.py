"""The imports in a customer's timeline (R11.4): which import created or updated the customer,
who started it and which keys it changed, read from the import journal."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from crm.activity_text import doer
from crm.models import Customer
from crm.timeline import LIMIT, Event, timeline_source
from importer.models import ImportJob, ImportJournal


@timeline_source
def import_events(customer: Customer) -> list[Event]:
    jobs = {
        job.pk: job
        for job in ImportJob.objects.filter(channel_id=customer.channel_id)
        .exclude(started_at=None)
        .select_related("requested_by", "channel")
        .order_by("-pk")[:LIMIT]
    }
    if not jobs:
        return []
    # (job_id, customer_id) is the journal's index: one probe per import of the channel.
    entries = ImportJournal.objects.filter(job_id__in=list(jobs), customer_id=customer.pk)
    events = []
    for entry in entries:
        job = jobs[entry.job_id]
        via = "builder" if job.origin.startswith("builder") else job.origin
        who = doer(job.requested_by, via if via in ("builder", "command") else "import")
        values = {"who": who, "file": job.filename, "tag": job.tag or "—"}
        if entry.created:
            text = _("%(who)s created the customer by importing %(file)s (tag %(tag)s)") % values
            kind = "create"
        else:
            keys = sorted(entry.previous or {})
            values["keys"] = ", ".join(keys) if keys else _("nothing")
            text = _("%(who)s updated %(keys)s by importing %(file)s (tag %(tag)s)") % values
            kind = "import"
        events.append(
            Event(
                at=job.finished_at or job.started_at or job.created_at,
                text=text,
                kind=kind,
                link=reverse("importer:job", args=[job.channel.slug, job.pk]),
            )
        )
    return events

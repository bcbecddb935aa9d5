"""Template tags of the back-office frame: the inbox's unread count (R2.18) and the way to the
imports, shown in every page's header."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.admin.scoping import holds
from crm.models import DeletionJob
from crm.selectors import channels_for_user, deletion_jobs
from importer.inbox import unread_count
from importer.models import ACTIVE_STATUSES, ImportJob
from importer.wizard import progress_of

register = template.Library()


@register.simple_tag(takes_context=True)
def header_links(context: Any) -> dict[str, Any]:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"unread": 0, "can_import": False}
    request = context.get("request")
    if request is not None and request.user == user:  # the grants the page has read already
        can_import = holds(request, "import_customers")
    else:
        can_import = channels_for_user(user, "import_customers").exists()
    return {"unread": unread_count(user), "can_import": can_import}


@register.simple_tag
def running_jobs(channel: Any) -> list[dict[str, Any]]:
    """The channel's bulk jobs still going (R11.4), for the contacts page: imports and
    deletions, each with its progress and its page."""
    if channel is None:
        return []
    jobs: list[dict[str, Any]] = []
    for job in ImportJob.objects.filter(channel=channel, status__in=ACTIVE_STATUSES).order_by("pk"):
        progress = progress_of(job)
        jobs.append(
            {
                "text": _("Importing %(file)s") % {"file": job.filename},
                "percent": progress.percent,
                "done": job.rows_done,
                "total": job.rows_total,
                "url": reverse("importer:job", args=[channel.slug, job.pk]),
            }
        )
    active = (DeletionJob.Status.QUEUED, DeletionJob.Status.RUNNING)
    for deletion in deletion_jobs(channel).filter(status__in=active).order_by("pk"):
        jobs.append(
            {
                "text": _("Deleting customers (%(what)s)") % {"what": deletion.description},
                "percent": deletion.percent,
                "done": deletion.deleted,
                "total": deletion.total,
                "url": reverse("admin:crm_deletion", args=[deletion.pk]),
            }
        )
    return jobs

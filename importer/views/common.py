"""What every wizard page needs: the channel the manager may import into, the job, the page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext, pgettext_lazy

from crm.models import Channel
from crm.selectors import channels_for_user
from importer.models import ImportJob

PERM = "import_customers"

STEPS = (
    ("start", pgettext_lazy("import step", "Start")),
    ("upload", pgettext_lazy("import step", "Upload")),
    ("mapping", pgettext_lazy("import step", "Map columns")),
    ("check", pgettext_lazy("import step", "Check")),
    ("settings", pgettext_lazy("import step", "Settings")),
    ("confirm", pgettext_lazy("import step", "Confirm")),
    ("import", pgettext_lazy("import step", "Import")),
)


def import_channel(request: HttpRequest, slug: str) -> Channel:
    """The channel, when the manager holds the import permission on it (R8.1, R8.2).

    A channel the manager only views answers 403 with a reason; any other channel 404, so
    nothing tells whether another business's channel exists.
    """
    channel = channels_for_user(request.user, PERM).filter(slug=slug).first()
    if channel is not None:
        return channel
    if channels_for_user(request.user, "view_customers").filter(slug=slug).exists():
        raise PermissionDenied(gettext("You may not import customers into this channel."))
    raise Http404(gettext("No such channel."))


def channel_job(request: HttpRequest, slug: str, job_id: int) -> ImportJob:
    """One import of a channel the manager may import into; another channel's is a 404."""
    channel = import_channel(request, slug)
    job = get_object_or_404(
        ImportJob.objects.select_related("requested_by"), pk=job_id, channel=channel
    )
    job.channel = channel
    return job


def page(
    request: HttpRequest,
    template: str,
    *,
    channel: Channel,
    title: str,
    step: str | None = None,
    status: int = 200,
    **context: Any,
) -> TemplateResponse:
    """A wizard page in the admin's frame (header, user tools, messages, breadcrumbs)."""
    done = [name for name, _ in STEPS[: [n for n, _ in STEPS].index(step)]] if step else []
    return TemplateResponse(
        request,
        template,
        {
            **admin.site.each_context(request),
            "title": title,
            "channel": channel,
            "step": step,
            "steps": STEPS,
            "steps_done": done,
            **context,
        },
        status=status,
    )

"""The back-office page of a channel's builders: their webhook URLs and customer pulls (R5.1).
Only managers holding the import permission on the channel reach it (R8.1, R8.2)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from builders.installations import webhook_path
from builders.models import BuilderInstallation, BuilderPull
from builders.pulls import (
    builder_pull_cancel,
    builder_pull_dispatch,
    builder_pull_request,
    pull_sync,
)
from builders.registry import builder_for
from importer.jobs import ImportLocked
from importer.views.common import import_channel


def index(request: HttpRequest, slug: str) -> HttpResponse:
    channel = import_channel(request, slug)
    installations = [
        (i, builder_for(i.platform), request.build_absolute_uri(webhook_path(i)))
        for i in BuilderInstallation.objects.filter(channel=channel)
    ]
    pulls = [
        pull_sync(p)
        for p in BuilderPull.objects.filter(channel=channel).select_related(
            "installation", "import_job", "requested_by"
        )[:20]
    ]
    return TemplateResponse(
        request,
        "builders/index.html",
        {
            **admin.site.each_context(request),
            "title": gettext("Site builders of %(channel)s") % {"channel": channel.name},
            "channel": channel,
            "installations": installations,
            "pulls": pulls,
            "refresh": any(p.active for p in pulls),
        },
    )


@require_POST
def pull_start(request: HttpRequest, slug: str, platform: str) -> HttpResponse:
    channel = import_channel(request, slug)
    try:
        pull = builder_pull_request(channel=channel, platform=platform, by=request.user)
    except (ValidationError, ImportLocked, LookupError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("builders:index", slug=channel.slug)
    builder_pull_dispatch(pull)
    messages.success(
        request,
        gettext("Pulling %(builder)s customers (#%(id)s).")
        % {"builder": builder_for(platform).label, "id": pull.pk},
    )
    return redirect("builders:pull", slug=channel.slug, pull_id=pull.pk)


def pull_detail(request: HttpRequest, slug: str, pull_id: int) -> HttpResponse:
    channel = import_channel(request, slug)
    pull = pull_sync(
        get_object_or_404(
            BuilderPull.objects.select_related("installation", "import_job"),
            pk=pull_id,
            channel=channel,
        )
    )
    return TemplateResponse(
        request,
        "builders/pull.html",
        {
            **admin.site.each_context(request),
            "title": gettext("%(builder)s pull #%(id)s")
            % {"builder": builder_for(pull.installation.platform).label, "id": pull.pk},
            "channel": channel,
            "pull": pull,
            "job": pull.import_job,
            "refresh": pull.active,
        },
    )


@require_POST
def pull_cancel(request: HttpRequest, slug: str, pull_id: int) -> HttpResponse:
    """Cancel from the pull's page (R2.24)."""
    channel = import_channel(request, slug)
    pull = get_object_or_404(
        BuilderPull.objects.select_related("channel", "import_job"), pk=pull_id, channel=channel
    )
    outcome = builder_pull_cancel(pull=pull, by=request.user)
    notes = {
        "cancelled": gettext("Pull #%(id)s is cancelled."),
        "requested": gettext(
            "Pull #%(id)s stops at its next page or chunk; customers it imported so far stay."
        ),
        "over": gettext("Pull #%(id)s had already ended."),
    }
    messages.info(request, notes[outcome] % {"id": pull.pk})
    return redirect("builders:pull", slug=channel.slug, pull_id=pull.pk)

"""Undoing an import from the import log (R2.16): the confirm page with the dry run, then the
undo as a job whose page shows its progress and report."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext

from importer.jobs import ImportLocked, active_import
from importer.undo import UndoRefused, undo_preview, undo_start
from importer.views.common import channel_job, page


def undo_confirm(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """GET: what undoing the import would do, counted. POST: undo it (a job under the lock)."""
    job = channel_job(request, slug, job_id)
    if job.is_undo or job.status == "draft":
        raise Http404(gettext("Only a started import can be undone."))
    error = ""
    if request.method == "POST":
        try:
            undo = undo_start(job=job, by=request.user)
        except (UndoRefused, ImportLocked) as exc:
            error = str(exc)
        else:
            return redirect("importer:job", slug, undo.pk)
    preview = undo_preview(job)
    return page(
        request,
        "importer/undo_confirm.html",
        channel=job.channel,
        title=gettext("Undo import #%(id)s") % {"id": job.pk},
        job=job,
        preview=preview,
        active=active_import(job.channel_id),
        error=error,
        status=409 if error else 200,
    )

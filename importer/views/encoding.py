"""The wizard's choice of a text file's encoding (R2.3a): when detection is unsure, or the
manager says the file was read wrong, each likely encoding is shown with the file read in it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext

from importer.models import ImportStatus
from importer.reading import FileRefused
from importer.services import import_encoding_set
from importer.views.common import channel_job, page
from importer.wizard import encoding_options, file_description


def choose(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    job = channel_job(request, slug, job_id)
    if job.status != ImportStatus.DRAFT:
        return redirect("importer:job", slug, job.pk)
    if job.file_format != "csv":
        return redirect("importer:mapping", slug, job.pk)
    error = ""
    chosen = ""
    if request.method == "POST":
        chosen = (request.POST.get("other") or request.POST.get("encoding") or "").strip()
        if not chosen:
            error = gettext("Choose the encoding the file was saved in.")
        else:
            try:
                job = import_encoding_set(job=job, encoding=chosen)
            except FileRefused as exc:
                error = exc.reason
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(
                    request,
                    gettext("Read “%(file)s”: %(description)s.")
                    % {"file": job.filename, "description": file_description(job)},
                )
                return redirect("importer:mapping", slug, job.pk)
    return page(
        request,
        "importer/encoding.html",
        channel=job.channel,
        title=gettext("Choose the file's encoding"),
        step="upload",
        job=job,
        file=file_description(job),
        options=encoding_options(job),
        error=error,
        chosen=chosen,
    )

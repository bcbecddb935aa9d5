"""Steps 4 to 7 and after: check (R2.9), settings (R2.11, R2.12), confirm (R2.16, R2.17),
progress (R2.22), result (R2.14, R2.15, R2.21), the import log (R2.19) and template files (R2.2).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from importer.check import check_is_current, check_of, check_start
from importer.failed_rows.grid import grid_refusal
from importer.forms import SettingsForm
from importer.jobs import ImportLocked, active_import
from importer.models import ImportJob, ImportStatus
from importer.services import import_cancel, import_configure, import_start
from importer.templates_download import TEMPLATES, template_csv, template_xlsx
from importer.undo import mark_undo_states
from importer.views.common import channel_job, import_channel, page
from importer.wizard import (
    draft_step,
    drafts_of,
    failure_log_path,
    file_description,
    import_log,
    progress_of,
)

LOG_PAGE = 50
FORMATS = ("csv", "xlsx")


def _draft_or_redirect(job: ImportJob, step: str) -> HttpResponse | None:
    """A page of the draft steps, reached only in order (a mapping change needs a new check)."""
    if job.status != ImportStatus.DRAFT:
        return redirect("importer:job", job.channel.slug, job.pk)
    order = ["mapping", "check", "settings"]
    reached = draft_step(job)
    if order.index(reached) < order.index(step):
        return redirect(f"importer:{reached}", job.channel.slug, job.pk)
    return None


def check(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    job = channel_job(request, slug, job_id)
    if (early := _draft_or_redirect(job, "check")) is not None:
        return early
    if request.method == "POST":
        choice = request.POST.get("default_country")
        try:
            if choice in ("on", "off"):  # R2.13a: national numbers read, or not, in this import
                import_configure(
                    job=job,
                    mapping=job.mapping,
                    empty_policy=job.empty_policy,
                    default_country=choice == "on",
                )
            check_start(job=job)
        except (ValidationError, ImportLocked) as exc:  # a column-wide fix is being applied
            messages.error(
                request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            )
        return redirect("importer:check", slug, job.pk)
    current = check_of(job)
    return page(
        request,
        "importer/check.html",
        channel=job.channel,
        title=gettext("Check the file"),
        step="check",
        job=job,
        check=current,
        current=check_is_current(current, job),
        file=file_description(job),
    )


def check_status(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """The check's live part, polled by the check page."""
    job = channel_job(request, slug, job_id)
    context = {"job": job, "check": check_of(job), "channel": job.channel}
    return TemplateResponse(request, "importer/_check_status.html", context)


def settings_step(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    job = channel_job(request, slug, job_id)
    if (early := _draft_or_redirect(job, "settings")) is not None:
        return early
    initial = {"empty_policy": job.empty_policy, "tag": job.tag}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            import_configure(
                job=job,
                mapping=job.mapping,
                empty_policy=form.cleaned_data["empty_policy"],
                tag=form.cleaned_data["tag"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("importer:confirm", slug, job.pk)
    return page(
        request,
        "importer/settings.html",
        channel=job.channel,
        title=gettext("Import settings"),
        step="settings",
        job=job,
        form=form,
    )


def confirm(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    job = channel_job(request, slug, job_id)
    if (early := _draft_or_redirect(job, "settings")) is not None:
        return early
    error = ""
    if request.method == "POST":
        try:
            import_start(job=job)
        except ImportLocked as exc:
            error = str(exc)
        else:
            return redirect("importer:job", slug, job.pk)
    return page(
        request,
        "importer/confirm.html",
        channel=job.channel,
        title=gettext("Confirm the import"),
        step="confirm",
        job=job,
        check=check_of(job),
        file=file_description(job),
        active=active_import(job.channel_id),
        error=error,
        undo_days=settings.FAILURE_LOG_RETENTION_DAYS,
        status=409 if error else 200,
    )


def job(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """An import's own page: where a draft goes on, its live progress, or its result."""
    job = channel_job(request, slug, job_id)
    if job.status == ImportStatus.DRAFT:
        return redirect(f"importer:{draft_step(job)}", slug, job.pk)
    title = "Importing…" if job.active else "Import result"
    return page(
        request,
        "importer/job.html",
        channel=job.channel,
        title=title,
        step="import",
        job=job,
        progress=progress_of(job),
        file=file_description(job),
        contacts_url=contacts_url(job),
        fixable=bool(job.failed) and grid_refusal(job) is None,
    )


def progress(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """The progress bar's live part (R2.22), polled by the job page."""
    job = channel_job(request, slug, job_id)
    context = {"job": job, "progress": progress_of(job), "channel": job.channel}
    return TemplateResponse(request, "importer/_progress.html", context)


@require_POST
def cancel(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """Cancel from the import's page or the import log (R2.24)."""
    job = channel_job(request, slug, job_id)
    outcome = import_cancel(job=job, by=request.user)
    notes = {
        "cancelled": gettext("Import #%(id)s is cancelled; the channel is free."),
        "requested": gettext(
            "Import #%(id)s stops at its next chunk; what it imported so far stays."
        ),
        "over": gettext("Import #%(id)s had already ended."),
    }
    messages.info(request, notes[outcome] % {"id": job.pk})
    return redirect("importer:job", slug, job.pk)


def contacts_url(job: ImportJob) -> str:
    """Contacts narrowed to this import's tag, where its customers can be bulk-deleted (R2.21)."""
    query = urlencode({"channel": job.channel.slug, "importTag": job.tag})
    return f"{reverse('admin:crm_customer_changelist')}?{query}"


def failures(request: HttpRequest, slug: str, job_id: int, fmt: str) -> FileResponse:
    job = channel_job(request, slug, job_id)
    if fmt not in FORMATS:
        raise Http404(gettext("Failure logs are CSV or XLSX."))
    path = failure_log_path(job, fmt)
    if path is None:
        raise Http404(gettext("This import has no failure log, or it has expired (kept 30 days)."))
    stem = job.filename.rsplit(".", 1)[0]
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{stem}-failures.{fmt}")


def log(request: HttpRequest, slug: str) -> HttpResponse:
    """The import log (R2.19): every import of the channel, with its counts and failure log."""
    channel = import_channel(request, slug)
    jobs = Paginator(import_log(channel), LOG_PAGE).get_page(request.GET.get("page"))
    mark_undo_states(jobs.object_list)
    return page(
        request,
        "importer/log.html",
        channel=channel,
        title=gettext("Import log"),
        jobs=jobs,
        drafts=drafts_of(channel, int(request.user.pk or 0)),
        active=active_import(channel.pk),
    )


def template_file(request: HttpRequest, slug: str, name: str, fmt: str) -> HttpResponse:
    """R2.2: the header row to fill in, CSV (UTF-8 with BOM) or XLSX."""
    channel = import_channel(request, slug)
    template = TEMPLATES.get(name)
    if template is None or fmt not in FORMATS:
        raise Http404(gettext("No such template."))
    if fmt == "csv":
        body, content_type = template_csv(template), "text/csv; charset=utf-8"
    else:
        body = template_xlsx(template, channel)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{template.filename(fmt)}"'
    return response

"""Steps 1 to 3 of the wizard: start (R2.1, R2.2), upload (R2.3, R2.17) and mapping (R2.8)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from crm.forms import add_service_errors
from crm.models import Channel, ProfileKey
from crm.selectors import channels_for_user, profile_keys_by_name
from crm.services.profile_keys import profile_key_create
from importer.check import check_start
from importer.forms import KeyCreateForm, MappingForm, StartForm, UploadForm, key_label
from importer.jobs import ImportLocked, active_import
from importer.mapping import MappingError
from importer.mapping_templates import mapping_template_save, templates_for
from importer.models import ImportJob, ImportStatus
from importer.reading import FileRefused
from importer.services import import_configure, import_create
from importer.templates_download import TEMPLATES
from importer.views.common import PERM, channel_job, import_channel, page
from importer.wizard import (
    FilePreview,
    draft_discard,
    file_description,
    file_preview,
    lookalikes_skipped,
    suggested_mapping,
)

SESSION_CHANNEL = "crm.contacts_channel"  # the contacts list's remembered channel


def index(request: HttpRequest) -> HttpResponse:
    """/imports/: the channel the manager last worked in, else the first they may import into."""
    channels = list(channels_for_user(request.user, PERM).order_by("name"))
    if not channels:
        raise PermissionDenied(gettext("You may not import customers into any channel."))
    wanted = request.session.get(SESSION_CHANNEL)
    channel = next((c for c in channels if c.slug == wanted), channels[0])
    return redirect("importer:start", channel.slug)


def _start_page(request: HttpRequest, channel: Channel, form: StartForm) -> HttpResponse:
    return page(
        request,
        "importer/start.html",
        channel=channel,
        title=gettext("Import customers"),
        step="start",
        form=form,
        templates=TEMPLATES.values(),
        active=active_import(channel.pk),
        channels=channels_for_user(request.user, PERM).order_by("name"),
    )


def start(request: HttpRequest, slug: str) -> HttpResponse:
    channel = import_channel(request, slug)
    return _start_page(request, channel, StartForm(initial=request.GET.dict() or None))


def upload(request: HttpRequest, slug: str) -> HttpResponse:
    channel = import_channel(request, slug)
    choice = StartForm(request.GET)
    if not choice.is_valid():
        return _start_page(request, channel, choice)
    form = UploadForm(request.POST or None, request.FILES or None)
    active = active_import(channel.pk)
    if request.method == "POST" and active is None and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_create(
                channel=channel,
                by=request.user,
                source=upload,
                filename=upload.name,
                kind=choice.cleaned_data["kind"],
                identity=choice.cleaned_data["identity"],
                choose_encoding_later=True,
            )
        except FileRefused as exc:
            form.add_error("file", exc.reason)
        else:
            if job.encoding_pending:  # R2.3a: the manager chooses, seeing the file in each
                return redirect("importer:encoding", slug, job.pk)
            messages.success(
                request,
                gettext("Read “%(file)s”: %(description)s.")
                % {"file": job.filename, "description": file_description(job)},
            )
            return redirect("importer:mapping", slug, job.pk)
    return page(
        request,
        "importer/upload.html",
        channel=channel,
        title=gettext("Upload the file"),
        step="upload",
        form=form,
        choice=choice.cleaned_data,
        active=active,
        start_query=request.GET.urlencode(),
        max_mb=settings.UPLOAD_MAX_MB,
        max_bytes=settings.UPLOAD_MAX_BYTES,
    )


def _keys(channel: Channel) -> list[ProfileKey]:
    return sorted(profile_keys_by_name(channel).values(), key=lambda k: (not k.builtin, k.key))


def _initial_mapping(request: HttpRequest, job: ImportJob, preview: FilePreview) -> dict[str, str]:
    saved = templates_for(job)
    chosen = request.GET.get("template")
    if chosen and chosen.isdigit() and (template := saved.filter(pk=chosen).first()):
        messages.info(
            request, gettext("Applied the saved mapping “%(name)s”.") % {"name": template.name}
        )
        return dict(template.mapping)
    if job.mapping:
        return dict(job.mapping)
    return suggested_mapping(job, preview)


def mapping(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    job = channel_job(request, slug, job_id)
    if job.status != ImportStatus.DRAFT:
        return redirect("importer:job", slug, job.pk)
    if job.encoding_pending:
        return redirect("importer:encoding", slug, job.pk)
    keys = _keys(job.channel)
    preview = file_preview(job)
    data = request.POST.copy() if request.method == "POST" else None
    key_form = KeyCreateForm(data if data and "create_key" in data else None, prefix="new")
    if data is not None and "create_key" in data:
        created = _create_key(request, job, key_form)
        if created is not None:
            keys = _keys(job.channel)
            if key_form.cleaned_data["column"] is not None:
                data[MappingForm.column_field(key_form.cleaned_data["column"])] = created.key
            messages.success(
                request, gettext("Created the profile key “%(key)s”.") % {"key": created.key}
            )
            key_form = KeyCreateForm(prefix="new")
    initial_mapping = _initial_mapping(request, job, preview)
    initial = MappingForm.initial_from(job.headers, initial_mapping, job.identity)
    form = MappingForm(
        data, headers=job.headers, keys=keys, kind=job.kind, identity=job.identity, initial=initial
    )
    submitted = data is not None and "create_key" not in data
    skipped = lookalikes_skipped(job, initial_mapping, preview)
    if submitted and form.is_valid():
        # R2.8a: nothing is skipped silently; a look-alike column left out is confirmed first.
        skipped = lookalikes_skipped(job, form.mapping(), preview)
        confirmed = not skipped or "skip_confirmed" in request.POST
        if confirmed and _configure(request, job, form):
            return redirect("importer:check", slug, job.pk)
    rows = [
        (*row, column.samples) for row, column in zip(form.rows(), preview.columns, strict=True)
    ]
    return page(
        request,
        "importer/mapping.html",
        channel=job.channel,
        title=gettext("Map the columns"),
        step="mapping",
        job=job,
        form=form,
        key_form=key_form,
        preview=preview,
        rows=rows,
        skipped=skipped,
        confirm_skipped=submitted and bool(skipped),
        saved=templates_for(job),
        file=file_description(job),
        can_create_keys=request.user.has_perm("crm.manage_profile_keys", job.channel),
    )


def _configure(request: HttpRequest, job: ImportJob, form: MappingForm) -> bool:
    mapping = form.mapping()
    try:
        import_configure(job=job, mapping=mapping, empty_policy=job.empty_policy)
        if form.cleaned_data.get("save_as"):
            mapping_template_save(
                channel=job.channel,
                name=form.cleaned_data["save_as"],
                job=job,
                mapping=mapping,
                by=request.user,
            )
    except MappingError as exc:
        for problem in exc.problems:
            form.add_error(None, problem)
        return False
    except ValidationError as exc:
        add_service_errors(form, exc, {"save_as": "save_as"})
        return False
    try:
        check_start(job=job)
    except ImportLocked as exc:  # a column-wide fix is being applied to the failed rows
        form.add_error(None, str(exc))
        return False
    return True


def _create_key(request: HttpRequest, job: ImportJob, form: KeyCreateForm) -> ProfileKey | None:
    if not request.user.has_perm("crm.manage_profile_keys", job.channel):
        form.add_error(None, gettext("You may not create profile keys in this channel."))
        return None
    if not form.is_valid():
        return None
    try:
        return profile_key_create(
            channel=job.channel,
            key=form.cleaned_data["key"],
            type=form.cleaned_data["type"],
            label=form.cleaned_data["label"],
            by=request.user,
        )
    except ValidationError as exc:
        add_service_errors(form, exc, {"key": "key", "type": "type", "label": "label"})
        return None


@require_POST
def key_create(request: HttpRequest, slug: str, job_id: int) -> JsonResponse:
    """The mapping screen's "new key" without a page load: JSON in, the new key or errors out."""
    job = channel_job(request, slug, job_id)
    form = KeyCreateForm(request.POST, prefix="new")
    key = _create_key(request, job, form)
    if key is None:
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    return JsonResponse({"key": key.key, "label": key_label(key), "type": key.type})


@require_POST
def discard(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """Drop a draft, e.g. to upload a fixed file (R2.9: "fix the file")."""
    job = channel_job(request, slug, job_id)
    if job.status != ImportStatus.DRAFT:
        return redirect("importer:job", slug, job.pk)
    kind, identity = job.kind, job.identity
    draft_discard(job=job)
    if request.POST.get("next") == "upload":
        query = urlencode({"kind": kind, "identity": identity})
        return redirect(f"{reverse('importer:upload', args=[slug])}?{query}")
    messages.info(
        request, gettext("The import of “%(file)s” was discarded.") % {"file": job.filename}
    )
    return redirect("importer:log", slug)

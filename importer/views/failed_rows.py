"""The grid of failed rows (R2.16a): a page of them to fix, a cell checked at once, and
"import these rows". Forms do everything; the page's script makes each cell's check instant."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from crm.display import count
from importer.failed_rows.column_fixes import column_fix_start, fix_offers, fix_shown
from importer.failed_rows.grid import GridRefused, GridRow, grid_page, grid_refusal
from importer.failed_rows.services import cells_edit, fixed_rows_import
from importer.jobs import ImportLocked
from importer.models import ColumnFixJob, FixStatus, ImportJob, ImportStatus, RowEdit
from importer.views.common import channel_job, page

CELL_FIELD = "cell-"  # cell-<row>-<column index>


def _cells_posted(request: HttpRequest) -> list[tuple[int, int, object]]:
    changes: list[tuple[int, int, object]] = []
    for name, value in request.POST.items():
        if not name.startswith(CELL_FIELD):
            continue
        row, _, column = name[len(CELL_FIELD) :].partition("-")
        if not (row.isdigit() and column.isdigit()):
            raise GridRefused(gettext("Unknown cell %(name)s.") % {"name": name[:40]})
        changes.append((int(row), int(column), value))
    return changes


def grid(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """GET: a page of the failed rows. POST: the page's cells, saved and checked (no script)."""
    job = channel_job(request, slug, job_id)
    refusal = grid_refusal(job)
    if refusal and job.status == ImportStatus.DRAFT:
        messages.info(request, refusal)
        return redirect("importer:check", slug, job.pk)
    if refusal:
        raise Http404(refusal)
    error, status = "", 200
    if request.method == "POST":
        try:
            rows = cells_edit(job=job, by=request.user, changes=_cells_posted(request))
        except GridRefused as exc:
            error, status = str(exc), exc.status
        else:
            fixed = sum(1 for r in rows if r.ok and r.edited)
            messages.success(
                request,
                ngettext("Saved. %(n)s row is fixed.", "Saved. %(n)s rows are fixed.", fixed)
                % {"n": fixed},
            )
            return redirect(f"{request.path}?page={request.POST.get('page', '1')}")
    fixing = fix_shown(job, request.GET.get("fix"))
    return page(
        request,
        "importer/failed_rows.html",
        channel=job.channel,
        title=gettext("Fix failed rows"),
        step="check" if job.status == ImportStatus.DRAFT else "import",
        job=job,
        grid=grid_page(job, request.GET.get("page")),
        # While a fix is applied the offers wait for it (counting them would read half of it).
        offers=[] if fixing is not None and fixing.active else fix_offers(job),
        **_fix_context(fixing),
        error=error,
        status=status,
    )


def _fix_context(fixing: ColumnFixJob | None) -> dict[str, object]:
    """What the page says of a column-wide fix: being applied (with its count so far), or what
    it changed once it ended."""
    if fixing is None:
        return {"fixing": None, "fix_text": ""}
    fixed = ngettext(
        "Fixed %(n)s cell in column “%(column)s”.",
        "Fixed %(n)s cells in column “%(column)s”.",
        fixing.cells,
    ) % {"n": count(fixing.cells), "column": fixing.header}
    if fixing.status == FixStatus.QUEUED:
        text = gettext("Waiting for a worker…")
    elif fixing.status == FixStatus.RUNNING:
        text = ngettext("%(n)s cell fixed so far.", "%(n)s cells fixed so far.", fixing.cells) % {
            "n": count(fixing.cells)
        }
    elif fixing.status == FixStatus.SUCCEEDED and not fixing.cells:
        text = gettext("No cell needs this fix any more.")
    elif fixing.status == FixStatus.SUCCEEDED:
        text = (
            fixed
            + " "
            + ngettext(
                "%(n)s of their rows now passes every check.",
                "%(n)s of their rows now pass every check.",
                fixing.rows_ok,
            )
            % {"n": count(fixing.rows_ok)}
        )
    else:
        text = (
            gettext("The fix stopped before the end: %(reason)s") % {"reason": fixing.error}
            + " "
            + fixed
            + " "
            + gettext("Apply it again to fix the rest.")
        )
    return {"fixing": fixing, "fix_text": text}


def _row_json(row: GridRow) -> dict[str, object]:
    return {
        "row": row.number,
        "ok": row.ok,
        "edited": row.edited,
        "reasons": row.reasons,
        "notes": row.notes,
    }


@require_POST
def grid_cell(request: HttpRequest, slug: str, job_id: int) -> JsonResponse:
    """One cell (row, column, value) saved and checked with the import's parsers: the row's
    reasons as JSON, or a 4xx with the reason."""
    job = channel_job(request, slug, job_id)
    try:
        row, column = int(request.POST["row"]), int(request.POST["column"])
        value = request.POST["value"]
    except (KeyError, ValueError):
        return JsonResponse({"error": gettext("Send row, column and value.")}, status=400)
    try:
        (checked,) = cells_edit(job=job, by=request.user, changes=[(row, column, value)])
    except GridRefused as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    pending = RowEdit.objects.filter(job=job, sent_to__isnull=True).count()
    pending_text = ngettext("%(n)s row edited.", "%(n)s rows edited.", pending) % {
        "n": count(pending)
    }
    return JsonResponse({**_row_json(checked), "pending": pending_text})


@require_POST
def grid_import(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """ "Import these rows": a draft is checked again with them; a finished import's run as a
    follow-up import."""
    job = channel_job(request, slug, job_id)
    try:
        started = fixed_rows_import(job=job, by=request.user)
    except (GridRefused, ImportLocked) as exc:
        messages.error(request, str(exc))
        return redirect("importer:failed_rows", slug, job.pk)
    if started.pk == job.pk:
        messages.success(
            request,
            gettext("The fixed rows are part of the import now: the file is checked again."),
        )
        return redirect("importer:check", slug, job.pk)
    return redirect("importer:job", slug, started.pk)


@require_POST
def grid_fix(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """A column-wide fix the manager accepted (key, fix): a background job applies it to every
    failed cell of the column it explains; back to the grid at once, which shows it being
    applied, then what it changed."""
    job = channel_job(request, slug, job_id)
    try:
        fixing = column_fix_start(
            job=job,
            by=request.user,
            key=request.POST.get("key", ""),
            fix=request.POST.get("fix", ""),
        )
    except GridRefused as exc:
        messages.error(request, str(exc))
        return _back_to(job, slug)
    grid_url = reverse("importer:failed_rows", args=[slug, job.pk])
    return redirect(f"{grid_url}?fix={fixing.pk}")


def _back_to(job: ImportJob, slug: str) -> HttpResponse:
    if grid_refusal(job):  # the grid is closed: where the import stands
        return redirect(
            "importer:check" if job.status == ImportStatus.DRAFT else "importer:job", slug, job.pk
        )
    return redirect("importer:failed_rows", slug, job.pk)


@require_GET
def grid_fix_status(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """The fix's live part, polled by the grid while it is applied (``?fix=``: which one)."""
    job = channel_job(request, slug, job_id)
    fixing = fix_shown(job, request.GET.get("fix"))
    if fixing is None:
        raise Http404(gettext("No such fix of this import."))
    context = {"job": job, "channel": job.channel, **_fix_context(fixing)}
    return TemplateResponse(request, "importer/_fix_status.html", context)

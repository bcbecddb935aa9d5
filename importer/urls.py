"""/imports/…: the import wizard, the import log and template files, per channel."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from importer.views import encoding, failed_rows, run, undo, wizard

app_name = "importer"

# admin_view: the back-office's login, staff check, CSRF and no caching, like every admin page.
v = admin.site.admin_view

urlpatterns = [
    path("", v(wizard.index), name="index"),
    path("<slug:slug>/", v(run.log), name="log"),
    path("<slug:slug>/new/", v(wizard.start), name="start"),
    path("<slug:slug>/upload/", v(wizard.upload), name="upload"),
    path(
        "<slug:slug>/templates/<slug:name>.<str:fmt>",
        v(run.template_file),
        name="template",
    ),
    path("<slug:slug>/<int:job_id>/", v(run.job), name="job"),
    path("<slug:slug>/<int:job_id>/encoding/", v(encoding.choose), name="encoding"),
    path("<slug:slug>/<int:job_id>/mapping/", v(wizard.mapping), name="mapping"),
    path("<slug:slug>/<int:job_id>/keys/", v(wizard.key_create), name="key_create"),
    path("<slug:slug>/<int:job_id>/discard/", v(wizard.discard), name="discard"),
    path("<slug:slug>/<int:job_id>/check/", v(run.check), name="check"),
    path("<slug:slug>/<int:job_id>/check/status/", v(run.check_status), name="check_status"),
    path("<slug:slug>/<int:job_id>/settings/", v(run.settings_step), name="settings"),
    path("<slug:slug>/<int:job_id>/confirm/", v(run.confirm), name="confirm"),
    path("<slug:slug>/<int:job_id>/progress/", v(run.progress), name="progress"),
    path("<slug:slug>/<int:job_id>/cancel/", v(run.cancel), name="cancel"),
    path("<slug:slug>/<int:job_id>/undo/", v(undo.undo_confirm), name="undo"),
    path("<slug:slug>/<int:job_id>/failed-rows/", v(failed_rows.grid), name="failed_rows"),
    path(
        "<slug:slug>/<int:job_id>/failed-rows/cell/",
        v(failed_rows.grid_cell),
        name="failed_rows_cell",
    ),
    path(
        "<slug:slug>/<int:job_id>/failed-rows/fix/",
        v(failed_rows.grid_fix),
        name="failed_rows_fix",
    ),
    path(
        "<slug:slug>/<int:job_id>/failed-rows/fix/status/",
        v(failed_rows.grid_fix_status),
        name="failed_rows_fix_status",
    ),
    path(
        "<slug:slug>/<int:job_id>/failed-rows/import/",
        v(failed_rows.grid_import),
        name="failed_rows_import",
    ),
    path(
        "<slug:slug>/<int:job_id>/failures.<str:fmt>",
        v(run.failures),
        name="failures",
    ),
]

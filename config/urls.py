"""URL routes: the back-office (admin), and later the wizard, boot and Open API."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from crm.views import boot, collection, language

urlpatterns = [
    # The back-office opens on the contacts list (it picks the manager's channel).
    path("", RedirectView.as_view(pattern_name="admin:crm_customer_changelist", permanent=False)),
    path("admin/", admin.site.urls),
    path("language/", language.language, name="language"),  # the manager's language (R11.1)
    # The scripts' text (djangojs catalogs of LOCALE_PATHS) in the reader's language (R11.1).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("front/boot", boot.boot, name="front-boot"),  # the chat widget's boot (SPEC §9)
    # The customer's answers in the chat widget (R1.6), authenticated as the boot is.
    path(
        "front/follow-ups/<int:request_id>",
        collection.follow_up_answer,
        name="front-follow-up",
    ),
    path("front/forms/<int:request_id>", collection.form_answer, name="front-form"),
    path("front/requests", collection.waiting, name="front-requests"),
    path("imports/", include("importer.urls")),
    path("inbox/", include("importer.inbox_urls")),
    path("", include("crm.api.urls")),  # the Open API under /open/v5/ (SPEC §9)
    path("builders/", include("builders.urls")),  # builder webhooks and pulls (R5)
]

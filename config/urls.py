"""URL routes: the back-office (admin), and later the wizard, boot and Open API."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    # The back-office opens on the contacts list (it picks the manager's channel).
    path("", RedirectView.as_view(pattern_name="admin:crm_customer_changelist", permanent=False)),
    path("admin/", admin.site.urls),
]

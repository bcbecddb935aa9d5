"""/inbox/…: the managers' inbox (R2.18)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from importer.views import inbox

app_name = "inbox"

v = admin.site.admin_view

urlpatterns = [
    path("", v(inbox.inbox), name="list"),
    path("read/", v(inbox.mark_all_read), name="read_all"),
    path("<int:message_id>/open/", v(inbox.open_message), name="open"),
]

"""/builders/…: per-channel webhook endpoints (no login: verified by token and signature) and
the back-office builders page (admin login, import permission on the channel)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from builders.views import pulls, webhooks

app_name = "builders"

v = admin.site.admin_view

urlpatterns = [
    path("webhooks/shopify/", webhooks.shopify_app_webhook, name="shopify_app_webhook"),
    path(
        "webhooks/<slug:platform>/<int:installation_id>/<str:token>/",
        webhooks.webhook,
        name="webhook",
    ),
    path("<slug:slug>/", v(pulls.index), name="index"),
    path("<slug:slug>/pull/<slug:platform>/", v(pulls.pull_start), name="pull_start"),
    path("<slug:slug>/pulls/<int:pull_id>/", v(pulls.pull_detail), name="pull"),
    path("<slug:slug>/pulls/<int:pull_id>/cancel/", v(pulls.pull_cancel), name="pull_cancel"),
]

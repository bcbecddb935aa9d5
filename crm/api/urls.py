"""Open API routes (SPEC §9). Full paths here, so the schema generated from this module alone
carries them as clients call them."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView

from crm.api import views

SCHEMA_SETTINGS = {
    "TITLE": "Contacts Open API",
    "VERSION": "5.0.0",
    "OAS_VERSION": "3.1.0",
    "DESCRIPTION": (
        "Users (customers) of one channel. Authenticate every request with the channel's "
        "`x-access-key` and `x-access-secret`. Each access key may make `x-ratelimit-limit` "
        "requests per window; `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix seconds) "
        "say how many are left and when the window ends; beyond it answers 429."
    ),
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.serializers.closed_request_bodies",
    ],
}

urlpatterns = [
    path("open/v5/users", views.UserListView.as_view(), name="open-users"),
    path("open/v5/users/<int:id>", views.UserByIdView.as_view(), name="open-user"),
    # Any memberId, "/" and line breaks included (percent-encoded by the client).
    re_path(
        r"^open/v5/users/@(?P<memberId>(?s:.+))$",
        views.UserByMemberIdView.as_view(),
        name="open-user-member",
    ),
    path(
        "open/v5/openapi.json",
        SpectacularJSONAPIView.as_view(urlconf="crm.api.urls", custom_settings=SCHEMA_SETTINGS),
        name="open-api-schema",
    ),
    path(
        "open/v5/docs",
        SpectacularRedocView.as_view(url_name="open-api-schema"),
        name="open-api-docs",
    ),
    re_path(r"^open/v5/", views.unknown_path),
]

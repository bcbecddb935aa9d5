"""Per-channel API credentials (R6.1): ``x-access-key`` names the channel, ``x-access-secret``
proves it. Wrong or missing → 401; the request's ``auth`` is the channel, and every view reads
only that channel's customers, so a key never reaches another channel's data (R8.2)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from crm.api.ratelimit import auth_failure_count, auth_failures_exceeded
from crm.models import Channel
from crm.services.channels import access_secret_matches, hash_secret

KEY_HEADER = "x-access-key"
SECRET_HEADER = "x-access-secret"


class AccessKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[None, Channel]:
        key = request.headers.get(KEY_HEADER, "").strip()
        secret = request.headers.get(SECRET_HEADER, "").strip()
        if not key or not secret:
            raise exceptions.NotAuthenticated(
                f"send the channel's {KEY_HEADER} and {SECRET_HEADER} headers"
            )
        # R7.4: an address that failed API_AUTH_FAILURE_LIMIT times waits for the window's end.
        exceeded = auth_failures_exceeded(request)
        if exceeded is not None:
            raise exceptions.Throttled(
                wait=exceeded.retry_after,
                detail=(
                    f"too many failed authentications from this address; "
                    f"retry in {exceeded.retry_after} seconds"
                ),
            )
        channel = Channel.objects.filter(access_key=key).first()
        if channel is None:
            hash_secret(secret)  # the same work as a known key: the answer time tells nothing
        if channel is None or not access_secret_matches(channel, secret):
            auth_failure_count(request)
            raise exceptions.AuthenticationFailed("the access key or secret is wrong")
        return None, channel

    def authenticate_header(self, request: Request) -> str:
        # Any value makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return f'AccessKey realm="open-api", headers="{KEY_HEADER} {SECRET_HEADER}"'


class ChannelAuthenticated(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Channel)


class AccessKeyScheme(OpenApiAuthenticationExtension):
    target_class = "crm.api.authentication.AccessKeyAuthentication"
    name = ["accessKey", "accessSecret"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {"type": "apiKey", "in": "header", "name": KEY_HEADER},
            {"type": "apiKey", "in": "header", "name": SECRET_HEADER},
        ]

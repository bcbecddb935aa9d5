"""The Open API's rate limits (R7.4), on crm.ratelimit's shared counters: requests per access
key (announced on every authenticated answer), and failed authentications per client address."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from crm.models import Channel
from crm.ratelimit import RateState, client_address, rate_hit, rate_peek

_AUTH_FAILURES = "open-api-auth-failures"


class AccessKeyRateThrottle(BaseThrottle):
    """``API_RATE_LIMIT`` requests per ``API_RATE_WINDOW_SECONDS`` per access key; the next
    answers 429 with Retry-After until the window ends."""

    def allow_request(self, request: Request, view: Any) -> bool:
        channel = request.auth
        if not isinstance(channel, Channel):
            return True  # refused earlier (401)
        state = rate_hit(
            "open-api",
            channel.access_key,
            limit=int(settings.API_RATE_LIMIT),
            window=int(settings.API_RATE_WINDOW_SECONDS),
        )
        request._rate_state = state  # type: ignore[attr-defined]  # read by finalize_response
        self._wait = float(state.retry_after)
        return state.allowed

    def wait(self) -> float | None:
        return self._wait


def _failure_limit() -> dict[str, int]:
    return {
        "limit": int(settings.API_AUTH_FAILURE_LIMIT),
        "window": int(settings.API_AUTH_FAILURE_WINDOW_SECONDS),
    }


def auth_failures_exceeded(request: Request) -> RateState | None:
    """The state when the client's address has used up its failed authentications (then even
    right credentials wait for the window's end: guessing must not go on)."""
    state = rate_peek(_AUTH_FAILURES, client_address(request._request), **_failure_limit())
    return None if state.allowed else state


def auth_failure_count(request: Request) -> None:
    rate_hit(_AUTH_FAILURES, client_address(request._request), **_failure_limit())

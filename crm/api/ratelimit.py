"""Rate limits per access key: a fixed window counted in the cache (Redis when REDIS_URL is set,
so every web process shares the count), announced on every authenticated answer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from crm.models import Channel

now = time.time  # the clock, replaceable in tests


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset: int  # Unix time (seconds) when the window ends and the count starts again

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }


class AccessKeyRateThrottle(BaseThrottle):
    """``API_RATE_LIMIT`` requests per ``API_RATE_WINDOW_SECONDS`` per access key; the next
    answers 429 with Retry-After until the window ends."""

    def allow_request(self, request: Request, view: Any) -> bool:
        channel = request.auth
        if not isinstance(channel, Channel):
            return True  # refused earlier (401)
        limit = int(settings.API_RATE_LIMIT)
        window = int(settings.API_RATE_WINDOW_SECONDS)
        at = now()
        start = int(at // window) * window
        key = f"open-api-rate:{channel.access_key}:{start}"
        # add() then incr(): INCR on Redis, atomic across processes; the key outlives its
        # window a little so a late request of the window still finds it.
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=window + 5)
            count = 1
        state = RateState(limit=limit, remaining=max(0, limit - count), reset=start + window)
        request._rate_state = state  # type: ignore[attr-defined]  # read by finalize_response
        self._wait = max(1.0, start + window - at)
        return count <= limit

    def wait(self) -> float | None:
        return self._wait

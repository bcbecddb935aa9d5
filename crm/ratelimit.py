"""Rate limits of every edge (R7.4): fixed windows counted in the shared cache (Redis when
REDIS_URL is set, so every web process shares the count; local memory otherwise).

One counter per (scope, subject, window): the Open API's requests per access key, boots per
plugin key and per client address, failed Open API authentications per client address, and
webhook deliveries per installation URL. Past the limit the edge answers 429 with Retry-After.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse

now = time.time  # the clock, replaceable in tests
KEY_PREFIX = "rate"  # tests give each test its own, so counts never leak between them


@dataclass(frozen=True)
class RateState:
    limit: int
    count: int  # requests counted in this window so far (this one included when it was hit)
    reset: int  # Unix time (seconds) when the window ends and the count starts again
    at: float

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window ends (at least 1): the 429's Retry-After."""
        return max(1, int(self.reset - self.at + 0.999))

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }


def _key(scope: str, subject: str, start: int) -> str:
    # Subjects are text from outside (a plugin key, an address): hashed, so any text is a
    # valid cache key and none is stored as sent.
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{KEY_PREFIX}:{scope}:{digest}:{start}"


def _window(window: int) -> tuple[float, int]:
    at = now()
    return at, int(at // window) * window


def rate_hit(scope: str, subject: str, *, limit: int, window: int) -> RateState:
    """Count one request of ``subject`` in this window and say whether it is within ``limit``."""
    at, start = _window(window)
    key = _key(scope, subject, start)
    # add() then incr(): INCR on Redis, atomic across processes; the key outlives its window a
    # little so a late request of the window still finds it.
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    return RateState(limit=limit, count=count, reset=start + window, at=at)


def rate_peek(scope: str, subject: str, *, limit: int, window: int) -> RateState:
    """The window's count without counting: ``allowed`` says whether one more may be hit."""
    at, start = _window(window)
    count = int(cache.get(_key(scope, subject, start)) or 0)
    return RateState(limit=limit, count=count + 1, reset=start + window, at=at)


def too_many(state: RateState, what: str) -> JsonResponse:
    """The 429 of a JSON edge past its limit: ``{"errors": {"rate": …}}`` and Retry-After."""
    reason = f"too many {what}; retry in {state.retry_after} seconds"
    response = JsonResponse({"errors": {"rate": reason}}, status=429)
    response["Retry-After"] = str(state.retry_after)
    return response


def client_address(request: HttpRequest) -> str:
    """Who is asking, as a rate-limit subject. Behind our proxy (``BEHIND_PROXY``) that is the
    last address of X-Forwarded-For, the one our proxy appended: the ones before it are the
    client's to write. IPv6 counts per /64 (what one subscriber gets)."""
    address = request.META.get("REMOTE_ADDR", "") or ""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            address = last
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)

"""A small JSON-over-HTTP client for builder APIs: bounded retries with exponential backoff.

Retried: 429 (after the builder's Retry-After, capped), 5xx, timeouts and dropped connections.
Not retried: other 4xx (a wrong token does not get better). After ``attempts`` failures the
request raises ``PullFailed`` naming the URL (without its query) and the last error.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PullFailed(Exception):
    """The builder's API could not be read: the pull stops, nothing is imported."""


@dataclass
class Response:
    status: int
    headers: Message
    data: Any


@dataclass
class JsonClient:
    timeout: float = field(default_factory=lambda: float(settings.BUILDER_HTTP_TIMEOUT))
    attempts: int = field(default_factory=lambda: int(settings.BUILDER_HTTP_ATTEMPTS))
    backoff: float = field(default_factory=lambda: float(settings.BUILDER_HTTP_BACKOFF))
    backoff_max: float = field(default_factory=lambda: float(settings.BUILDER_HTTP_BACKOFF_MAX))
    sleep: Callable[[float], None] = time.sleep
    retried: int = 0  # failed attempts that were retried, over the client's life

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        if params:
            query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", **(headers or {})}
        )
        where = url.split("?", 1)[0]
        last = ""
        for attempt in range(1, self.attempts + 1):
            retry_after: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as raw:
                    body = raw.read()
                    return Response(raw.status, raw.headers, json.loads(body or b"null"))
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUSES:
                    raise PullFailed(f"{where} answered {exc.code} {exc.reason}") from None
                last = f"{exc.code} {exc.reason}"
                retry_after = _retry_after(exc.headers)
            except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except ValueError:
                raise PullFailed(f"{where} answered something that is not JSON") from None
            if attempt == self.attempts:
                break
            self.retried += 1
            delay = self._delay(attempt, retry_after)
            log.info("builder API %s: %s; retry %d in %.2fs", where, last, attempt, delay)
            self.sleep(delay)
        raise PullFailed(f"{where} failed {self.attempts} times; last: {last}")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        # Exponential backoff with full jitter: concurrent pulls do not retry in step.
        return random.uniform(0, min(self.backoff_max, self.backoff * 2 ** (attempt - 1)))


def _retry_after(headers: Message | None) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def next_link(headers: Message) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 Link header (Shopify's cursor pagination)."""
    for part in (headers.get("Link") or "").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return url.strip().strip("<>")
    return None

"""What every chat widget endpoint (``/front/…``: the boot, the waiting requests, the follow-up
and form answers) does before its own work, in one place: ``widget_endpoint``.

- POST only (and the browser's OPTIONS preflight, answered 204); every answer carries the
  widget's CORS headers, since the widget runs on the business's own site (no cookies).
- R7.4: requests per client address are counted first, before the body is read; past the limit
  a 429 with Retry-After. Requests per plugin key are counted once the view has read the key
  (``key_limited``). The boot and the answers count apart (``BOOT``, ``ANSWERS``).
- R8.3: a body over ``MAX_BODY`` is a 413. A NUL or an unpaired surrogate anywhere in the
  request is refused 400 before any view by ``crm.storable_text`` (the one check of every
  edge), so it is not checked again here.

Errors are ``{"errors": {key: reason}}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.ratelimit import client_address, rate_hit, too_many

MAX_BODY = 32 * 1024  # bytes: a boot's profile is at most 15 KB (R1.3), a form's answers less


@dataclass(frozen=True)
class WidgetLimits:
    """R7.4's counters of one kind of widget request and what their 429 says is too many."""

    scope: str
    per_address: str
    per_key: str


BOOT = WidgetLimits("boot", "boots from this address", "boots for this plugin key")
ANSWERS = WidgetLimits("widget", "widget requests", "widget requests")


def cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return response


def errors(status: int, reasons: dict[str, str]) -> HttpResponse:
    return JsonResponse({"errors": reasons}, status=status)


def flat(exc: ValidationError) -> dict[str, str]:
    """A ValidationError's reasons by key, one line each."""
    return {key: " ".join(reasons) for key, reasons in exc.message_dict.items()}


def _limited(scope: str, subject: str, limit: int, what: str) -> HttpResponse | None:
    state = rate_hit(scope, subject, limit=limit, window=settings.BOOT_RATE_WINDOW_SECONDS)
    return None if state.allowed else too_many(state, what)


def key_limited(limits: WidgetLimits, plugin_key: str) -> HttpResponse | None:
    """R7.4 per plugin key: the 429 once the key's requests are past the limit, else None."""
    return _limited(
        f"{limits.scope}-key", plugin_key, settings.BOOT_RATE_LIMIT_PER_KEY, limits.per_key
    )


View = Callable[..., HttpResponse]


def widget_endpoint(limits: WidgetLimits) -> Callable[[View], View]:
    """Make ``view`` a widget endpoint: see the module's docstring."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "OPTIONS":
                return cors(HttpResponse(status=204))
            address = client_address(request)
            limit = settings.BOOT_RATE_LIMIT_PER_ADDRESS
            refused = _limited(f"{limits.scope}-address", address, limit, limits.per_address)
            if refused is None and len(request.body) > MAX_BODY:
                refused = errors(413, {"body": _("The body is over 32 KB.")})
            return cors(refused or view(request, *args, **kwargs))

        return csrf_exempt(require_http_methods(["POST", "OPTIONS"])(endpoint))

    return decorate

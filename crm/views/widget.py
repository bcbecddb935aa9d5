"""What every chat widget endpoint (``/front/…``: the boot, the waiting requests, the follow-up
and form answers) does before its own work, in one place: ``widget_endpoint``.

- POST only (and the browser's OPTIONS preflight, answered 204); every answer carries the
  widget's CORS headers, since the widget runs on the business's own site (no cookies).
- R7.4: requests per client address are counted first, before the body is read; past the limit
  a 429 with Retry-After. Requests per plugin key are counted once the view has read the key
  (``identified``). The boot and the answers count apart (``BOOT``, ``ANSWERS``).
- R8.3: a body over ``MAX_BODY`` is a 413. A NUL or an unpaired surrogate anywhere in the
  request is refused 400 before any view by ``crm.storable_text`` (the one check of every
  edge), so it is not checked again here.

Then ``identified``: who the request speaks for (``crm.services.widget``), or why not.
Errors are ``{"errors": {key: reason}}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.models import Channel
from crm.ratelimit import client_address, rate_hit, too_many
from crm.selectors import channel_by_plugin_key
from crm.services.widget import MemberHashRefused

MAX_BODY = 32 * 1024  # bytes: a boot's profile is at most 15 KB (R1.3), a form's answers less


T = TypeVar("T")


@dataclass(frozen=True)
class WidgetEdge:
    """One kind of widget request: its R7.4 counters (``scope``), what their 429 says is too
    many, and the 404 of an unknown plugin key (the boot's reasons are data, R11.3; the
    answers' are sentences in the customer's language)."""

    scope: str
    per_address: str
    per_key: str
    unknown_key: Promise


BOOT = WidgetEdge(
    "boot",
    "boots from this address",
    "boots for this plugin key",
    gettext_lazy("no channel has this plugin key"),
)
ANSWERS = WidgetEdge(
    "widget", "widget requests", "widget requests", gettext_lazy("No channel has this plugin key.")
)


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


def _identity_refused(exc: MemberHashRefused | ValidationError) -> HttpResponse:
    """What ``crm.services.widget.widget_caller`` refused: 401 for a missing or wrong
    memberHash, 400 for a malformed memberId, veilId or profile value (by key)."""
    if isinstance(exc, MemberHashRefused):
        return errors(401, {"memberHash": exc.reason})
    return errors(400, flat(exc))


def _limited(scope: str, subject: str, limit: int, what: str) -> HttpResponse | None:
    state = rate_hit(scope, subject, limit=limit, window=settings.BOOT_RATE_WINDOW_SECONDS)
    return None if state.allowed else too_many(state, what)


def identified(
    edge: WidgetEdge, data: Mapping[str, Any], identify: Callable[..., T]
) -> tuple[Channel, T] | HttpResponse:
    """The request's plugin key counted (R7.4), its channel found, then ``identify``
    (``customer_boot``, ``widget_customer``) called with the customer the request names:
    ``channel``, ``member_id``, ``member_hash``, ``veil_id``. Its refusals are answered (401,
    400), as are an unknown plugin key (404) and a flood (429)."""
    limit = settings.BOOT_RATE_LIMIT_PER_KEY
    limited = _limited(f"{edge.scope}-key", data["pluginKey"], limit, edge.per_key)
    if limited:
        return limited
    channel = channel_by_plugin_key(data["pluginKey"])
    if channel is None:
        return errors(404, {"pluginKey": str(edge.unknown_key)})
    member_id = data.get("memberId")
    try:
        found = identify(
            channel=channel,
            member_id=None if member_id is None else str(member_id),
            member_hash=data.get("memberHash"),
            veil_id=data.get("veilId"),
        )
    except (MemberHashRefused, ValidationError) as exc:
        return _identity_refused(exc)
    return channel, found


View = Callable[..., HttpResponse]


def widget_endpoint(edge: WidgetEdge) -> Callable[[View], View]:
    """Make ``view`` a widget endpoint: see the module's docstring."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "OPTIONS":
                return cors(HttpResponse(status=204))
            address = client_address(request)
            limit = settings.BOOT_RATE_LIMIT_PER_ADDRESS
            refused = _limited(f"{edge.scope}-address", address, limit, edge.per_address)
            if refused is None and len(request.body) > MAX_BODY:
                refused = errors(413, {"body": _("The body is over 32 KB.")})
            return cors(refused or view(request, *args, **kwargs))

        return csrf_exempt(require_http_methods(["POST", "OPTIONS"])(endpoint))

    return decorate

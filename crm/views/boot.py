"""``POST /front/boot`` (R7.1 to R7.3, SPEC §9): the chat widget's boot, JSON in and out.

Request: ``pluginKey`` (required), ``memberId``, ``memberHash``, ``veilId``, ``profile``.
Answer: the customer's ``id``, ``type`` (member/lead), ``veilId`` and ``hidden`` (blocked).
Errors are ``{"errors": {key: reason}}``: 400 for a malformed request, 401 for a missing or
wrong memberHash, 404 for an unknown plugin key, 429 (with Retry-After) past the boots allowed
per client address or per plugin key (R7.4). The widget runs on the business's own site,
so any origin may call it (CORS, no cookies).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.models import Channel
from crm.ratelimit import client_address, rate_hit, too_many
from crm.services.boot import MemberHashRefused, customer_boot

_TEXT_KEYS = ("pluginKey", "memberHash", "veilId")


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return response


def _errors(status: int, errors: dict[str, str]) -> HttpResponse:
    return _cors(JsonResponse({"errors": errors}, status=status))


def _parse(request: HttpRequest) -> dict[str, Any]:
    """The body's fields, their JSON types checked; raises ValidationError by key."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": gettext("the body is not JSON")}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": gettext("the body must be a JSON object")})
    errors: dict[str, str] = {}
    for key in _TEXT_KEYS:
        if data.get(key) is not None and not isinstance(data[key], str):
            errors[key] = gettext("must be a string")
    member_id = data.get("memberId")
    if member_id is not None and (
        isinstance(member_id, bool) or not isinstance(member_id, str | int)
    ):
        errors["memberId"] = gettext("must be a string")
    if data.get("profile") is not None and not isinstance(data["profile"], dict):
        errors["profile"] = gettext("must be a JSON object of profile keys")
    if not data.get("pluginKey") and "pluginKey" not in errors:
        errors["pluginKey"] = gettext("the plugin key is required")
    if errors:
        raise ValidationError(errors)
    return data


def _rate_limited(scope: str, subject: str, limit: int, what: str) -> HttpResponse | None:
    """R7.4: past the limit a boot is answered 429 before it reads or writes anything."""
    state = rate_hit(scope, subject, limit=limit, window=settings.BOOT_RATE_WINDOW_SECONDS)
    return None if state.allowed else _cors(too_many(state, f"boots {what}"))


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def boot(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    limited = _rate_limited(
        "boot-address",
        client_address(request),
        settings.BOOT_RATE_LIMIT_PER_ADDRESS,
        "from this address",
    )
    if limited:
        return limited
    try:
        data = _parse(request)
    except ValidationError as exc:
        return _errors(400, {k: " ".join(v) for k, v in exc.message_dict.items()})
    limited = _rate_limited(
        "boot-key", data["pluginKey"], settings.BOOT_RATE_LIMIT_PER_KEY, "for this plugin key"
    )
    if limited:
        return limited
    channel = Channel.objects.filter(plugin_key=data["pluginKey"]).first()
    if channel is None:
        return _errors(404, {"pluginKey": gettext("no channel has this plugin key")})
    try:
        booted = customer_boot(
            channel=channel,
            member_id=None if data.get("memberId") is None else str(data["memberId"]),
            member_hash=data.get("memberHash"),
            veil_id=data.get("veilId"),
            profile=data.get("profile"),
        )
    except MemberHashRefused as exc:
        return _errors(401, {"memberHash": exc.reason})
    except ValidationError as exc:
        return _errors(400, {k: " ".join(v) for k, v in exc.message_dict.items()})
    customer = booted.customer
    return _cors(
        JsonResponse(
            {
                "id": customer.pk,
                "type": customer.type,
                "veilId": customer.veil_id,
                "hidden": booted.hidden,
            }
        )
    )

"""``POST /front/boot`` (R7.1 to R7.3, SPEC §9): the chat widget's boot, JSON in and out.

Request: ``pluginKey`` (required), ``memberId``, ``memberHash``, ``veilId``, ``profile``.
Answer: the customer's ``id``, ``type`` (member/lead), ``veilId`` and ``hidden`` (blocked).
Errors are ``{"errors": {key: reason}}``: 400 for a malformed request, 401 for a missing or
wrong memberHash, 404 for an unknown plugin key, 413 a body over 32 KB, 429 (with Retry-After)
past the boots allowed per client address or per plugin key (R7.4). CORS, the method, the
address's rate limit and the body's size: ``crm.views.widget.widget_endpoint``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext

from crm.services.boot import customer_boot
from crm.views.widget import BOOT, errors, flat, identified, widget_endpoint

_TEXT_KEYS = ("pluginKey", "memberHash", "veilId")


def _parse(request: HttpRequest) -> dict[str, Any]:
    """The body's fields, their JSON types checked; raises ValidationError by key."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": gettext("the body is not JSON")}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": gettext("the body must be a JSON object")})
    reasons: dict[str, str] = {}
    for key in _TEXT_KEYS:
        if data.get(key) is not None and not isinstance(data[key], str):
            reasons[key] = gettext("must be a string")
    member_id = data.get("memberId")
    if member_id is not None and (
        isinstance(member_id, bool) or not isinstance(member_id, str | int)
    ):
        reasons["memberId"] = gettext("must be a string")
    if data.get("profile") is not None and not isinstance(data["profile"], dict):
        reasons["profile"] = gettext("must be a JSON object of profile keys")
    if not data.get("pluginKey") and "pluginKey" not in reasons:
        reasons["pluginKey"] = gettext("the plugin key is required")
    if reasons:
        raise ValidationError(reasons)
    return data


@widget_endpoint(BOOT)
def boot(request: HttpRequest) -> HttpResponse:
    try:
        data = _parse(request)
    except ValidationError as exc:
        return errors(400, flat(exc))
    found = identified(BOOT, data, functools.partial(customer_boot, profile=data.get("profile")))
    if isinstance(found, HttpResponse):
        return found
    _channel, booted = found
    customer = booted.customer
    body = {"id": customer.pk, "type": customer.type, "veilId": customer.veil_id}
    return JsonResponse({**body, "hidden": booted.hidden})

"""The chat widget's answers (R1.6), next to its boot: ``POST /front/requests`` lists what waits
for the customer's answer, ``POST /front/follow-ups/<id>`` answers a follow-up,
``POST /front/forms/<id>`` an input form.

JSON in: ``pluginKey`` and the customer as the boot knows it (``veilId``, or ``memberId`` with
its ``memberHash``), ``answers`` (profile key → what the customer typed) and optionally
``language`` (``ko``/``en``; else Accept-Language). Unlike the boot, whose answer is data for
the widget (R11.3), these reasons are read by the customer: they come in the customer's
language. Errors are ``{"errors": {key: reason}}``: 400 a malformed request or an answer the
parsers refuse, 401 a missing or wrong memberHash, 403 a blocked customer or a request sent to
another customer, 404 an unknown plugin key, customer or request (another channel's ids are
unknown here), 409 already answered, 410 the chat's customer was deleted, 413 a body over
32 KB, 429 past the rate limits (the boot's, counted apart: R7.4). CORS, the method, the
address's rate limit and the body's size: ``crm.views.widget.widget_endpoint``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from crm.languages import supported
from crm.models import Channel, Customer, InfoRequest
from crm.services.collection import AnswerRefused, info_request_answer, waiting_requests
from crm.services.widget import widget_customer
from crm.views.widget import ANSWERS, errors, flat, identified, widget_endpoint

_TEXT_KEYS = ("pluginKey", "memberHash", "veilId", "language")
_ANSWER_TYPES = (str, int, float, bool, list)
_ROUTES = {InfoRequest.Kind.FOLLOW_UP: "front-follow-up", InfoRequest.Kind.FORM: "front-form"}


def widget_language(request: HttpRequest, chosen: object) -> str:
    """The customer's language: the widget's choice, else the browser's first one we speak,
    else English."""
    if isinstance(chosen, str) and supported(chosen):
        return supported(chosen) or "en"
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in translation.trans_real.parse_accept_lang_header(header):
        language = supported(code)
        if language:
            return language
    return "en"


def _body(request: HttpRequest, *, answering: bool) -> dict[str, Any]:
    """The body's fields, their JSON types checked; raises ValidationError by key."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": _("The body is not JSON.")}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": _("The body must be a JSON object.")})
    reasons: dict[str, str] = {}
    for key in (*_TEXT_KEYS, "memberId"):
        if data.get(key) is not None and not isinstance(data[key], str):
            reasons[key] = _("Must be a string.")
    if not data.get("pluginKey") and "pluginKey" not in reasons:
        reasons["pluginKey"] = _("The plugin key is required.")
    answers = data.get("answers")
    if answering and not isinstance(answers, dict):
        reasons["answers"] = _("Give the answers as a JSON object of profile keys.")
    elif isinstance(answers, dict):
        for key, value in answers.items():
            if value is not None and not isinstance(value, _ANSWER_TYPES):
                reasons[key] = _("An answer is text, a number, true or false, or a list.")
    if reasons:
        raise ValidationError(reasons)
    return data


Handler = Callable[[Channel, Customer, dict[str, Any]], HttpResponse]


def _widget_call(request: HttpRequest, handler: Handler, *, answering: bool) -> HttpResponse:
    """What every widget request after the boot goes through once ``widget_endpoint`` let it
    in: the body, the customer's language, the channel and the customer."""
    try:
        data = _body(request, answering=answering)
    except ValidationError as exc:
        with translation.override(widget_language(request, None)):
            return errors(400, flat(exc))
    with translation.override(widget_language(request, data.get("language"))):
        found = _channel_and_customer(data)
        if isinstance(found, HttpResponse):
            return found
        return handler(*found, data)


def _channel_and_customer(data: dict[str, Any]) -> tuple[Channel, Customer] | HttpResponse:
    found = identified(ANSWERS, data, widget_customer)
    if isinstance(found, HttpResponse):
        return found
    channel, customer = found
    if customer is None:
        return errors(404, {"customer": _("No such customer in this channel: boot first.")})
    return channel, customer


def _answering(request_id: int, kind: str) -> Handler:
    def handle(channel: Channel, customer: Customer, data: dict[str, Any]) -> HttpResponse:
        info = InfoRequest.objects.filter(pk=request_id, channel=channel, kind=kind).first()
        if info is None:
            return errors(404, {"request": _("No such request in this channel.")})
        try:
            info = info_request_answer(
                channel=channel, request=info, customer=customer, answers=data["answers"]
            )
        except AnswerRefused as exc:
            return errors(exc.status, exc.errors)
        written, kept = sorted(info.written), sorted(info.kept)
        body = {"id": info.pk, "answered": True, "written": written, "kept": kept}
        return JsonResponse(body)

    return handle


def _waiting(channel: Channel, customer: Customer, data: dict[str, Any]) -> HttpResponse:
    language = translation.get_language() or "en"
    requests = [
        {**request, "url": reverse(_ROUTES[request["kind"]], args=[request["id"]])}
        for request in waiting_requests(channel=channel, customer=customer, language=language)
    ]
    return JsonResponse({"requests": requests})


@widget_endpoint(ANSWERS)
def follow_up_answer(request: HttpRequest, request_id: int) -> HttpResponse:
    """The customer's email or mobile number in answer to a follow-up (R1.6)."""
    return _widget_call(request, _answering(request_id, InfoRequest.Kind.FOLLOW_UP), answering=True)


@widget_endpoint(ANSWERS)
def form_answer(request: HttpRequest, request_id: int) -> HttpResponse:
    """The customer's answers to an input form sent into their chat (R1.6)."""
    return _widget_call(request, _answering(request_id, InfoRequest.Kind.FORM), answering=True)


@widget_endpoint(ANSWERS)
def waiting(request: HttpRequest) -> HttpResponse:
    """The follow-ups and forms waiting for this customer's answer, worded in their language."""
    return _widget_call(request, _waiting, answering=False)

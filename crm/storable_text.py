"""The one check of text from outside before it can reach the database (R8.3): the path, the
query string, the headers (cookies included) and JSON or form bodies of every request.

PostgreSQL stores neither NUL (U+0000, in text or in jsonb) nor an unpaired surrogate (a JSON
``\\ud800`` escape: not encodable as UTF-8); either reaching a query made the server answer 500.
A request carrying one is answered 400 with where it was and why, before any view, session or
authentication reads it; a body over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is answered 413
here too (Django itself would answer a bare HTML 400). Like every API error, the reason is
English whatever the language: only tools send such requests, and they read the same answer
everywhere (R11.3). Form fields and uploaded files' names are checked; a file's contents are
the importer's to read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A JSON body can only smuggle such a character as a raw NUL byte or a \u escape.
_SUSPECT_BODY = re.compile(rb"\x00|\\u")
_JSON_DEPTH = 64  # deeper bodies are refused (no field of ours nests more than a few levels)


def unstorable_reason(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "contains a NUL character (U+0000), which cannot be stored"
    code = f"U+{ord(char):04X}"
    return f"contains an unpaired surrogate ({code}), which is not text and cannot be stored"


class Unreadable(Exception):
    """The body cannot be read as what its content type says (``where``, ``reason``)."""


def _json_texts(value: Any, where: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Every string of a parsed JSON value (keys too) with its path: ``body.profile.name``."""
    if depth > _JSON_DEPTH:
        raise Unreadable(where, f"the JSON is nested more than {_JSON_DEPTH} levels deep")
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}.{key}", key
            yield from _json_texts(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_texts(item, f"{where}[{index}]", depth + 1)


def _reads_forms(request: HttpRequest) -> bool:
    """Whether the request's view gets its form body parsed anyway (CSRF reads ``POST`` for
    every view not exempt from it). Exempt views (boot, the Open API, webhooks) read the raw
    body themselves, which parsing it here would consume."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return not getattr(match.func, "csrf_exempt", False)


def _body_texts(request: HttpRequest) -> Iterator[tuple[str, str]]:
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if (
        content_type in ("multipart/form-data", "application/x-www-form-urlencoded")
        and request.method == "POST"
        and _reads_forms(request)
    ):
        # Parsed once here, as CSRF would; a file's name is text we store (the import tag).
        try:
            request.POST  # noqa: B018  # parse now: a broken body is this check's 400
        except MultiPartParserError as exc:
            raise Unreadable("body", f"the multipart body cannot be read: {exc}") from None
        for key, values in request.POST.lists():
            yield "body", key
            for value in values:
                yield f"body.{key}", value
        for key, files in request.FILES.lists():
            for upload in files:
                yield f"body.{key}", upload.name or ""
        return
    body = request.body
    if not body or _SUSPECT_BODY.search(body) is None:
        return
    try:
        data = json.loads(body)
    except RecursionError:
        raise Unreadable(
            "body", f"the JSON is nested more than {_JSON_DEPTH} levels deep"
        ) from None
    except ValueError:  # not JSON (UnicodeDecodeError is one): the view says so
        if b"\x00" in body:
            yield "body", "\x00"
        return
    yield from _json_texts(data, "body")


def request_texts(request: HttpRequest) -> Iterator[tuple[str, str]]:
    """Every piece of text a request brings, with where it came from."""
    yield "path", request.path_info
    for key, values in request.GET.lists():
        yield "query", key
        for value in values:
            yield f"query.{key}", value
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str):
            yield f"header.{name[5:].replace('_', '-').title()}", value
    for key, value in request.COOKIES.items():  # unquoted: "a\\000b" is a NUL only now
        yield "cookie", key
        yield f"cookie.{key}", value
    yield from _body_texts(request)


def refused(request: HttpRequest) -> HttpResponse | None:
    """The 400 for a request carrying text PostgreSQL cannot store; None when it carries none."""
    try:
        for where, text in request_texts(request):
            reason = unstorable_reason(text)
            if reason is not None:
                return _bad_request(request, where, reason)
    except Unreadable as exc:
        where, reason = exc.args
        return _bad_request(request, where, reason)
    except RequestDataTooBig:  # Django's own limit: an HTML 400 without a reason otherwise
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        reason = f"the body is over {limit} bytes, more than this server reads"
        return _bad_request(request, "body", reason, status=413)
    return None


def _bad_request(
    request: HttpRequest, where: str, reason: str, *, status: int = 400
) -> HttpResponse:
    # Where it was, with the bad character itself shown as its escape, never sent back.
    shown = _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", where)
    response = JsonResponse({"errors": {shown: reason}}, status=status)
    if request.path_info.startswith("/front/"):
        response["Access-Control-Allow-Origin"] = "*"  # the widget must read why (boot's CORS)
    return response


class StorableTextMiddleware:
    """Answers 400 before anything else reads a request carrying text PostgreSQL cannot store."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return refused(request) or self.get_response(request)

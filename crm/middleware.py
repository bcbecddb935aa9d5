"""The signed-in manager's language for every back-office page (R11.1)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from crm.languages import manager_language

# Answers for programs, not people (R11.3): the Open API, the widget's boot, builder webhooks.
DATA_PATHS = ("/open/", "/front/", "/builders/webhooks/")


class ManagerLanguageMiddleware:
    """After LocaleMiddleware and authentication: a manager's language overrides the browser's,
    and the programs' endpoints always answer in English."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(DATA_PATHS):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
            return self.get_response(request)
        language = manager_language(getattr(request, "user", None))
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)

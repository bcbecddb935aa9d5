"""``POST /language/``: switch the back-office's language (R11.1).

A signed-in manager's choice is remembered on their account (every device, failure logs and bot
messages follow it); anyone else gets Django's language cookie. Django's ``set_language`` does
the cookie and the safe redirect to ``next``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from crm.services.managers import manager_language_set


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("language", "")
    if request.user.is_authenticated:
        try:
            manager_language_set(user=request.user, language=code)
        except ValidationError:
            return HttpResponseBadRequest(_("Choose Korean or English."))
    return set_language(request)

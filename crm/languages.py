"""Which language a manager reads the product in (R11.1), and running code in it.

A manager's choice wins; without one, the language of their channel's country
(``settings.LANGUAGE_BY_COUNTRY``: Korean for a Korean channel); without a channel, the request's
own (cookie, then Accept-Language, then ``LANGUAGE_CODE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Model, OuterRef, Subquery
from django.utils import translation

from crm.models import ManagerSettings, Membership


def supported(code: str | None) -> str | None:
    """``code`` when it is one of the product's languages (``ko-KR`` counts as ``ko``)."""
    if not code:
        return None
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in dict(settings.LANGUAGES) else None


def manager_language(user: Any) -> str | None:
    """The language ``user`` reads the back-office in; None leaves it to the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # One query: the manager's choice, and the country of their first channel (by membership).
    first_channel = Membership.objects.filter(user=OuterRef("pk")).order_by("pk")
    chosen, country = get_user_model().objects.filter(pk=user.pk).values_list(
        Subquery(ManagerSettings.objects.filter(user=OuterRef("pk")).values("language")[:1]),
        Subquery(first_channel.values("channel__country")[:1]),
    ).first() or (None, None)
    if chosen:
        return str(chosen)
    if country is None:
        return None
    return settings.LANGUAGE_BY_COUNTRY.get(str(country))


@contextmanager
def in_language_of(user: Any) -> Iterator[str]:
    """Run a block (a task, a bot message, a failure log) in ``user``'s language; without a
    user (a job started by a script or the API), in ``LANGUAGE_CODE``."""
    language = manager_language(user) or settings.LANGUAGE_CODE
    with translation.override(language):
        yield language


def requester_of(model: type[Model], job_id: int) -> Any:
    """The manager who started a background job (its ``requested_by``), or None."""
    if not any(f.name == "requested_by" for f in model._meta.fields):
        return None
    job = model._default_manager.select_related("requested_by").filter(pk=job_id).first()
    return getattr(job, "requested_by", None)

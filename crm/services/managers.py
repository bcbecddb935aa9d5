"""A manager's own settings (R11.1: the language they read the back-office in)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.models import ManagerSettings


def manager_language_set(*, user: User, language: str) -> ManagerSettings:
    """Remember ``language`` (a code of settings.LANGUAGES, or "" for the channel's) for ``user``."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(
            {
                "language": _("%(language)s is not a language of the back-office.")
                % {"language": language}
            }
        )
    row, _created = ManagerSettings.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return row

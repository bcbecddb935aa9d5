"""Look-ups the management commands share: the `--manager USERNAME` option of every command."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext


def manager_named(username: str | None) -> Any:
    """The manager a command acts as, None without `--manager`; an unknown name stops the command."""
    if not username:
        return None
    manager = get_user_model().objects.filter(username=username).first()
    if manager is None:
        raise CommandError(gettext("No manager %(name)s.") % {"name": username})
    return manager

"""The builders app: Cafe24, Shopify, MakeShop, Shopby and imweb webhooks and pulls."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BuildersConfig(AppConfig):
    name = "builders"
    verbose_name = _("Site builders")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from builders import tasks  # noqa: F401  (tasks registered: services queue them by name)

"""The builders app: Cafe24, Shopify, MakeShop, Shopby and imweb webhooks and pulls."""

from __future__ import annotations

from django.apps import AppConfig


class BuildersConfig(AppConfig):
    name = "builders"
    verbose_name = "Site builders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from builders import tasks  # noqa: F401  (tasks registered: services queue them by name)

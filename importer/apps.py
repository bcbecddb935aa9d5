"""The importer app: reading, mapping and importing customer files."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImporterConfig(AppConfig):
    name = "importer"
    verbose_name = _("Customer import")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from importer import journal, tasks, timeline  # noqa: F401  (receivers, tasks, timeline source)

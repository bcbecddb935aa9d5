"""The importer app: reading, mapping and importing customer files."""

from __future__ import annotations

from django.apps import AppConfig


class ImporterConfig(AppConfig):
    name = "importer"
    verbose_name = "Customer import"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from importer import journal, tasks, timeline  # noqa: F401  (receivers, tasks, timeline source)

"""The crm app: channels, managers and roles, customers, profile keys, tags, activity log."""

from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Contacts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm import signals, tasks  # noqa: F401  (receivers connected; tasks registered)
        from crm.jobs import worker

        worker.connect()  # the job runtime's reaper and SIGTERM hand-back, in Celery workers


class ContactsAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with the back-office's site (``crm.admin_site``)."""

    default = False  # "crm" is CrmConfig; this one is named in INSTALLED_APPS

    default_site = "crm.admin_site.ContactsAdminSite"

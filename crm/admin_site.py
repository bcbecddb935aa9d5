"""The back-office's admin site: Django's, with the navigation built only when a page shows it.

Django's ``each_context`` builds ``available_apps`` (every registered model, with its add,
change, delete and view rights, and their URLs) for every admin page, and only the sidebar and
the start page read it; the contacts list shows neither (issue 15: two queries and a few
milliseconds a page). Here it is built on first use.

It lives outside ``crm.admin`` because Django imports it while that package registers its models
(``crm.apps.ContactsAdminConfig.default_site``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


class ContactsAdminSite(admin.AdminSite):
    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> Any:
        """Django's app list, built when a template first reads it."""
        build = super().get_app_list
        return SimpleLazyObject(lambda: build(request, app_label))

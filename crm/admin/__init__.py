"""The back-office on the Django admin: contacts, profile keys, channels, activity log.

Every ModelAdmin here is a ``crm.admin.scoping.ChannelScopedAdmin`` (R8.2).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin import blocked, channels, chat_forms, contacts, conversations, profile_keys

admin.site.site_header = _("Contacts")
admin.site.site_title = _("Contacts")
admin.site.index_title = _("Back-office")
admin.site.site_url = None  # "/" leads to the contacts list; no separate public site

__all__ = ["blocked", "channels", "chat_forms", "contacts", "conversations", "profile_keys"]

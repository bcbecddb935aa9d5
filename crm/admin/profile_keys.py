"""Profile keys per channel (R1.2): built-ins marked; custom keys created through the service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import ChannelScopedAdmin
from crm.forms import ProfileKeyCreateForm
from crm.models import ProfileKey


@admin.register(ProfileKey)
class ProfileKeyAdmin(ChannelScopedAdmin[ProfileKey]):
    view_perm = "view_customers"
    list_title = _("Profile keys")
    add_perm = "manage_profile_keys"
    change_perm = None  # a key's name and type are fixed once values exist
    delete_perm = None

    list_display = ("key", "label", "type", "builtin", "channel", "created_at")
    list_display_links = ("key",)
    list_filter = ("channel", "builtin", "type")
    list_select_related = ("channel",)
    search_fields = ("key", "label")
    ordering = ("channel__name", "-builtin", "key")
    fields = ("channel", "key", "label", "type", "builtin", "created_at")
    readonly_fields = ("builtin", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ProfileKey | None = None) -> Any:
        if obj is not None:
            return self.fields
        return self.readonly_fields

    def get_form(
        self,
        request: HttpRequest,
        obj: ProfileKey | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[ProfileKey]]:
        if obj is None:
            kwargs["form"] = type(
                "ProfileKeyCreateForm", (ProfileKeyCreateForm,), {"by": request.user}
            )
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: ProfileKey, form: Any, change: bool) -> None:
        # The form's clean() created the key through crm.services.profile_keys.
        pass

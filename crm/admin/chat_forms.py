"""Input forms in the back-office (R1.6): a manager who may edit customers builds a form from the
channel's profile keys, a label per field in Korean and English, required or not. Saved through
``crm.services.chat_forms.chat_form_save``; sent from a chat's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import ChannelScopedAdmin, channels_with, holds
from crm.models import ChatForm, ChatFormField, ProfileKey
from crm.services.chat_forms import NOT_ASKABLE, chat_form_fields_clean, chat_form_save


def _rows(formsets: Any) -> list[dict[str, Any]]:
    """The fields as entered, in order, without the blank and the deleted rows."""
    return [
        form.cleaned_data
        for formset in formsets
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class ChatFormFieldFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.instance.channel_id is None:
            return  # each row's own errors, or the form's missing channel, say it first
        try:
            chat_form_fields_clean(self.instance.channel, _rows([self]))
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class ChatFormFieldInline(admin.TabularInline):
    model = ChatFormField
    formset = ChatFormFieldFormSet
    fields = ("key", "label_ko", "label_en", "required")
    extra = 3
    max_num = ChatForm.MAX_FIELDS
    ordering = ("position", "id")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "key":
            # The keys of the manager's channels (one channel for nearly everyone); the formset
            # checks them against the form's own channel.
            channels = channels_with(request, "change_customers")
            names = sorted(
                set(
                    ProfileKey.objects.filter(channel__in=channels)
                    .exclude(key__in=NOT_ASKABLE)
                    .values_list("key", flat=True)
                )
            )
            return forms.ChoiceField(
                label=_("profile key"), choices=[("", "---------"), *((n, n) for n in names)]
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _may(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request, "change_customers", None if obj is None else obj.channel_id)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request, "view_customers", None if obj is None else obj.channel_id)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)


@admin.register(ChatForm)
class ChatFormAdmin(ChannelScopedAdmin[ChatForm]):
    view_perm = "view_customers"
    add_perm = "change_customers"
    change_perm = "change_customers"
    delete_perm = "change_customers"
    list_title = _("Input forms")
    list_display = ("name", "channel", "asked", "updated_at")
    list_filter = ("channel",)
    search_fields = ("name",)
    fields = ("channel", "name")
    inlines = (ChatFormFieldInline,)

    @admin.display(description=_("Profile keys"))
    def asked(self, obj: ChatForm) -> str:
        return ", ".join(field.key for field in obj.form_fields.all())

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("form_fields")

    def get_readonly_fields(self, request: HttpRequest, obj: ChatForm | None = None) -> Any:
        return ("channel",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: ChatForm, form: Any, change: bool) -> None:
        pass  # saved with its fields in save_related, through the service

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        instance = form.instance
        saved = chat_form_save(
            channel=instance.channel,
            name=form.cleaned_data["name"],
            fields=_rows(formsets),
            form=instance if change else None,
            by=request.user,
        )
        instance.pk = saved.pk
        for formset in formsets:  # what the admin's change message reads from a saved formset
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

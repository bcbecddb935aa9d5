"""Forms of the back-office: adding a lead, editing a customer's profile, creating a profile key.

They only parse and present: the writes are crm.services calls, whose ValidationErrors (named by
profile key) land on the matching form field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm.models import Channel, Customer, ProfileKey, ProfileKeyType
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.selectors import customer_profile
from crm.services.customers import customer_update
from crm.services.profile_keys import profile_key_create
from crm.types import Actor
from crm.values.parsers import (
    DATE_FORMATS,
    EMAIL_FORMATS,
    LANDLINE_FORMATS,
    LIST_FORMATS,
    MOBILE_FORMATS,
    NUMBER_FORMATS,
    NUMBER_LIST_FORMATS,
    TAG_FORMATS,
)

_FORMATS_BY_KEY: dict[str, str] = {
    "email": EMAIL_FORMATS,
    "mobileNumber": MOBILE_FORMATS,
    "landlineNumber": LANDLINE_FORMATS,
}
_FORMATS_BY_TYPE: dict[str, str] = {
    ProfileKeyType.NUMBER: NUMBER_FORMATS,
    ProfileKeyType.DATE: DATE_FORMATS,
    ProfileKeyType.DATETIME: DATE_FORMATS,
    ProfileKeyType.LIST: LIST_FORMATS,
    ProfileKeyType.NUMBER_LIST: NUMBER_LIST_FORMATS,
    ProfileKeyType.TAG: TAG_FORMATS,
}
_LIST_TYPES = frozenset({ProfileKeyType.LIST, ProfileKeyType.NUMBER_LIST, ProfileKeyType.TAG})
_BOOLEAN_CHOICES = (("", _("Not set")), ("true", _("Yes")), ("false", _("No")))


def add_service_errors(
    form: forms.BaseForm, error: ValidationError, field_for_key: Mapping[str, str]
) -> None:
    """Put a service's ValidationError on the form: per-key messages on the key's field."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        field = field_for_key.get(key)
        for message in errors:
            text = " ".join(message.messages)
            if field is not None and field in form.fields:
                form.add_error(field, text)
            else:
                form.add_error(None, f"{key}: {text}")


# --- Add lead (R1.1) ------------------------------------------------------------------------


class LeadAddForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.none(), empty_label=None)
    email = forms.CharField(required=False, max_length=512, help_text=EMAIL_FORMATS)
    mobile_number = forms.CharField(
        label=_("Mobile number"),
        required=False,
        max_length=64,
        help_text=MOBILE_FORMATS,
        widget=forms.TextInput(attrs={"placeholder": "+82 10-2020-3030"}),
    )
    name = forms.CharField(required=False, max_length=512)

    # The service names errors by profile key.
    FIELD_FOR_KEY: ClassVar[dict[str, str]] = {
        "email": "email",
        "mobileNumber": "mobile_number",
        "name": "name",
    }

    def __init__(self, *args: Any, channels: QuerySet[Channel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["channel"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = channels
        if channels.count() == 1:
            field.widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("email") and not cleaned.get("mobile_number"):
            raise ValidationError(_("Give an email or a mobile number: one suffices."))
        return cleaned


# --- A customer's profile -------------------------------------------------------------------


def profile_field_name(key: str) -> str:
    """The form field of a profile key (prefixed: ``name`` and ``email`` are model fields too)."""
    return f"key_{key}"


def display_value(type_: str, value: object) -> str:
    """A stored profile value as the text a manager types to set it again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if type_ in _LIST_TYPES or isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _profile_field(profile_key: ProfileKey) -> forms.Field:
    formats = _FORMATS_BY_KEY.get(profile_key.key) or _FORMATS_BY_TYPE.get(profile_key.type, "")
    kind = (_("%(type)s, built-in") if profile_key.builtin else _("%(type)s, custom")) % {
        "type": ProfileKeyType(profile_key.type).label
    }
    help_text = format_lazy("{}: {}", kind, formats) if formats else kind
    label = profile_key.key + (f" ({profile_key.label})" if profile_key.label else "")
    if profile_key.type == ProfileKeyType.BOOLEAN:
        return forms.ChoiceField(
            label=label, choices=_BOOLEAN_CHOICES, required=False, help_text=help_text
        )
    widget: forms.Widget = forms.TextInput(attrs={"class": "vTextField"})
    if profile_key.type in _LIST_TYPES:
        widget = forms.Textarea(attrs={"rows": 2, "cols": 60, "class": "vLargeTextField"})
    return forms.CharField(label=label, required=False, help_text=help_text, widget=widget)


def ordered_profile_keys(keys: Mapping[str, ProfileKey]) -> list[ProfileKey]:
    """Built-in keys in their usual order, then custom keys by name."""
    builtin = [keys[name] for name in BUILTIN_FIELDS if name in keys]
    custom = sorted((k for k in keys.values() if k.key not in BUILTIN_FIELDS), key=lambda k: k.key)
    return builtin + custom


class CustomerProfileForm(forms.ModelForm):
    """The customer change form: one field per profile key of the channel.

    Built per channel and user by ``customer_form_class``. Validation is the service's: clean()
    calls ``customer_update`` (inside the admin's transaction), so every rule it enforces — the
    value formats, the R1.3 limits, a memberId already taken — shows on the form.
    """

    profile_keys: ClassVar[list[ProfileKey]] = []
    by: ClassVar[Actor] = None

    class Meta:
        model = Customer
        fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            stored = customer_profile(self.instance)
            for profile_key in self.profile_keys:
                name = profile_field_name(profile_key.key)
                if name in self.fields:
                    self.initial[name] = display_value(
                        profile_key.type, stored.get(profile_key.key)
                    )
        self.changed_keys: list[str] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or not self.instance.pk:
            return cleaned
        by_field = {profile_field_name(k.key): k.key for k in self.profile_keys}
        values = {
            by_field[name]: cleaned.get(name) or None
            for name in self.changed_data
            if name in by_field
        }
        if values:
            try:
                self.changed_keys = customer_update(
                    channel=self.instance.channel,
                    customer=self.instance,
                    values=values,
                    by=self.by,
                )
            except ValidationError as exc:
                add_service_errors(self, exc, {key: name for name, key in by_field.items()})
        return cleaned


def customer_form_class(*, profile_keys: list[ProfileKey], by: Actor) -> type[CustomerProfileForm]:
    """A CustomerProfileForm with a field per profile key of one channel."""
    attrs: dict[str, Any] = {profile_field_name(k.key): _profile_field(k) for k in profile_keys}
    attrs.update(profile_keys=profile_keys, by=by, __module__=__name__)
    return type("CustomerProfileForm", (CustomerProfileForm,), attrs)


# --- Profile keys (R1.2) --------------------------------------------------------------------


class ProfileKeyCreateForm(forms.ModelForm):
    """Create a custom profile key through ``profile_key_create``, which validates it (in clean,
    so that its errors show on the form; the admin's transaction holds the write)."""

    by: ClassVar[Actor] = None

    class Meta:
        model = ProfileKey
        fields = ("channel", "key", "label", "type")
        help_texts = {
            "key": _(
                "Letters, digits and _; starts with a letter. Import headers with this "
                "name map to it."
            ),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            self.instance = profile_key_create(
                channel=cleaned["channel"],
                key=cleaned["key"],
                type=cleaned["type"],
                label=cleaned.get("label") or "",
                by=self.by,
            )
        except ValidationError as exc:
            add_service_errors(self, exc, {"key": "key", "type": "type", "label": "label"})
        return cleaned

    def validate_unique(self) -> None:
        # The service checks uniqueness, case-insensitively (keys match file headers so).
        pass

"""Typed profile keys: the built-ins every channel has and the custom ones managers create."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProfileKeyType(models.TextChoices):
    STRING = "string", _("String")
    NUMBER = "number", _("Number")
    BOOLEAN = "boolean", _("Boolean")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    LIST = "list", _("List of strings")
    NUMBER_LIST = "numberList", _("List of numbers")
    TAG = "tag", _("Tag")


# Built-in keys (R1.2) are columns of Customer; their parsers are chosen by name
# (crm.values.parser_for), so email and phone numbers are validated whatever the type says.
BUILTIN_KEYS: dict[str, str] = {
    "name": ProfileKeyType.STRING,
    "email": ProfileKeyType.STRING,
    "mobileNumber": ProfileKeyType.STRING,
    "landlineNumber": ProfileKeyType.STRING,
    "memberId": ProfileKeyType.STRING,
    "unsubscribeEmail": ProfileKeyType.BOOLEAN,
    "unsubscribeTexting": ProfileKeyType.BOOLEAN,
}

# Model attribute of each built-in key.
BUILTIN_FIELDS: dict[str, str] = {
    "name": "name",
    "email": "email",
    "mobileNumber": "mobile_number",
    "landlineNumber": "landline_number",
    "memberId": "member_id",
    "unsubscribeEmail": "unsubscribe_email",
    "unsubscribeTexting": "unsubscribe_texting",
}


class ProfileKey(models.Model):
    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="profile_keys",
        verbose_name=_("channel"),
    )
    key = models.CharField(max_length=64, verbose_name=_("key"))
    label = models.CharField(max_length=200, blank=True, verbose_name=_("label"))
    type = models.CharField(max_length=16, choices=ProfileKeyType.choices, verbose_name=_("type"))
    builtin = models.BooleanField(default=False, verbose_name=_("builtin"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("profile key")
        verbose_name_plural = _("profile keys")
        ordering = ["-builtin", "key"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="profile_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.type})"

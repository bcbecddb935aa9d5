"""Typed profile keys: the built-ins every channel has and the custom ones managers create."""

from __future__ import annotations

from django.db import models


class ProfileKeyType(models.TextChoices):
    STRING = "string", "String"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Boolean"
    DATE = "date", "Date"
    DATETIME = "datetime", "Date and time"
    LIST = "list", "List of strings"
    NUMBER_LIST = "numberList", "List of numbers"
    TAG = "tag", "Tag"


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
        "crm.Channel", on_delete=models.CASCADE, related_name="profile_keys"
    )
    key = models.CharField(max_length=64)
    label = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=16, choices=ProfileKeyType.choices)
    builtin = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-builtin", "key"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="profile_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.type})"

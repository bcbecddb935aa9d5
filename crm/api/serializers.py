"""What the Open API reads and answers, declared for the OpenAPI schema (R6.5). Values are not
parsed here: the upsert service runs them through the parsers every write path uses."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import CustomerType


@extend_schema_field({"type": "boolean"})  # allow_null adds "null"
class StrictBoolean(serializers.Field):
    """A JSON boolean, or null (keep the stored value). The schema says boolean, so nothing
    else is taken for one (issue 14: ``0`` was accepted as false)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            raise serializers.ValidationError(gettext("must be true, false or null"))
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class StrictText(serializers.CharField):
    """A JSON string: a number is not taken for one (the schema says string)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(gettext("must be a string"))
        return str(super().to_internal_value(data))


@extend_schema_field(
    {"type": "object", "additionalProperties": True, "description": _("profile key → value")}
)
class ProfileValues(serializers.JSONField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(gettext("must be a JSON object of profile keys"))
        return data


_FLAG_HELP = _("true or false; null or absent keeps the stored value (a new user needs it)")


class UpsertSerializer(serializers.Serializer[Any]):
    profile = ProfileValues(required=False, help_text=_("values to set; null clears a key"))
    profileOnce = ProfileValues(
        required=False, help_text=_("values set only where the key is empty now")
    )
    tags = serializers.ListField(
        child=StrictText(trim_whitespace=False),
        required=False,
        allow_null=True,
        help_text=_("the user's tags: replaces the list (max 200; `a/b` for two levels)"),
    )
    unsubscribeEmail = StrictBoolean(help_text=_FLAG_HELP)
    unsubscribeTexting = StrictBoolean(help_text=_FLAG_HELP)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: gettext("not a field of this request") for key in unknown}
                )
        return super().to_internal_value(data)


class UserSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=CustomerType.choices)
    verified = serializers.BooleanField()
    memberId = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_null=True)
    mobileNumber = serializers.CharField(allow_null=True)
    landlineNumber = serializers.CharField(allow_null=True)
    unsubscribeEmail = serializers.BooleanField(allow_null=True)
    unsubscribeTexting = serializers.BooleanField(allow_null=True)
    profile = serializers.DictField(help_text=_("custom profile keys → values"))
    tags = serializers.ListField(child=serializers.CharField())
    importTags = serializers.ListField(
        child=serializers.CharField(), help_text=_("oldest first (at most 30)")
    )
    blocked = serializers.BooleanField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    lastSeenAt = serializers.DateTimeField(allow_null=True)


class UserEnvelopeSerializer(serializers.Serializer[Any]):
    user = UserSerializer()


class UpsertedSerializer(UserEnvelopeSerializer):
    created = serializers.BooleanField()


class UserPageSerializer(serializers.Serializer[Any]):
    users = UserSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text=_("the `since` of the next page"))


def closed_request_bodies(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular hook: request bodies refuse fields they do not name (UpsertSerializer
    answers 400 "not a field of this request"), and the schema says so."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


class ErrorSerializer(serializers.Serializer[Any]):
    errors = serializers.DictField(  # type: ignore[assignment]  # a field, not Serializer.errors
        child=serializers.CharField(), help_text=_("what → why")
    )

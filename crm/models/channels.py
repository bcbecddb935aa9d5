"""Channels (tenants), the managers who belong to them, and the per-channel permissions."""

from __future__ import annotations

import functools
import secrets
import zoneinfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


def _token(nbytes: int) -> str:
    return secrets.token_urlsafe(nbytes)


def new_plugin_key() -> str:
    return _token(18)


def new_access_key() -> str:
    return _token(12)


def new_member_hash_secret() -> str:
    return _token(32)


DEFAULT_COUNTRY = "KR"
DEFAULT_TIME_ZONE = "Asia/Seoul"


def time_zone_names() -> frozenset[str]:
    """The IANA time zone names this machine knows (the tzdata package ships them everywhere)."""
    return _time_zone_names()


@functools.cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            _("%(value)s is not an IANA time zone name such as Asia/Seoul or Europe/Paris."),
            code="time_zone",
            params={"value": value},
        )


def validate_phone_country(value: str) -> None:
    """The country must have a numbering plan phonenumbers knows: national numbers are read in
    it (R2.13a). Only a few uninhabited territories (Antarctica, Bouvet Island…) lack one."""
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            _(
                "%(value)s has no telephone numbering plan: choose the country whose numbers your "
                "customers have."
            ),
            code="country",
            params={"value": value},
        )


class Channel(models.Model):
    """One business's workspace. Every tenant row carries its channel."""

    slug = models.SlugField(max_length=64, unique=True, verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    plugin_key = models.CharField(
        max_length=64, unique=True, default=new_plugin_key, verbose_name=_("plugin key")
    )
    access_key = models.CharField(
        max_length=64, unique=True, default=new_access_key, verbose_name=_("access key")
    )
    # Only a SHA-256 of the API secret is kept: it is shown once, when the channel is created.
    access_secret_hash = models.CharField(max_length=64, verbose_name=_("access secret hash"))
    member_hash_secret = models.CharField(
        max_length=128, default=new_member_hash_secret, verbose_name=_("member hash secret")
    )
    member_hash_required = models.BooleanField(
        default=False,
        help_text=_("Boots with a memberId must carry a valid memberHash."),
        verbose_name=_("member hash required"),
    )
    detailed_audit = models.BooleanField(
        default=False,
        help_text=_("Log an activity entry for every customer an import changes."),
        verbose_name=_("detailed audit"),
    )
    # R2.13a: national numbers (010-1234-5678) that managers enter are read in this country;
    # R11.2: phone numbers are shown in its national format.
    country = CountryField(
        _("country"),
        default=DEFAULT_COUNTRY,
        validators=[validate_phone_country],
        help_text=_("Phone numbers written without a country code are read in this country."),
    )
    # R11.2: dates and times are shown in this zone (storage is UTC).
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=DEFAULT_TIME_ZONE,
        validators=[validate_time_zone],
        help_text=_("Dates and times are shown in this time zone."),
    )
    # R1.6: when a manager replies to a customer the channel cannot reach, the chat asks for an
    # email or mobile number; blank wording: the product's default in that language.
    follow_up_enabled = models.BooleanField(
        default=True,
        verbose_name=_("follow-up on replies"),
        help_text=_(
            "When a manager replies to a customer without an email or mobile number, the chat "
            "asks for one."
        ),
    )
    follow_up_text_ko = models.CharField(
        max_length=500,
        blank=True,
        default="",
        verbose_name=_("follow-up wording (Korean)"),
        help_text=_("Empty: the default wording."),
    )
    follow_up_text_en = models.CharField(
        max_length=500,
        blank=True,
        default="",
        verbose_name=_("follow-up wording (English)"),
        help_text=_("Empty: the default wording."),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["name"]
        permissions = [
            ("view_customers", "View customers"),
            ("change_customers", "Add and edit customers"),
            ("delete_customers", "Delete customers"),
            ("block_customers", "Block and unblock customers"),
            ("import_customers", "Import customers"),
            ("manage_profile_keys", "Manage profile keys"),
            ("manage_managers", "Manage the channel's managers"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    AGENT = "agent", _("Agent")


CHANNEL_PERMISSIONS = (
    "view_customers",
    "change_customers",
    "delete_customers",
    "block_customers",
    "import_customers",
    "manage_profile_keys",
    "manage_managers",
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(CHANNEL_PERMISSIONS),
    Role.ADMIN: frozenset(CHANNEL_PERMISSIONS) - {"manage_managers"},
    Role.AGENT: frozenset({"view_customers", "change_customers", "block_customers"}),
}


class Membership(models.Model):
    """A manager's role in one channel; the role's grants live in ChannelUserObjectPermission."""

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("channel")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(max_length=16, choices=Role.choices, verbose_name=_("role"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["channel", "user"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["channel"], condition=models.Q(role="owner"), name="one_owner_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.channel}"


# django-guardian's direct foreign-key permission tables: a real FK (deleted with the channel,
# joinable, indexable) instead of the generic object_pk string.
class ChannelUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(
        Channel, on_delete=models.CASCADE, verbose_name=_("content object")
    )


class ChannelGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(
        Channel, on_delete=models.CASCADE, verbose_name=_("content object")
    )

"""Creating channels: the tenant, its built-in profile keys, its owner and API credentials."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from crm.models import BUILTIN_KEYS, ActivityLog, Channel, ProfileKey, Role
from crm.models.channels import DEFAULT_COUNTRY, DEFAULT_TIME_ZONE
from crm.services.activity import activity_record
from crm.services.memberships import membership_set
from crm.types import Actor

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def access_secret_matches(channel: Channel, secret: str) -> bool:
    return hmac.compare_digest(channel.access_secret_hash, hash_secret(secret))


@dataclass(frozen=True)
class NewChannel:
    channel: Channel
    access_secret: str  # shown once; only its hash is stored


_LOCALE = ("country", "time_zone")


def _checked_locale(channel: Channel) -> None:
    """Validates the channel's country and time zone (upper-casing the country first), raising a
    ValidationError keyed by the field."""
    channel.country = str(channel.country or "").strip().upper()
    channel.time_zone = (channel.time_zone or "").strip()
    channel.full_clean(exclude=[f.name for f in Channel._meta.fields if f.name not in _LOCALE])


@transaction.atomic
def channel_create(
    *,
    slug: str,
    name: str,
    owner: User,
    country: str = DEFAULT_COUNTRY,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> NewChannel:
    if not _SLUG.match(slug):
        raise ValidationError(
            {
                "slug": gettext(
                    "%(slug)s is not a valid slug: lower-case letters, digits and '-', 1-64 long"
                )
                % {"slug": repr(slug)}
            }
        )
    if Channel.objects.filter(slug=slug).exists():
        raise ValidationError(
            {
                "slug": gettext("a channel with the slug %(slug)s already exists")
                % {"slug": repr(slug)}
            }
        )
    if not name.strip():
        raise ValidationError({"name": gettext("the channel needs a name")})
    access_secret = secrets.token_urlsafe(32)
    channel = Channel(
        slug=slug,
        name=name.strip(),
        access_secret_hash=hash_secret(access_secret),
        country=country,
        time_zone=time_zone,
    )
    _checked_locale(channel)
    channel.save()
    ProfileKey.objects.bulk_create(
        ProfileKey(channel=channel, key=key, type=type_, builtin=True)
        for key, type_ in BUILTIN_KEYS.items()
    )
    activity_record(
        channel=channel,
        actor=owner,
        action=ActivityLog.Action.CHANNEL_CREATE,
        via=ActivityLog.Via.COMMAND,
        detail={"slug": slug},
    )
    membership_set(channel=channel, user=owner, role=Role.OWNER, by=owner)
    return NewChannel(channel=channel, access_secret=access_secret)


@transaction.atomic
def channel_rotate_access_secret(
    *, channel: Channel, by: Actor = None, via: str = ActivityLog.Via.COMMAND
) -> str:
    """A new Open API secret for the channel (R8.4), returned once: only its hash is kept, so
    the old secret stops at the next request. Logged in the activity log (never the secret)."""
    secret = secrets.token_urlsafe(32)
    channel.access_secret_hash = hash_secret(secret)
    channel.save(update_fields=["access_secret_hash"])
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CHANNEL_EDIT,
        via=via,
        detail={"accessSecret": "rotated"},
    )
    return secret


@transaction.atomic
def channel_set_locale(*, channel: Channel, country: str, time_zone: str, by: User) -> Channel:
    """Changes the channel's country (R2.13a: national numbers are read in it) and time zone."""
    before = {"country": str(channel.country), "time_zone": channel.time_zone}
    channel.country = country
    channel.time_zone = time_zone
    _checked_locale(channel)
    after = {"country": str(channel.country), "time_zone": channel.time_zone}
    return channel_settings_saved(channel=channel, before=before, after=after, by=by)


def channel_settings_saved(
    *, channel: Channel, before: Mapping[str, object], after: Mapping[str, object], by: Actor
) -> Channel:
    """Save the settings ``after`` (already on ``channel``) that differ from ``before``, with a
    ``channel.edit`` activity entry holding both; nothing when none changed."""
    if after == before:
        return channel
    channel.save(update_fields=list(after))
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CHANNEL_EDIT,
        via=ActivityLog.Via.HAND,
        detail={"before": dict(before), "after": dict(after)},
    )
    return channel

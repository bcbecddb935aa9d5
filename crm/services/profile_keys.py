"""Creating custom profile keys (R1.2)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from crm import display
from crm.models import ActivityLog, Channel, ProfileKey, ProfileKeyType
from crm.services.activity import activity_record
from crm.types import Actor
from crm.values import MAX_KEYS

KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@transaction.atomic
def profile_key_create(
    *,
    channel: Channel,
    key: str,
    type: str,
    label: str = "",
    by: Actor = None,
    via: str = ActivityLog.Via.HAND,
) -> ProfileKey:
    key = key.strip()
    if not KEY_PATTERN.match(key):
        raise ValidationError(
            {
                "key": gettext(
                    "%(key)s is not a valid key: start with a letter; letters, digits and _ only;"
                    " at most 64"
                )
                % {"key": repr(key)}
            }
        )
    if type not in ProfileKeyType.values:
        raise ValidationError(
            {
                "type": gettext("%(type)s is not a profile key type: use one of %(types)s")
                % {"type": repr(type), "types": ", ".join(ProfileKeyType.values)}
            }
        )
    # Keys are matched to file headers case-insensitively, so they must differ in more than case.
    clash = ProfileKey.objects.select_for_update().filter(channel=channel, key__iexact=key).first()
    if clash is not None:
        raise ValidationError(
            {"key": gettext("the channel already has the key %(key)s") % {"key": repr(clash.key)}}
        )
    # A channel never has more keys than one profile may hold (R1.3), so any mapping fits.
    if ProfileKey.objects.filter(channel=channel).count() >= MAX_KEYS:
        raise ValidationError(
            {
                "key": gettext("a channel has at most %(max)s profile keys")
                % {"max": display.count(MAX_KEYS)}
            }
        )
    profile_key = ProfileKey.objects.create(
        channel=channel, key=key, type=type, label=label.strip()
    )
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.PROFILE_KEY_CREATE,
        via=via,
        detail={"key": key, "type": type},
    )
    return profile_key

"""One way to show each kind of value (R11.2), used by every screen, message and export label.

Counts with thousands separators, date-times in the channel's time zone in the language's format
(config/formats), phone numbers in the national format of the channel's country (E.164 for a
number of another country). ``crm/templatetags/display.py`` makes them template filters.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.utils import formats, timezone

EMPTY = "—"


def count(value: int | None) -> str:
    """``200000`` -> ``200,000`` in both languages."""
    if value is None:
        return EMPTY
    return formats.number_format(value, decimal_pos=0, force_grouping=True)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def channel_zone(channel: Any = None) -> ZoneInfo:
    """The channel's time zone (settings.TIME_ZONE without a channel)."""
    return _zone(getattr(channel, "time_zone", None) or settings.TIME_ZONE)


def when(value: datetime | date | None, channel: Any = None) -> str:
    """A date-time in the channel's zone, in the active language's format."""
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(channel_zone(channel))
        return formats.date_format(value, "DATETIME_FORMAT")
    return formats.date_format(value, "DATE_FORMAT")


def phone(value: str | None, channel: Any = None) -> str:
    """An E.164 number in the national format of the channel's country, E.164 otherwise."""
    if not value:
        return EMPTY
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    country = str(getattr(channel, "country", "") or "KR")
    if phonenumbers.region_code_for_number(number) == country:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

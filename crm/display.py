"""One way to show each kind of value (R11.2), used by every screen, message and export label.

Counts with thousands separators, date-times in the channel's time zone in the language's format
(config/formats), phone numbers in the national format of the channel's country (E.164 for a
number of another country). ``crm/templatetags/display.py`` makes them template filters.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.utils import dateformat, formats, timezone
from phonenumbers import PhoneMetadata, PhoneNumber

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


@lru_cache(maxsize=64)
def _format_pieces(format_string: str) -> tuple[tuple[bool, str], ...]:
    """A date format split as ``django.utils.dateformat`` splits it on every call: each piece a
    format character (True) or literal text (False, its backslash escapes removed)."""
    pieces = []
    for i, piece in enumerate(dateformat.re_formatchars.split(format_string)):
        if i % 2:
            pieces.append((True, piece))
        elif piece:
            pieces.append((False, dateformat.re_escaped.sub(r"\1", piece)))
    return tuple(pieces)


def _datetime_format(value: datetime, format_string: str) -> str:
    """``dateformat.format(value, format_string)`` of a date-time, the format split once per
    process rather than for every value (a quarter of the cost; two per contacts row, issue 15)."""
    formatter = dateformat.DateFormat(value)
    return "".join(
        str(getattr(formatter, piece)()) if is_char else piece
        for is_char, piece in _format_pieces(str(format_string))
    )


def when(value: datetime | date | None, channel: Any = None) -> str:
    """A date-time in the channel's zone, in the active language's format."""
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(channel_zone(channel))
        return _datetime_format(value, formats.get_format("DATETIME_FORMAT"))
    return formats.date_format(value, "DATE_FORMAT")


_E164 = re.compile(r"\+[1-9][0-9]{2,19}")


def _e164_number(value: str) -> PhoneNumber | None:
    """What ``phonenumbers.parse(value, None)`` makes of a plain E.164 number (how numbers are
    stored), without its general parser: half the cost of a phone shown in a list (issue 15).
    None where parse could read it differently: a national part starting with 0 or with the
    country's national prefix, a length parse refuses, an unknown country code."""
    if not _E164.fullmatch(value):
        return None
    digits = value[1:]
    for size in (1, 2, 3):  # country codes are prefix-free: the first one found is the one
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            rest = digits[size:]
            break
    else:
        return None
    if not 2 <= len(rest) <= 17 or rest[0] == "0":
        return None
    region = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix and re.match(prefix, rest):
        return None
    return PhoneNumber(country_code=code, national_number=int(rest))


def phone(value: str | None, channel: Any = None) -> str:
    """An E.164 number in the national format of the channel's country, E.164 otherwise."""
    if not value:
        return EMPTY
    number = _e164_number(value)
    if number is None:
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return value
    country = str(getattr(channel, "country", "") or "KR")
    if phonenumbers.region_code_for_number(number) == country:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

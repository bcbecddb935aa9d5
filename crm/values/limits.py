"""R1.3 size limits of a customer profile: per value (used by the parsers) and whole profile."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from django.utils.translation import gettext

from crm.values.dates import format_date, format_datetime
from crm.values.errors import InvalidValue

MAX_STRING = 512  # characters of a string, and of each string in a list or tag list
MAX_LIST_ITEMS = 200  # items of a list, a list of numbers or a tag list
MAX_KEYS = 256  # keys of one profile
MAX_PROFILE_BYTES = 15 * 1024  # UTF-8 bytes of the whole profile as compact JSON (15 KB)

# Most bytes one character can take in compact UTF-8 JSON: a control character is \u0000.
_MAX_BYTES_PER_CHAR = 6
# Most bytes of a scalar that is not text: a float's repr, a date or datetime, true/false/null.
_MAX_BYTES_PER_SCALAR = 32


def check_profile(profile: Mapping[str, object]) -> None:
    """Refuse a profile that breaks an R1.3 limit, naming the key (where one is to blame) and the limit.

    The profile is the JSON-storable form (``to_json`` values); dates and datetimes are also
    accepted and measured as they will be stored. Per-value limits are checked again here because
    a value may reach a profile without passing through a parser (a merge in unification, a boot).
    """
    if len(profile) > MAX_KEYS:
        raise InvalidValue(
            gettext("the profile has %(count)s keys: a profile holds at most %(max)s keys")
            % {"count": len(profile), "max": MAX_KEYS}
        )
    # The same walk gives an upper bound of the JSON size; only a profile that might be too large
    # is encoded, which spares ~5 µs on the typical row of an import.
    bound = 2
    for key, value in profile.items():
        bound += _MAX_BYTES_PER_CHAR * len(key) + 4 + _check_value(key, value)
    if bound <= MAX_PROFILE_BYTES:
        return
    size = len(_ENCODER.encode(profile).encode())
    if size > MAX_PROFILE_BYTES:
        raise InvalidValue(
            gettext(
                "the profile is %(size)s bytes as JSON: a whole profile is at most 15 KB "
                "(%(max)s bytes of UTF-8)"
            )
            % {"size": f"{size:,}", "max": f"{MAX_PROFILE_BYTES:,}"}
        )


def _check_value(key: str, value: object) -> int:
    """Refuse a value over its limit; return an upper bound of its JSON size in bytes."""
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise InvalidValue(
                gettext("%(count)s characters: a string holds at most %(max)s characters")
                % {"count": len(value), "max": MAX_STRING},
                key=key,
            )
        return _MAX_BYTES_PER_CHAR * len(value) + 2
    if isinstance(value, list | tuple):
        if len(value) > MAX_LIST_ITEMS:
            raise InvalidValue(
                gettext("%(count)s items: a list holds at most %(max)s items")
                % {"count": len(value), "max": MAX_LIST_ITEMS},
                key=key,
            )
        bound = 2
        for item in value:
            if isinstance(item, str):
                if len(item) > MAX_STRING:
                    raise InvalidValue(
                        gettext(
                            "an item of %(count)s characters: each string in a list holds at most "
                            "%(max)s characters"
                        )
                        % {"count": len(item), "max": MAX_STRING},
                        key=key,
                    )
                bound += _MAX_BYTES_PER_CHAR * len(item) + 3
            else:
                bound += _scalar_bound(item) + 1
        return bound
    return _scalar_bound(value)


def _scalar_bound(value: object) -> int:
    if isinstance(value, int):  # bool included; an unchecked int may be longer than 2**53
        return value.bit_length() // 3 + 5  # digits <= bits * 0.302 + 1; a sign; "false"
    if value is None or isinstance(value, float | date):
        return _MAX_BYTES_PER_SCALAR
    return MAX_PROFILE_BYTES + 1  # anything else (a nested list, a dict): the encoder measures it


def _stored_form(value: object) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    raise TypeError(f"{type(value).__name__} is not JSON-storable")


# Built once: json.dumps with keyword arguments builds a new encoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_stored_form)

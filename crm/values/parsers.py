"""The value parsers of every write path (R1.2, R2.13), the registry by key and type, the JSON forms.

Import from here; each type family lives in its own module (scalars, phones, dates, lists).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import MappingProxyType

from crm.values.dates import (
    DATE_FORMATS,
    datetime_from_stored,
    format_date,
    format_datetime,
    parse_date,
    parse_datetime,
)
from crm.values.errors import InvalidValue
from crm.values.lists import (
    LIST_FORMATS,
    NUMBER_LIST_FORMATS,
    TAG_FORMATS,
    parse_list,
    parse_number_list,
    parse_tags,
)
from crm.values.phones import (
    LANDLINE_FORMATS,
    MOBILE_FORMATS,
    parse_landline_number,
    parse_mobile_number,
)
from crm.values.scalars import (
    BOOLEAN_FORMATS,
    EMAIL_FORMATS,
    NUMBER_FORMATS,
    STRING_FORMATS,
    is_blank,
    parse_boolean,
    parse_email,
    parse_number,
    parse_string,
)

__all__ = [
    "BOOLEAN_FORMATS",
    "BUILTIN_KEYS",
    "DATE_FORMATS",
    "EMAIL_FORMATS",
    "LANDLINE_FORMATS",
    "LIST_FORMATS",
    "MOBILE_FORMATS",
    "NUMBER_FORMATS",
    "NUMBER_LIST_FORMATS",
    "PROFILE_TYPES",
    "STRING_FORMATS",
    "TAG_FORMATS",
    "InvalidValue",
    "Parser",
    "from_json",
    "is_blank",
    "parse_boolean",
    "parse_date",
    "parse_datetime",
    "parse_email",
    "parse_landline_number",
    "parse_list",
    "parse_mobile_number",
    "parse_number",
    "parse_number_list",
    "parse_string",
    "parse_tags",
    "parser_for",
    "to_json",
]

Parser = Callable[[object], object]

# The types a manager can give a custom key (R1.2); the names are those of the command line (§9).
PROFILE_TYPES = ("string", "number", "boolean", "date", "datetime", "list", "numberList", "tag")

_BY_TYPE: Mapping[str, Parser] = MappingProxyType(
    {
        "string": parse_string,
        "number": parse_number,
        "boolean": parse_boolean,
        "date": parse_date,
        "datetime": parse_datetime,
        "list": parse_list,
        "numberList": parse_number_list,
        "tag": parse_tags,
    }
)

# Built-in keys (R1.2) and their declared type. Contact keys are strings to the profile but have
# their own parsers: an email or a phone number is normalised so that one contact is one customer.
BUILTIN_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "name": "string",
        "memberId": "string",
        "email": "string",
        "mobileNumber": "string",
        "landlineNumber": "string",
        "unsubscribeEmail": "boolean",
        "unsubscribeTexting": "boolean",
    }
)
_BY_BUILTIN_KEY: Mapping[str, Parser] = MappingProxyType(
    {
        "name": parse_string,
        "memberId": parse_string,
        "email": parse_email,
        "mobileNumber": parse_mobile_number,
        "landlineNumber": parse_landline_number,
        "unsubscribeEmail": parse_boolean,
        "unsubscribeTexting": parse_boolean,
    }
)


_PHONE_PARSERS: Mapping[str, Callable[..., str]] = MappingProxyType(
    {"mobileNumber": parse_mobile_number, "landlineNumber": parse_landline_number}
)


def parser_for(key: str, type: str, *, region: str | None = None) -> Parser:
    """The parser of a profile key: a built-in key's own, whatever its declared type, else its type's.

    ``region`` (the channel's country, R2.13a) is where a manager's national phone numbers are
    read (wizard, add lead, profile edit, command line); ``None`` refuses them (API, boot,
    builders: machines send E.164).

    An unknown type is a programming or data error, not a manager's mistake: it raises
    ``LookupError``, not ``InvalidValue``, so that it is not reported as a bad cell.
    """
    if region is not None and key in _PHONE_PARSERS:
        return functools.partial(_PHONE_PARSERS[key], region=region)
    builtin = _BY_BUILTIN_KEY.get(key)
    if builtin is not None:
        return builtin
    try:
        return _BY_TYPE[type]
    except KeyError:
        raise LookupError(
            f"unknown profile type {type!r}: one of {', '.join(PROFILE_TYPES)}"
        ) from None


def to_json(type: str, value: object) -> object:
    """The JSON-storable form of a parsed value: dates and datetimes as fixed-width text."""
    if type == "datetime" and isinstance(value, datetime):
        return format_datetime(value)
    if type == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return format_date(value)
    return value


def from_json(type: str, value: object) -> object:
    """The parsed value back from its stored form: the inverse of ``to_json``."""
    if type == "datetime" and isinstance(value, str):
        return datetime_from_stored(value)
    if type == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value

"""Parsers of mobileNumber and landlineNumber (R2.13): international numbers, stored as E.164.

Given a region (the channel's country, R2.13a), national numbers are read in it too:
``010-1234-5678``, ``01012345678``, an Excel number cell that lost its leading 0 (``1012345678``)
or its "+" (``821030003333``). The parsers stay pure: the caller passes the region.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from django.utils.translation import gettext, gettext_lazy
from django_countries import countries
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from crm.values.errors import InvalidValue, echo, lazy_str

MOBILE_FORMATS = lazy_str(
    gettext_lazy("write it with its +country code, e.g. +821020203030 or +82 010-2020-3030")
)
LANDLINE_FORMATS = lazy_str(
    gettext_lazy("write it with its +country code, e.g. +8225556666 or +82 02-555-6666")
)

# Digits, spaces and the usual punctuation after a leading "+". Letters are refused although
# phonenumbers would read them as a keypad (+1 800 FLOWERS): in a contact list they are typos.
_PHONE_TEXT_RE = re.compile(r"\+[0-9 ().\-]+", re.ASCII)

# Fast paths. phonenumbers.parse + number_type cost ~35 µs, too much for a million-row import,
# so the shapes of almost every Korean cell are recognised by a regex (~1 µs). They are derived
# from phonenumbers' KR metadata (national number patterns as of phonenumbers 8.13-9.0):
#   mobile   1(?:05(?:[0-8]\d|9[0-6])|22[13]\d)\d{4,5} | 1(?:0[0-46-9]|…)\d{6,7}
#   fixed    (?:2|3[1-3]|[46][1-4]|5[1-5])[1-9]\d{6,7} | …
# and tests/crm/test_values_phones.py proves by hypothesis, and by walking every leading-digit
# prefix, that each gives the slow path's answer. Anything else takes the slow path.
# Mobile 010-XXXX-XXXX with an optional trunk 0 and optional single separators; 0105X is left to
# the slow path because part of that range (01059[7-9]) is not allocated.
_KR_MOBILE_RE = re.compile(r"\+82[ -]?0?10[ -]?([0-46-9]\d{3})[ -]?(\d{4})", re.ASCII)
# Landline 0A-XXX(X)-XXXX: area code 2 (Seoul) or 3x/4x/5x/6x, with the same optional trunk 0 and
# separators, then 7 or 8 digits not starting with 0 (a second 0 is a typo the slow path judges).
_KR_LANDLINE_RE = re.compile(
    r"\+82[ -]?0?(2|3[1-3]|[46][1-4]|5[1-5])[ -]?([1-9]\d{2,3})[ -]?(\d{4})", re.ASCII
)

# The same Korean shapes written nationally (R2.13a, region KR): the trunk 0 optional, because an
# Excel number cell drops it (1012345678). Equal to phonenumbers.parse(text, "KR"), as tested.
_KR_NATIONAL_MOBILE_RE = re.compile(r"0?10[ -]?([0-46-9]\d{3})[ -]?(\d{4})", re.ASCII)
_KR_NATIONAL_LANDLINE_RE = re.compile(
    r"0?(2|3[1-3]|[46][1-4]|5[1-5])[ -]?([1-9]\d{2,3})[ -]?(\d{4})", re.ASCII
)
# A national number: digits first, then digits, spaces and the usual punctuation.
_NATIONAL_TEXT_RE = re.compile(r"[0-9(][0-9 ().\-]*", re.ASCII)

# Number types a mobileNumber / landlineNumber refuses. Everything else that is valid passes:
# FIXED_LINE_OR_MOBILE (US, CA, CN…), VOIP (070), UAN (1588), PERSONAL_NUMBER and so on.
_NOT_MOBILE = frozenset({PhoneNumberType.FIXED_LINE})
_NOT_LANDLINE = frozenset({PhoneNumberType.MOBILE})


def parse_mobile_number(value: object, region: str | None = None) -> str:
    """The E.164 form of a mobile number (``+821020203030``); national numbers are read in
    ``region`` when one is given (R2.13a), refused otherwise."""
    if isinstance(value, str):
        text = value.strip()
        match = _KR_MOBILE_RE.fullmatch(text)
        if match:
            return f"+8210{match[1]}{match[2]}"
        if region == "KR":
            match = _KR_NATIONAL_MOBILE_RE.fullmatch(text)
            if match:
                return f"+8210{match[1]}{match[2]}"
    return _checked(value, "mobile", _NOT_MOBILE, region)


def parse_landline_number(value: object, region: str | None = None) -> str:
    """The E.164 form of a landline number (``+8225556666``); national numbers are read in
    ``region`` when one is given (R2.13a), refused otherwise."""
    if isinstance(value, str):
        text = value.strip()
        match = _KR_LANDLINE_RE.fullmatch(text)
        if match:
            return f"+82{match[1]}{match[2]}{match[3]}"
        if region == "KR":
            match = _KR_NATIONAL_LANDLINE_RE.fullmatch(text)
            if match:
                return f"+82{match[1]}{match[2]}{match[3]}"
    return _checked(value, "landline", _NOT_LANDLINE, region)


def parse_mobile_number_slow(value: object, region: str | None = None) -> str:
    """``parse_mobile_number`` without its fast path: the reference the fast path is tested against."""
    return _checked(value, "mobile", _NOT_MOBILE, region)


def parse_landline_number_slow(value: object, region: str | None = None) -> str:
    """``parse_landline_number`` without its fast path: the reference for the tests."""
    return _checked(value, "landline", _NOT_LANDLINE, region)


def has_country_code(value: object) -> bool:
    """Whether a phone cell carries its country code (``+82…``); a parsed cell without one was
    read in the default country (R2.13a), which the import's check counts."""
    return isinstance(value, str) and value.lstrip().startswith("+")


def phone_formats(kind: str, region: str | None) -> str:
    """The accepted forms of a mobile or landline number, with a national example of ``region``,
    in the active language."""
    examples = _national_examples(kind, region) if region is not None else None
    if region is None or examples is None:
        return str(MOBILE_FORMATS if kind == "mobile" else LANDLINE_FORMATS)
    international, national = examples
    return gettext(
        "write it with its +country code (%(international)s) "
        "or as a national number of %(country)s (%(national)s)"
    ) % {"international": international, "country": country_name(region), "national": national}


def country_name(region: str) -> str:
    """The country of a region code as the reader calls it: "South Korea", "대한민국" (the
    active language; django-countries' names, as the channel's own settings show them). A code
    it does not know is shown as is."""
    return str(countries.name(region)) or region


@lru_cache(maxsize=512)
def _national_examples(kind: str, region: str) -> tuple[str, str] | None:
    """An example number of ``region`` written internationally and nationally (language-free,
    so it can be cached)."""
    number_type = PhoneNumberType.MOBILE if kind == "mobile" else PhoneNumberType.FIXED_LINE
    example = phonenumbers.example_number_for_type(region, number_type)
    if example is None:
        return None
    return (
        phonenumbers.format_number(example, PhoneNumberFormat.E164),
        phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL),
    )


def _cell_text(value: object, kind: str, region: str | None) -> str:
    """A phone cell as text. With a region, an integer number cell is the digits it shows: Excel
    turned 010-1234-5678 typed as 01012345678 into 1012345678, and +821012345678 into
    821012345678; phonenumbers reads both in the region (the second by its country code)."""
    if isinstance(value, str):
        return value.strip()
    if region is not None and not isinstance(value, bool):
        if isinstance(value, int) and value > 0:
            return str(value)
        if isinstance(value, float) and value.is_integer() and 0 < value < 1e16:
            return str(int(value))
    # Without a region a number cell (821020203030) lost its "+": guessing is unsafe.
    if kind == "mobile":
        message = gettext("%(value)s is not a mobile number written as text: %(formats)s")
    else:
        message = gettext("%(value)s is not a landline number written as text: %(formats)s")
    raise InvalidValue(message % {"value": echo(value), "formats": phone_formats(kind, region)})


def _checked(value: object, kind: str, refused: frozenset[int], region: str | None) -> str:
    text = _cell_text(value, kind, region)
    e164, number_type, problem = _classify(text, region)
    if problem:
        message = _problem_message(problem)
    elif number_type in refused:
        if kind == "mobile":
            message = gettext("%(value)s is a landline number, not a mobile number: %(formats)s")
        else:
            message = gettext("%(value)s is a mobile number, not a landline number: %(formats)s")
    else:
        return e164
    raise InvalidValue(
        message
        % {
            "value": echo(value),
            "country": country_name(region) if region else "",
            "formats": phone_formats(kind, region),
        }
    )


def _problem_message(problem: str) -> str:
    """What ``_classify`` found wrong, as a sentence in the active language (the cache keeps the
    problem's name, not a sentence: a sentence is in one language)."""
    if problem == _FOREIGN_CHARACTERS:
        return gettext("%(value)s has characters a phone number does not have: %(formats)s")
    if problem == _NO_COUNTRY_CODE:
        return gettext("%(value)s has no country code: %(formats)s")
    if problem == _EXTENSION:
        return gettext("%(value)s has an extension, which cannot be stored: %(formats)s")
    if problem == _INVALID_IN_REGION:
        return gettext("%(value)s is not a valid number of %(country)s: %(formats)s")
    if problem == _INVALID:
        return gettext("%(value)s is not a valid number for its country: %(formats)s")
    return gettext("%(value)s is not a phone number: %(formats)s")


_FOREIGN_CHARACTERS = "characters"
_NO_COUNTRY_CODE = "no country code"
_NOT_A_NUMBER = "not a number"
_EXTENSION = "extension"
_INVALID_IN_REGION = "invalid in region"
_INVALID = "invalid"


# Keyed by text: an import repeats the same numbers (a company switchboard, a test number), and
# a hit costs ~0.1 µs instead of ~35 µs. Results, not exceptions, are cached: lru_cache does not
# remember raised exceptions.
@lru_cache(maxsize=65536)
def _classify(text: str, region: str | None = None) -> tuple[str, int, str]:
    """(E.164, phonenumbers number type, "") or ("", -1, the name of what is wrong)."""
    if text.startswith("+"):
        region = None  # the number says its country
        if not _PHONE_TEXT_RE.fullmatch(text):
            return "", -1, _FOREIGN_CHARACTERS
    elif region is None:
        return "", -1, _NO_COUNTRY_CODE
    elif not _NATIONAL_TEXT_RE.fullmatch(text):
        return "", -1, _FOREIGN_CHARACTERS
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return "", -1, _NOT_A_NUMBER
    if number.extension:  # E.164 has no room for it: storing the number would drop it in silence
        return "", -1, _EXTENSION
    if not phonenumbers.is_valid_number(number):
        if region is not None and number.country_code == phonenumbers.country_code_for_region(
            region
        ):
            return "", -1, _INVALID_IN_REGION
        return "", -1, _INVALID
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return e164, phonenumbers.number_type(number), ""

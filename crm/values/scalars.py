"""Parsers of the scalar profile types (R2.13): string, email, number, boolean."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal

from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

from crm.values.errors import InvalidValue, echo, lazy_str
from crm.values.limits import MAX_STRING

# Numbers are int or float, not Decimal: profiles are stored as JSON, which the json module writes
# from int/float only, and float's shortest repr gives back what the manager typed up to 15
# significant digits. Integers are kept within ±(2**53 - 1) so that every JSON reader (the
# browser, API clients in JavaScript) reads the same value that was stored.
MAX_SAFE_INTEGER = 2**53 - 1

# The accepted formats, in the language active where they are read (a reason, a help text).
STRING_FORMATS = lazy(
    lambda: gettext("any text of at most %(max)s characters") % {"max": MAX_STRING}, str
)()
EMAIL_FORMATS = lazy_str(gettext_lazy("use an address such as name@example.com"))
NUMBER_FORMATS = lazy_str(
    gettext_lazy(
        "use an integer or a decimal with a dot (1, -3, 1.01, 0.5), "
        "without thousands separators or exponents"
    )
)
BOOLEAN_FORMATS = lazy_str(gettext_lazy("use true, yes, y or 1, or false, no, n or 0 (any case)"))

# ASCII digits only: int() would also take Arabic-Indic and full-width digits, and 1_000.
_NUMBER_RE = re.compile(r"[+-]?\d+(?:\.\d+)?", re.ASCII)
# No more digits than 2**53 has (16): stops int() on a 5,000-digit cell before it starts.
_INT_DIGITS_MAX = 16

_BOOLEANS = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
}

# A pragmatic RFC 5321 address: dot-atom local part (quoted local parts and IP literals are legal
# but never the address of a customer we can mail), domain of LDH labels with an alphabetic TLD.
_EMAIL_LOCAL_RE = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*", re.ASCII
)
_EMAIL_DOMAIN_RE = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})", re.ASCII
)
# NUL, which PostgreSQL cannot hold in text or jsonb, and lone surrogates, which are not UTF-8 (a
# JSON client can send both as \u escapes): refused here rather than failing the database write.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")

_EMAIL_LOCAL_MAX = 64  # RFC 5321 §4.5.3.1.1
_EMAIL_DOMAIN_MAX = 253  # RFC 1035, without the trailing dot


def is_blank(value: object) -> bool:
    """Whether a value means "no value": None, or text that is empty once stripped.

    Callers decide what blank means (keep or clear, R2.11) before calling a parser; parsers refuse
    blank values so that no path stores "" by accident.
    """
    return value is None or (isinstance(value, str) and not value.strip())


def parse_string(value: object) -> str:
    """Text, stripped, at most 512 characters.

    A native cell (XLSX, JSON) becomes the text a CSV of the same sheet would hold: 12345 for a
    memberId typed as a number, TRUE for a boolean cell, 2025-05-04 for a date cell.
    """
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):  # before int
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, int):
        try:
            text = str(value)
        except ValueError:  # over 4,300 digits Python refuses; far over 512 characters anyway
            raise InvalidValue(
                gettext("the number is too long: use %(formats)s") % {"formats": STRING_FORMATS}
            ) from None
    elif isinstance(value, float) and math.isfinite(value):
        text = float_text(value)
    elif isinstance(value, datetime):  # before date
        # An Excel date cell is a naive datetime at midnight: it shows the date alone.
        midnight = value.tzinfo is None and value.time() == datetime.min.time()
        text = value.date().isoformat() if midnight else value.isoformat(sep=" ")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        raise _string_refused(gettext("%(value)s is not text: use %(formats)s"), value)
    if not text:
        raise _string_refused(gettext("the value is empty: use %(formats)s"), value)
    if len(text) > MAX_STRING:
        raise _string_refused(
            gettext("%(count)s characters is too long: use %(formats)s"), value, len(text)
        )
    if has_unstorable(text):
        raise _string_refused(
            gettext(
                "%(value)s contains NUL or broken Unicode, which cannot be stored: use %(formats)s"
            ),
            value,
        )
    return text


def _string_refused(message: str, value: object, count: int = 0) -> InvalidValue:
    return InvalidValue(message % {"value": echo(value), "count": count, "formats": STRING_FORMATS})


def float_text(value: float) -> str:
    """A number cell as a spreadsheet shows it: at most 15 significant digits (Excel's
    precision, so 0.1+0.2 is 0.3), no exponent, no ".0" (1001.0 is 1001)."""
    text = format(value + 0.0, ".15g")  # + 0.0: -0.0 is 0
    if "e" in text:
        text = format(Decimal(text), "f")
    return text


def has_unstorable(text: str) -> bool:
    """Whether text holds a character the database cannot store (NUL, a lone surrogate)."""
    return _UNSTORABLE_RE.search(text) is not None


def parse_email(value: object) -> str:
    """A valid email address, stripped and lowercased (so that one address is one customer)."""
    if not isinstance(value, str):
        raise _email_refused(gettext("%(value)s is not an email address: %(formats)s"), value)
    text = value.strip().lower()
    if len(text) > MAX_STRING:
        raise _email_refused(
            gettext("%(count)s characters is too long for an email address: %(formats)s"),
            value,
            len(text),
        )
    local, at, domain = text.rpartition("@")
    if not at or not _valid_local(local) or not _valid_domain(domain):
        raise _email_refused(gettext("%(value)s is not a valid email address: %(formats)s"), value)
    return text


def _email_refused(message: str, value: object, count: int = 0) -> InvalidValue:
    return InvalidValue(message % {"value": echo(value), "count": count, "formats": EMAIL_FORMATS})


def _valid_local(local: str) -> bool:
    return len(local) <= _EMAIL_LOCAL_MAX and _EMAIL_LOCAL_RE.fullmatch(local) is not None


def _valid_domain(domain: str) -> bool:
    if not domain.isascii():
        # An internationalised domain (네이버.한국) is valid when its punycode form is.
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return False
    return len(domain) <= _EMAIL_DOMAIN_MAX and _EMAIL_DOMAIN_RE.fullmatch(domain) is not None


def parse_number(value: object) -> int | float:
    """An int for integer text or an int cell; a float for decimal text or a float cell."""
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER_RE.fullmatch(text):
            if "," in text:
                raise _number_refused(
                    gettext("%(value)s is not a number (no thousands separators): %(formats)s"),
                    value,
                )
            raise _number_refused(gettext("%(value)s is not a number: %(formats)s"), value)
        if "." not in text:
            if len(text.lstrip("+-")) > _INT_DIGITS_MAX:
                raise _too_large(value)
            return _safe_int(int(text), value)
        number = float(text)
        if not math.isfinite(number):  # 400 digits before the dot
            raise _too_large(value)
        return number
    if isinstance(value, bool):  # before int: True is 1 to Python, not to a manager
        raise _number_refused(gettext("%(value)s is a boolean, not a number: %(formats)s"), value)
    if isinstance(value, int):
        return _safe_int(value, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _number_refused(gettext("%(value)s is not a number: %(formats)s"), value)
        return value
    raise _number_refused(gettext("%(value)s is not a number: %(formats)s"), value)


def _number_refused(message: str, value: object) -> InvalidValue:
    return InvalidValue(
        message % {"value": echo(value), "max": f"{MAX_SAFE_INTEGER:,}", "formats": NUMBER_FORMATS}
    )


def _safe_int(number: int, original: object) -> int:
    if -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
        return number
    raise _too_large(original)


def _too_large(original: object) -> InvalidValue:
    return _number_refused(
        gettext("%(value)s is too large: numbers are stored exactly up to ±%(max)s; %(formats)s"),
        original,
    )


def parse_boolean(value: object) -> bool:
    """True or False from the words of the seed (any case), a bool, or an XLSX/JSON 0 or 1."""
    if isinstance(value, str):
        found = _BOOLEANS.get(value.strip().lower())
        if found is not None:
            return found
    elif isinstance(value, bool):
        return value
    elif isinstance(value, int) and value in (0, 1):
        return value == 1
    raise InvalidValue(
        gettext("%(value)s is not true or false: %(formats)s")
        % {"value": echo(value), "formats": BOOLEAN_FORMATS}
    )

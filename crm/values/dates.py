"""Parsers of the date and datetime profile types (R2.13) and their fixed-width stored forms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from django.utils.translation import gettext, gettext_lazy

from crm.values.errors import InvalidValue, echo, lazy_str

# Reasons are written in the language active when a value is refused (the manager's, the
# worker's job's, English for the Open API): lazy constants, gettext at the moment of raising.
DATE_FORMATS = lazy_str(
    gettext_lazy(
        "use YYYY-MM-DD (2025-05-04), ISO 8601 with offset (2025-05-04T09:00:00+09:00, "
        "…Z or no offset = UTC) or epoch milliseconds (1746316800000)"
    )
)

# Shape first, then datetime.fromisoformat (C code, ~1 µs) does the calendar. The regex keeps out
# what fromisoformat would also take but the seed refuses or a manager would not mean:
# week dates, ordinal dates, compact 20250504, 2025.05.04, 2025/05/04, hour-only times.
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    # The space separator is RFC 3339 and what Excel writes for a date-time cell saved as CSV.
    r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)
_EPOCH_MS_RE = re.compile(r"-?\d{1,16}", re.ASCII)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Epoch values this close to 1970 are almost always a mistake, not a date of 1966-1973: epoch
# *seconds* of today (1746316800, 10 digits), a compact date (20250504) or an Excel serial day
# (45781). Refusing them beats storing 1970-01-21 in silence; such dates can be written YYYY-MM-DD.
EPOCH_MS_MIN_ABS = 10**11  # 1973-03-03T09:46:40Z; -10**11 is 1966-10-31T14:13:20Z


def parse_datetime(value: object) -> datetime:
    """An aware UTC datetime, truncated to milliseconds (the stored precision).

    A date alone is midnight UTC; no offset is UTC; a naive datetime (an XLSX cell) is UTC.
    """
    return _instant(value, with_time=True)


def parse_date(value: object) -> date:
    """A calendar date; a date with a time or an epoch is reduced to its UTC date.

    The UTC date, not the date as written in its offset, so that one instant gives one date
    however it is written (``…T09:00:00+09:00``, ``…T00:00:00Z`` and ``1746316800000`` agree).
    """
    if isinstance(value, str):
        text = value.strip()
        if _DATE_RE.fullmatch(text):  # the common case, without building a datetime
            return _date_from_text(text, value)
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value
    return _instant(value, with_time=False).date()


def _refused(message: str, value: object) -> InvalidValue:
    return InvalidValue(message % {"value": echo(value), "formats": DATE_FORMATS})


def _not_a(value: object, with_time: bool) -> InvalidValue:
    if with_time:
        return _refused(gettext("%(value)s is not a date and time: %(formats)s"), value)
    return _refused(gettext("%(value)s is not a date: %(formats)s"), value)


def _instant(value: object, *, with_time: bool) -> datetime:
    if isinstance(value, str):
        text = value.strip()
        if _DATETIME_RE.fullmatch(text):
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                if with_time:
                    message = gettext("%(value)s is not a real date and time: %(formats)s")
                else:
                    message = gettext("%(value)s is not a real date: %(formats)s")
                raise _refused(message, value) from None
            return _to_utc(parsed, value)
        if _DATE_RE.fullmatch(text):
            return datetime.combine(_date_from_text(text, value), datetime.min.time(), UTC)
        if _EPOCH_MS_RE.fullmatch(text):
            return _from_epoch_ms(int(text), value)
        raise _not_a(value, with_time)
    if isinstance(value, bool):  # before int: True is an int to Python, not a date to a manager
        if with_time:
            message = gettext("%(value)s is a boolean, not a date and time: %(formats)s")
        else:
            message = gettext("%(value)s is a boolean, not a date: %(formats)s")
        raise _refused(message, value)
    if isinstance(value, datetime):  # before date: a datetime is a date to Python
        return _to_utc(value, value)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time(), UTC)
    if isinstance(value, int):
        return _from_epoch_ms(value, value)
    if isinstance(value, float) and value.is_integer():  # JSON clients that write 1746316800000.0
        return _from_epoch_ms(int(value), value)
    raise _not_a(value, with_time)


def format_date(value: date) -> str:
    """The stored form of a date: ``YYYY-MM-DD``."""
    return value.isoformat()


def format_datetime(value: datetime) -> str:
    """The stored form of a datetime: fixed-width UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ``.

    Fixed width (always milliseconds, always Z) makes text order equal time order, so range
    filters and sorts on the JSON text are correct.
    """
    if value.tzinfo is not UTC:  # what parse_datetime returns already is
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # By hand, not isoformat or strftime: twice as fast, and %Y does not pad years before 1000.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


def datetime_from_stored(text: str) -> datetime:
    """Read back what ``format_datetime`` wrote."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _date_from_text(text: str, original: object) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _refused(gettext("%(value)s is not a real date: %(formats)s"), original) from None


def _to_utc(parsed: datetime, original: object) -> datetime:
    try:
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+09:00 is before year 1 in UTC
        raise _out_of_range(original) from None
    extra_micros = parsed.microsecond % 1000
    return parsed.replace(microsecond=parsed.microsecond - extra_micros) if extra_micros else parsed


def _from_epoch_ms(millis: int, original: object) -> datetime:
    if -EPOCH_MS_MIN_ABS < millis < EPOCH_MS_MIN_ABS:
        raise _refused(
            gettext(
                "%(value)s is too close to 1970 to be epoch milliseconds (is it epoch seconds, "
                "a compact date or an Excel serial?): %(formats)s"
            ),
            original,
        )
    try:
        return _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        raise _out_of_range(original) from None


def _out_of_range(original: object) -> InvalidValue:
    return _refused(gettext("%(value)s is out of range: %(formats)s"), original)

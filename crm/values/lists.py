"""Parsers of the list profile types (R2.13): list of strings, list of numbers, tags."""

from __future__ import annotations

import json
import re
from typing import NoReturn

from django.utils.functional import lazy
from django.utils.translation import gettext

from crm.values.errors import InvalidValue, echo
from crm.values.limits import MAX_LIST_ITEMS, MAX_STRING
from crm.values.scalars import has_unstorable, parse_number

_LIMITS = {"items": MAX_LIST_ITEMS, "characters": MAX_STRING}

# Lazy: read in the language active where they are shown (a reason, a help text).
LIST_FORMATS = lazy(
    lambda: (
        gettext(
            'use a list of texts in double quotes, e.g. ["a","b"] (Excel\'s quotes “ ” are fine), '
            "at most %(items)s items of at most %(characters)s characters"
        )
        % _LIMITS
    ),
    str,
)()
NUMBER_LIST_FORMATS = lazy(
    lambda: (
        gettext("use a list of numbers, e.g. [1,2] or [1.5,-3], at most %(items)s items") % _LIMITS
    ),
    str,
)()
TAG_FORMATS = lazy(
    lambda: (
        gettext(
            'use a list of tags, e.g. ["basic/step1","advanced/step2"]: "/" makes at most 2 levels '
            "and never starts or ends a tag; . $ \\ and the Hangul filler ㅤ (U+3164) are not "
            "allowed; at most %(items)s tags of at most %(characters)s characters"
        )
        % _LIMITS
    ),
    str,
)()


def _refused(message: str, formats: str, **names: object) -> InvalidValue:
    return InvalidValue(message % {**names, "formats": formats})


# Excel's autocorrect turns "a" into “a”, and the seed itself shows [”string1”,”string2”] with the
# closing mark on both sides: both marks stand for the JSON quote.
_TYPOGRAPHIC_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"'})
_TAG_FORBIDDEN_RE = re.compile("[.$\\\\\u3164]")
# One or two non-empty levels of allowed characters: the common, valid tag in one regex call;
# only a tag that fails it goes through the checks that say what is wrong.
# NUL and lone surrogates (see scalars.has_unstorable) are kept out by the same character class.
_VALID_TAG_RE = re.compile(
    "[^/.$\\\\\u3164\x00\ud800-\udfff]+(?:/[^/.$\\\\\u3164\x00\ud800-\udfff]+)?"
)
_TAG_MAX_LEVELS = 2


def parse_list(value: object) -> list[str]:
    """A list of texts (JSON text, or a list from the API), each kept as written."""
    items = _items(value, LIST_FORMATS)
    for index, item in enumerate(items, 1):
        if not isinstance(item, str):
            raise _refused(
                gettext("item %(index)s (%(value)s) is not text: %(formats)s"),
                LIST_FORMATS,
                index=index,
                value=echo(item),
            )
        if len(item) > MAX_STRING:
            raise _refused(
                gettext("item %(index)s has %(count)s characters: %(formats)s"),
                LIST_FORMATS,
                index=index,
                count=len(item),
            )
        if has_unstorable(item):
            raise _refused(
                gettext(
                    "item %(index)s contains NUL or broken Unicode, which cannot be stored: "
                    "%(formats)s"
                ),
                LIST_FORMATS,
                index=index,
            )
    return items  # type: ignore[return-value]  # every item was just checked to be a str


def parse_number_list(value: object) -> list[int | float]:
    """A list of numbers; each obeys ``parse_number`` (so no 1e5, no 1,000, no true)."""
    from_text = isinstance(value, str)
    # From text, the decoder has already given every number's own text to parse_number, so [1e5]
    # and [NaN] are refused for the same reasons as 1e5 and NaN in a number column.
    items = _items(value, NUMBER_LIST_FORMATS, _NUMBER_DECODER if from_text else None)
    for index, item in enumerate(items, 1):
        if isinstance(item, bool) or not isinstance(item, int | float):  # true, "1", null
            raise _refused(
                gettext("item %(index)s (%(value)s) is not a number: %(formats)s"),
                NUMBER_LIST_FORMATS,
                index=index,
                value=echo(item),
            )
        if not from_text:
            try:
                parse_number(item)  # finite, and an int within ±(2**53 - 1)
            except InvalidValue as error:
                raise InvalidValue(
                    gettext("item %(index)s: %(reason)s") % {"index": index, "reason": error.reason}
                ) from None
    return items  # type: ignore[return-value]  # every item was just checked to be a number


def parse_tags(value: object) -> list[str]:
    """Tags, each stripped and checked; duplicates dropped (a customer has a tag or not)."""
    tags: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(_items(value, TAG_FORMATS), 1):
        if not isinstance(item, str):
            raise _refused(
                gettext("tag %(index)s (%(value)s) is not text: %(formats)s"),
                TAG_FORMATS,
                index=index,
                value=echo(item),
            )
        tag = item.strip()
        _check_tag(tag, index)
        if tag not in seen:
            seen.add(tag)
            tags.append(tag)
    return tags


def _check_tag(tag: str, index: int) -> None:
    if len(tag) <= MAX_STRING and _VALID_TAG_RE.fullmatch(tag):
        return
    names = {"index": index, "value": echo(tag)}
    if not tag:
        raise _refused(gettext("tag %(index)s is empty: %(formats)s"), TAG_FORMATS, **names)
    if len(tag) > MAX_STRING:
        raise _refused(
            gettext("tag %(index)s has %(count)s characters: %(formats)s"),
            TAG_FORMATS,
            count=len(tag),
            **names,
        )
    forbidden = _TAG_FORBIDDEN_RE.search(tag)
    if forbidden and forbidden[0] == "\u3164":
        raise _refused(
            gettext("tag %(index)s (%(value)s) contains the Hangul filler ㅤ (U+3164): %(formats)s"),
            TAG_FORMATS,
            **names,
        )
    if forbidden:
        raise _refused(
            gettext("tag %(index)s (%(value)s) contains '%(character)s': %(formats)s"),
            TAG_FORMATS,
            character=forbidden[0],
            **names,
        )
    levels = tag.split("/")
    if len(levels) > _TAG_MAX_LEVELS:
        raise _refused(
            gettext("tag %(index)s (%(value)s) has %(levels)s levels: %(formats)s"),
            TAG_FORMATS,
            levels=len(levels),
            **names,
        )
    # The tag is stripped, so with at most one "/" not at either end no level can be empty.
    if tag.startswith("/") or tag.endswith("/"):
        raise _refused(
            gettext("tag %(index)s (%(value)s) starts or ends with /: %(formats)s"),
            TAG_FORMATS,
            **names,
        )
    raise _refused(
        gettext(
            "tag %(index)s contains NUL or broken Unicode, which cannot be stored: %(formats)s"
        ),
        TAG_FORMATS,
        **names,
    )


def _items(value: object, formats: str, decoder: json.JSONDecoder | None = None) -> list[object]:
    """The items of a list: JSON text (also with typographic quotes) or a native list."""
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, str):
        items = _load(value, formats, decoder or _DECODER)
    else:
        raise _refused(gettext("%(value)s is not a list: %(formats)s"), formats, value=echo(value))
    if len(items) > MAX_LIST_ITEMS:
        raise _refused(
            gettext("the list has %(count)s items: %(formats)s"), formats, count=len(items)
        )
    return items


def _load(value: str, formats: str, decoder: json.JSONDecoder) -> list[object]:
    text = value.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise _refused(
            gettext("%(value)s is not a list in brackets: %(formats)s"), formats, value=echo(value)
        )
    # Plain JSON first, so that a typographic quote *inside* a JSON string is kept as written;
    # then with the typographic quotes read as JSON quotes.
    attempts = [text]
    if "\u201c" in text or "\u201d" in text:
        translated = text.translate(_TYPOGRAPHIC_QUOTES)
        attempts = [text, translated] if '"' in text else [translated]
    for attempt in attempts:
        try:
            loaded = decoder.decode(attempt)
        except InvalidValue:  # a number item's own reason beats "not a valid list"
            raise
        except ValueError:
            continue
        if isinstance(loaded, list):
            return loaded
    raise _refused(
        gettext("%(value)s is not a valid list: %(formats)s"), formats, value=echo(value)
    )


def _number_item(text: str) -> int | float:
    try:
        return parse_number(text)
    except InvalidValue as error:
        raise InvalidValue(gettext("in the list, %(reason)s") % {"reason": error.reason}) from None


def _no_constant(name: str) -> NoReturn:
    # json would otherwise read NaN, Infinity and -Infinity (not JSON) as floats.
    raise ValueError(f"{name} is not JSON")


# Built once: json.loads with any keyword argument builds a new decoder on every call (~3 µs).
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_NUMBER_DECODER = json.JSONDecoder(
    parse_int=_number_item, parse_float=_number_item, parse_constant=_number_item
)

"""Parsers of the list profile types (R2.13): list of strings, list of numbers, tags."""

from __future__ import annotations

import json
import re
from typing import NoReturn

from crm.values.errors import InvalidValue, echo
from crm.values.limits import MAX_LIST_ITEMS, MAX_STRING
from crm.values.scalars import UNSTORABLE, has_unstorable, parse_number

LIST_FORMATS = (
    f'use a list of texts in double quotes, e.g. ["a","b"] (Excel\'s quotes “ ” are fine), '
    f"at most {MAX_LIST_ITEMS} items of at most {MAX_STRING} characters"
)
NUMBER_LIST_FORMATS = (
    f"use a list of numbers, e.g. [1,2] or [1.5,-3], at most {MAX_LIST_ITEMS} items"
)
TAG_FORMATS = (
    'use a list of tags, e.g. ["basic/step1","advanced/step2"]: "/" makes at most 2 levels '
    "and never starts or ends a tag; . $ \\ and the Hangul filler ㅤ (U+3164) are not allowed; "
    f"at most {MAX_LIST_ITEMS} tags of at most {MAX_STRING} characters"
)

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
            raise InvalidValue(f"item {index} ({echo(item)}) is not text: {LIST_FORMATS}")
        if len(item) > MAX_STRING:
            raise InvalidValue(f"item {index} has {len(item)} characters: {LIST_FORMATS}")
        if has_unstorable(item):
            raise InvalidValue(f"item {index} {UNSTORABLE}: {LIST_FORMATS}")
    return items  # type: ignore[return-value]  # every item was just checked to be a str


def parse_number_list(value: object) -> list[int | float]:
    """A list of numbers; each obeys ``parse_number`` (so no 1e5, no 1,000, no true)."""
    from_text = isinstance(value, str)
    # From text, the decoder has already given every number's own text to parse_number, so [1e5]
    # and [NaN] are refused for the same reasons as 1e5 and NaN in a number column.
    items = _items(value, NUMBER_LIST_FORMATS, _NUMBER_DECODER if from_text else None)
    for index, item in enumerate(items, 1):
        if isinstance(item, bool) or not isinstance(item, int | float):  # true, "1", null
            raise InvalidValue(
                f"item {index} ({echo(item)}) is not a number: {NUMBER_LIST_FORMATS}"
            )
        if not from_text:
            try:
                parse_number(item)  # finite, and an int within ±(2**53 - 1)
            except InvalidValue as error:
                raise InvalidValue(f"item {index}: {error.reason}") from None
    return items  # type: ignore[return-value]  # every item was just checked to be a number


def parse_tags(value: object) -> list[str]:
    """Tags, each stripped and checked; duplicates dropped (a customer has a tag or not)."""
    tags: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(_items(value, TAG_FORMATS), 1):
        if not isinstance(item, str):
            raise InvalidValue(f"tag {index} ({echo(item)}) is not text: {TAG_FORMATS}")
        tag = item.strip()
        _check_tag(tag, index)
        if tag not in seen:
            seen.add(tag)
            tags.append(tag)
    return tags


def _check_tag(tag: str, index: int) -> None:
    if len(tag) <= MAX_STRING and _VALID_TAG_RE.fullmatch(tag):
        return
    if not tag:
        raise InvalidValue(f"tag {index} is empty: {TAG_FORMATS}")
    if len(tag) > MAX_STRING:
        raise InvalidValue(f"tag {index} has {len(tag)} characters: {TAG_FORMATS}")
    forbidden = _TAG_FORBIDDEN_RE.search(tag)
    if forbidden:
        shown = "the Hangul filler ㅤ (U+3164)" if forbidden[0] == "\u3164" else f"'{forbidden[0]}'"
        raise InvalidValue(f"tag {index} ({echo(tag)}) contains {shown}: {TAG_FORMATS}")
    levels = tag.split("/")
    if len(levels) > _TAG_MAX_LEVELS:
        raise InvalidValue(f"tag {index} ({echo(tag)}) has {len(levels)} levels: {TAG_FORMATS}")
    # The tag is stripped, so with at most one "/" not at either end no level can be empty.
    if tag.startswith("/") or tag.endswith("/"):
        raise InvalidValue(f"tag {index} ({echo(tag)}) starts or ends with /: {TAG_FORMATS}")
    raise InvalidValue(f"tag {index} {UNSTORABLE}: {TAG_FORMATS}")


def _items(value: object, formats: str, decoder: json.JSONDecoder | None = None) -> list[object]:
    """The items of a list: JSON text (also with typographic quotes) or a native list."""
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, str):
        items = _load(value, formats, decoder or _DECODER)
    else:
        raise InvalidValue(f"{echo(value)} is not a list: {formats}")
    if len(items) > MAX_LIST_ITEMS:
        raise InvalidValue(f"the list has {len(items)} items: {formats}")
    return items


def _load(value: str, formats: str, decoder: json.JSONDecoder) -> list[object]:
    text = value.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise InvalidValue(f"{echo(value)} is not a list in brackets: {formats}")
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
    raise InvalidValue(f"{echo(value)} is not a valid list: {formats}")


def _number_item(text: str) -> int | float:
    try:
        return parse_number(text)
    except InvalidValue as error:
        raise InvalidValue(f"in the list, {error.reason}") from None


def _no_constant(name: str) -> NoReturn:
    # json would otherwise read NaN, Infinity and -Infinity (not JSON) as floats.
    raise ValueError(f"{name} is not JSON")


# Built once: json.loads with any keyword argument builds a new decoder on every call (~3 µs).
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_NUMBER_DECODER = json.JSONDecoder(
    parse_int=_number_item, parse_float=_number_item, parse_constant=_number_item
)

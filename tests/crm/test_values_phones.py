"""mobileNumber and landlineNumber (R2.13): the seed's examples, and fast path == slow path."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.values import InvalidValue, parse_landline_number, parse_mobile_number
from crm.values.phones import (
    _KR_LANDLINE_RE,
    _KR_MOBILE_RE,
    parse_landline_number_slow,
    parse_mobile_number_slow,
)


def _outcome(parse: object, value: str) -> tuple[str, str]:
    """("ok", E.164) or ("refused", reason): what a parser answers, comparable with ==."""
    assert callable(parse)
    try:
        return "ok", parse(value)
    except InvalidValue as error:
        return "refused", error.reason


# --- the seed's examples ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+821020203030", "+821020203030"),
        ("+82 010-2020-3030", "+821020203030"),  # the trunk 0 is dropped
        ("  +82 010-2020-3030 ", "+821020203030"),
        ("+82-10-2020-3030", "+821020203030"),
        ("+82 (0)10 2020 3030", "+821020203030"),
        ("+1 650-253-0000", "+16502530000"),  # US numbers are fixed line *or* mobile: both accepted
        ("+447911123456", "+447911123456"),
    ],
)
def test_r2_13_mobile_number_is_stored_as_e164(text: str, expected: str) -> None:
    assert parse_mobile_number(text) == expected
    assert parse_mobile_number_slow(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+8225556666", "+8225556666"),
        ("+82 02-555-6666", "+8225556666"),
        ("+82 31-123-4567", "+82311234567"),
        ("+82 70 1234 5678", "+827012345678"),  # VoIP: neither mobile nor fixed, accepted by both
    ],
)
def test_r2_13_landline_number_is_stored_as_e164(text: str, expected: str) -> None:
    assert parse_landline_number(text) == expected
    assert parse_landline_number_slow(text) == expected


@pytest.mark.parametrize(
    "text", ["01020203030", "010-2020-3030", "821020203030", "0082 10 2020 3030"]
)
def test_r2_13_mobile_number_without_country_code_is_refused_showing_the_forms(text: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_mobile_number(text)
    assert "country code" in refused.value.reason
    assert "+821020203030" in refused.value.reason
    assert "+82 010-2020-3030" in refused.value.reason


def test_r2_13_landline_number_without_country_code_is_refused_showing_the_forms() -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_landline_number("02-555-6666")
    assert "+8225556666" in refused.value.reason


def test_r2_13_mobile_key_refuses_a_landline_and_landline_key_refuses_a_mobile() -> None:
    with pytest.raises(InvalidValue, match="is a landline number, not a mobile number"):
        parse_mobile_number("+8225556666")
    with pytest.raises(InvalidValue, match="is a mobile number, not a landline number"):
        parse_landline_number("+821020203030")


@pytest.mark.parametrize(
    "value",
    [
        "+821059700000",  # 01059[7-9] is not allocated
        "+82123",
        "+82",
        "+",
        "+82 10 2020 3030 ext. 5",
        "+1 800 FLOWERS",
        "+82 10-2020-3030 / 3031",
        821020203030,  # an XLSX number cell: the "+" is gone
        8.2102e11,
        True,
        None,
    ],
)
def test_r2_13_invalid_phone_numbers_are_refused(value: object) -> None:
    for parse in (parse_mobile_number, parse_landline_number):
        with pytest.raises(InvalidValue, match=r"\+country code"):
            parse(value)


# --- the fast path gives the slow path's answer ---------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.from_regex(_KR_MOBILE_RE, fullmatch=True))
def test_r2_13_mobile_fast_path_equals_slow_path_on_its_whole_domain(text: str) -> None:
    assert parse_mobile_number(text) == parse_mobile_number_slow(text)
    # The shapes the regex takes are mobiles, so the landline parser refuses them either way.
    assert _outcome(parse_landline_number, text) == _outcome(parse_landline_number_slow, text)


@settings(max_examples=500, deadline=None)
@given(st.from_regex(_KR_LANDLINE_RE, fullmatch=True))
def test_r2_13_landline_fast_path_equals_slow_path_on_its_whole_domain(text: str) -> None:
    assert parse_landline_number(text) == parse_landline_number_slow(text)
    assert _outcome(parse_mobile_number, text) == _outcome(parse_mobile_number_slow, text)


@settings(max_examples=1000, deadline=None)
@given(
    st.from_regex(r"\+82[ -]?0?1[0-9][ -]?[0-9]{3,4}[ -]?[0-9]{4}", fullmatch=True)
    | st.from_regex(r"\+82[ -]?0?[2-7][0-9]?[ -]?[0-9]{3,4}[ -]?[0-9]{4}", fullmatch=True)
    | st.text(alphabet="+0123456789 -()", max_size=20)
    | st.from_regex(r"\+82[0-9]{7,11}", fullmatch=True)
)
def test_r2_13_phone_parsers_equal_their_slow_path_on_any_input(text: str) -> None:
    assert _outcome(parse_mobile_number, text) == _outcome(parse_mobile_number_slow, text)
    assert _outcome(parse_landline_number, text) == _outcome(parse_landline_number_slow, text)


def test_r2_13_mobile_fast_path_equals_slow_path_for_every_010_prefix() -> None:
    # phonenumbers' KR patterns discriminate on leading digits only, so walking every 4-digit
    # prefix after +8210 with the lowest and highest tails covers every rule the regex encodes.
    for prefix, tail in itertools.product(range(10_000), ("0000", "9999")):
        text = f"+8210{prefix:04d}{tail}"
        assert _outcome(parse_mobile_number, text) == _outcome(parse_mobile_number_slow, text)


def test_r2_13_landline_fast_path_equals_slow_path_for_every_area_prefix() -> None:
    for prefix, length, fill in itertools.product(range(1_000), range(5, 9), "09"):
        text = f"+82{prefix:03d}{fill * length}"
        assert _outcome(parse_landline_number, text) == _outcome(parse_landline_number_slow, text)
        assert _outcome(parse_mobile_number, text) == _outcome(parse_mobile_number_slow, text)
    for prefix, length, fill in itertools.product(range(100), range(6, 10), "09"):
        text = f"+82{prefix:02d}{fill * length}"
        assert _outcome(parse_landline_number, text) == _outcome(parse_landline_number_slow, text)

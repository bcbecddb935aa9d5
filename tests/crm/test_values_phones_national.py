"""R2.13a: national phone numbers read in a region (the channel's country), fast path == slow."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.values import InvalidValue, parse_landline_number, parse_mobile_number, parser_for
from crm.values.phones import (
    _KR_NATIONAL_LANDLINE_RE,
    _KR_NATIONAL_MOBILE_RE,
    has_country_code,
    parse_landline_number_slow,
    parse_mobile_number_slow,
)


def _outcome(parse: object, value: object, region: str | None) -> tuple[str, str]:
    assert callable(parse)
    try:
        return "ok", parse(value, region)
    except InvalidValue as error:
        return "refused", error.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("010-1234-5678", "+821012345678"),
        ("01012345678", "+821012345678"),
        ("010 1234 5678", "+821012345678"),
        (" 010.1234.5678 ", "+821012345678"),
        ("(010) 1234-5678", "+821012345678"),
        ("1012345678", "+821012345678"),  # a number cell saved as CSV: the leading 0 is gone
        (1012345678, "+821012345678"),  # the XLSX number cell itself
        (1012345678.0, "+821012345678"),
        ("821030003333", "+821030003333"),  # "+82…" typed into Excel: the "+" is gone
        (821030003333, "+821030003333"),
        ("+82 010-1234-5678", "+821012345678"),  # international numbers still work
        ("+447911123456", "+447911123456"),
    ],
)
def test_r2_13a_korean_national_mobiles_are_read_in_kr(value: object, expected: str) -> None:
    assert parse_mobile_number(value, "KR") == expected
    assert parse_mobile_number_slow(value, "KR") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("02-555-6666", "+8225556666"),
        ("025556666", "+8225556666"),
        ("031-123-4567", "+82311234567"),
        (25556666, "+8225556666"),
    ],
)
def test_r2_13a_korean_national_landlines_are_read_in_kr(value: object, expected: str) -> None:
    assert parse_landline_number(value, "KR") == expected
    assert parse_landline_number_slow(value, "KR") == expected


@pytest.mark.parametrize(
    ("region", "value", "expected"),
    [
        ("US", "(650) 253-0000", "+16502530000"),
        ("JP", "090-1234-5678", "+819012345678"),
        ("GB", "07911 123456", "+447911123456"),
    ],
)
def test_r2_13a_national_numbers_of_other_countries(region: str, value: str, expected: str) -> None:
    assert parse_mobile_number(value, region) == expected


@pytest.mark.parametrize("value", ["010-1234-5678", "01012345678", 1012345678, 821030003333])
def test_r2_13a_without_a_region_national_numbers_still_fail(value: object) -> None:
    with pytest.raises(InvalidValue, match=r"\+country code"):
        parse_mobile_number(value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("010-1234", "is not a valid number of South Korea"),
        ("010-1234-5678 내선 3", "characters a phone number does not have"),
        ("02-555-6666", "is a landline number, not a mobile number"),
        (True, "is not a mobile number written as text"),
        (-1012345678, "is not a mobile number written as text"),
        (1012345678.5, "is not a mobile number written as text"),
    ],
)
def test_r2_13a_bad_national_numbers_name_the_country_and_its_forms(
    value: object, fragment: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_mobile_number(value, "KR")
    assert fragment in refused.value.reason
    assert "national number of South Korea (010-" in refused.value.reason


def test_r2_13a_parser_for_passes_the_region_to_phone_keys_only() -> None:
    assert parser_for("mobileNumber", "string", region="KR")("010-1234-5678") == "+821012345678"
    assert parser_for("landlineNumber", "string", region="KR")("02-555-6666") == "+8225556666"
    assert parser_for("name", "string", region="KR")("010-1234-5678") == "010-1234-5678"
    with pytest.raises(InvalidValue):
        parser_for("mobileNumber", "string")("010-1234-5678")


def test_r2_13a_has_country_code_tells_national_cells_apart() -> None:
    assert has_country_code(" +821012345678")
    assert not has_country_code("010-1234-5678")
    assert not has_country_code(1012345678)


@settings(max_examples=500, deadline=None)
@given(
    st.from_regex(_KR_NATIONAL_MOBILE_RE, fullmatch=True)
    | st.from_regex(_KR_NATIONAL_LANDLINE_RE, fullmatch=True)
    | st.from_regex(r"0?1[0-9][ -]?[0-9]{3,4}[ -]?[0-9]{4}", fullmatch=True)
    | st.from_regex(r"0?[2-7][0-9]?[ -]?[0-9]{3,4}[ -]?[0-9]{4}", fullmatch=True)
    | st.text(alphabet="0123456789 -()", max_size=16)
)
def test_r2_13a_national_fast_path_equals_phonenumbers_region_parsing(text: str) -> None:
    assert _outcome(parse_mobile_number, text, "KR") == _outcome(
        parse_mobile_number_slow, text, "KR"
    )
    assert _outcome(parse_landline_number, text, "KR") == _outcome(
        parse_landline_number_slow, text, "KR"
    )


def test_r2_13a_national_fast_path_equals_slow_path_for_every_010_prefix() -> None:
    for prefix in range(10_000):
        for text in (f"010{prefix:04d}0000", f"10-{prefix:04d}-9999"):
            assert _outcome(parse_mobile_number, text, "KR") == _outcome(
                parse_mobile_number_slow, text, "KR"
            )


@pytest.mark.parametrize(
    ("language", "country", "national"),
    [
        ("en", "South Korea", "as a national number of South Korea (010-"),
        ("ko", "대한민국", "대한민국 국내 번호로"),
    ],
)
def test_r11_1_phone_reasons_name_the_country_in_the_readers_language(
    language: str, country: str, national: str
) -> None:
    """The closing note's "KR" in phone reasons: a reader sees the country's name in their own
    language, never its ISO code; the stored number does not change with the language."""
    from django.utils import translation

    with translation.override(language):
        with pytest.raises(InvalidValue) as refused:
            parse_mobile_number("010-1234", "KR")
        assert parse_mobile_number("010-1234-5678", "KR") == "+821012345678"
        with pytest.raises(InvalidValue) as landline:
            parse_landline_number(1012345678, "US")
    reason = refused.value.reason
    assert country in reason and national in reason
    assert "KR" not in reason
    united_states = "United States of America" if language == "en" else "미국"
    assert united_states in landline.value.reason and " US " not in landline.value.reason

"""Value parsers (R1.2, R2.13): string, email, number, boolean, the registry; R1.3 limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.values import (
    BUILTIN_KEYS,
    MAX_STRING,
    PROFILE_TYPES,
    InvalidValue,
    from_json,
    is_blank,
    parse_boolean,
    parse_date,
    parse_datetime,
    parse_email,
    parse_landline_number,
    parse_list,
    parse_mobile_number,
    parse_number,
    parse_number_list,
    parse_string,
    parse_tags,
    parser_for,
    to_json,
)
from crm.values.scalars import MAX_SAFE_INTEGER

# --- string -------------------------------------------------------------------------------------


def test_r2_13_string_is_any_text_stripped() -> None:
    assert parse_string("  김철수 ") == "김철수"
    assert parse_string("2025/05/04, 1,000 & [x]") == "2025/05/04, 1,000 & [x]"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (12345, "12345"),  # a memberId typed as a number in Excel
        (12345.0, "12345"),
        (1.5, "1.5"),
        (True, "TRUE"),  # what the same sheet saved as CSV would hold
        (date(2025, 5, 4), "2025-05-04"),
        (datetime(2025, 5, 4, 9, 30), "2025-05-04 09:30:00"),
        (10**600, None),  # 601 digits: too long
        pytest.param(10**5000, None, id="past-the-digits-Python-prints"),
    ],
)
def test_r2_13_string_from_native_xlsx_cells(cell: object, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(InvalidValue, match="at most 512 characters"):
            parse_string(cell)
    else:
        assert parse_string(cell) == expected


@pytest.mark.parametrize("value", ["", "   ", None, ["a"], {"a": 1}, float("nan")])
def test_r2_13_string_refuses_blank_and_non_text(value: object) -> None:
    with pytest.raises(InvalidValue, match="any text of at most 512 characters"):
        parse_string(value)


@given(st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=MAX_STRING - 2))
def test_r1_3_any_string_up_to_512_is_accepted(middle: str) -> None:
    text = f"a{middle}b"  # non-space ends, so stripping keeps the length
    assert parse_string(text) == text


@given(st.text(min_size=MAX_STRING - 1, max_size=MAX_STRING + 100))
def test_r1_3_any_string_over_512_is_refused(middle: str) -> None:
    with pytest.raises(InvalidValue, match="at most 512 characters"):
        parse_string(f"a{middle}b")


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b", "\udfff"])
def test_r1_3_string_refuses_what_the_database_cannot_store(text: str) -> None:
    # NUL and lone surrogates reach us from JSON (\u0000, \ud800); PostgreSQL would refuse them.
    with pytest.raises(InvalidValue, match="NUL or broken Unicode"):
        parse_string(text)
    with pytest.raises(InvalidValue, match="NUL or broken Unicode"):
        parse_list([text])
    with pytest.raises(InvalidValue, match="NUL or broken Unicode"):
        parse_tags([text])


def test_r1_3_string_limit_boundary() -> None:
    assert parse_string("가" * 512) == "가" * 512
    with pytest.raises(InvalidValue, match="513 characters is too long"):
        parse_string("가" * 513)


# --- email --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Kim.CS@Example.COM ", "kim.cs@example.com"),
        ("a+tag@sub.example.co.kr", "a+tag@sub.example.co.kr"),
        ("user@네이버.한국", "user@네이버.한국"),
        ("o'brien@xn--9n2bp8q.com", "o'brien@xn--9n2bp8q.com"),
    ],
)
def test_r1_2_email_is_validated_and_lowercased(text: str, expected: str) -> None:
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "a@b",
        "@example.com",
        "a@.com",
        "a..b@example.com",
        ".a@example.com",
        "a@exa_mple.com",
        "a@-example.com",
        "a@example.c",
        "a b@example.com",
        "a@b@example.com",
        "김@example.com",
        "x" * 65 + "@example.com",
        "a@" + "x" * 600 + ".com",
        12345,
        None,
    ],
)
def test_r1_2_invalid_email_is_refused(value: object) -> None:
    with pytest.raises(InvalidValue, match=r"name@example\.com"):
        parse_email(value)


# --- number -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("1.01", 1.01), ("-3", -3), ("0.5", 0.5), (" 42 ", 42), ("+7", 7), ("1.0", 1.0)],
)
def test_r2_13_number_examples(text: str, expected: int | float) -> None:
    parsed = parse_number(text)
    assert parsed == expected
    assert type(parsed) is type(expected)  # int for integer text, float for decimal text


@pytest.mark.parametrize(
    "text",
    [
        "1,000",
        "1e5",
        "1E5",
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        ".5",
        "5.",
        "1_000",
        "0x10",
        "١٢",
        "1 000",
        "--1",
        "abc",
    ],
)
def test_r2_13_number_refuses_separators_exponents_and_specials(text: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_number(text)
    assert "1.01" in refused.value.reason
    assert "thousands separators" in refused.value.reason


def test_r2_13_number_thousands_separator_reason_says_so() -> None:
    with pytest.raises(InvalidValue, match=r"^'1,000' is not a number \(no thousands separators\)"):
        parse_number("1,000")


def test_r2_13_number_natives_and_bools() -> None:
    assert parse_number(3) == 3
    assert parse_number(2.5) == 2.5
    for value in (True, False, float("nan"), float("inf"), Decimal("1"), "", None):
        with pytest.raises(InvalidValue):
            parse_number(value)


def test_r2_13_number_integers_stay_exact_in_json() -> None:
    assert parse_number(str(MAX_SAFE_INTEGER)) == MAX_SAFE_INTEGER
    assert parse_number(str(-MAX_SAFE_INTEGER)) == -MAX_SAFE_INTEGER
    for value in (str(MAX_SAFE_INTEGER + 1), "9" * 5000, MAX_SAFE_INTEGER + 1):
        with pytest.raises(InvalidValue, match="too large"):
            parse_number(value)


@given(st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER))
def test_r2_13_any_integer_text_parses_to_its_value(number: int) -> None:
    parsed = parse_number(str(number))
    assert parsed == number
    assert type(parsed) is int


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15))
def test_r2_13_any_decimal_text_parses_to_its_value(number: Decimal) -> None:
    text = format(number, "f")
    if "." not in text:
        text += ".0"
    parsed = parse_number(text)
    assert type(parsed) is float
    assert parsed == float(text)


# --- boolean ------------------------------------------------------------------------------------

TRUE_WORDS = ["true", "yes", "y", "1"]
FALSE_WORDS = ["false", "no", "n", "0"]


@given(st.sampled_from(TRUE_WORDS + FALSE_WORDS), st.data())
def test_r2_13_boolean_words_in_any_case(word: str, data: st.DataObject) -> None:
    cased = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in word)
    assert parse_boolean(f" {cased} ") is (word in TRUE_WORDS)


def test_r2_13_boolean_natives() -> None:
    assert parse_boolean(True) is True
    assert parse_boolean(False) is False
    assert parse_boolean(1) is True  # an XLSX or JSON 1
    assert parse_boolean(0) is False


@pytest.mark.parametrize("value", ["maybe", "t", "f", "on", "off", "", "2", 2, -1, 1.0, None, []])
def test_r2_13_boolean_refuses_other_values_naming_the_words(value: object) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_boolean(value)
    assert "true, yes, y or 1" in refused.value.reason
    assert "false, no, n or 0" in refused.value.reason


def test_is_blank() -> None:
    assert is_blank(None) and is_blank("") and is_blank(" \t")
    assert not is_blank("0") and not is_blank(0) and not is_blank(False) and not is_blank([])


# --- registry -----------------------------------------------------------------------------------


def test_r1_2_profile_types_each_have_a_parser() -> None:
    expected = {
        "string": parse_string,
        "number": parse_number,
        "boolean": parse_boolean,
        "date": parse_date,
        "datetime": parse_datetime,
        "list": parse_list,
        "numberList": parse_number_list,
        "tag": parse_tags,
    }
    assert set(PROFILE_TYPES) == set(expected)
    for type_, parser in expected.items():
        assert parser_for("custom", type_) is parser


@pytest.mark.parametrize("declared", [*PROFILE_TYPES, "anything"])
def test_r1_2_builtin_keys_use_their_own_parser_whatever_the_type(declared: str) -> None:
    assert parser_for("email", declared) is parse_email
    assert parser_for("mobileNumber", declared) is parse_mobile_number
    assert parser_for("landlineNumber", declared) is parse_landline_number
    assert parser_for("memberId", declared) is parse_string
    assert parser_for("name", declared) is parse_string
    assert parser_for("unsubscribeEmail", declared) is parse_boolean
    assert parser_for("unsubscribeTexting", declared) is parse_boolean


def test_r1_2_builtin_keys_and_their_types() -> None:
    assert set(BUILTIN_KEYS) == {
        "name",
        "email",
        "mobileNumber",
        "landlineNumber",
        "memberId",
        "unsubscribeEmail",
        "unsubscribeTexting",
    }
    assert {BUILTIN_KEYS["unsubscribeEmail"], BUILTIN_KEYS["email"]} == {"boolean", "string"}


def test_r1_2_unknown_type_is_a_lookup_error_not_a_bad_value() -> None:
    with pytest.raises(LookupError, match="unknown profile type 'money'") as raised:
        parser_for("custom", "money")
    assert not isinstance(raised.value, InvalidValue)


_stored_values = st.one_of(
    st.tuples(st.just("string"), st.text(min_size=1, max_size=MAX_STRING)),
    st.tuples(st.just("number"), st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)),
    st.tuples(st.just("number"), st.floats(allow_nan=False, allow_infinity=False)),
    st.tuples(st.just("boolean"), st.booleans()),
    st.tuples(st.just("date"), st.dates()),
    st.tuples(
        st.just("datetime"),
        st.datetimes(timezones=st.just(UTC)).map(
            lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        ),
    ),
    st.tuples(st.just("list"), st.lists(st.text(max_size=20), max_size=5)),
    st.tuples(st.just("numberList"), st.lists(st.integers(-1000, 1000), max_size=5)),
    st.tuples(st.just("tag"), st.lists(st.sampled_from(["vip", "a/b"]), max_size=2)),
)


@given(_stored_values)
def test_r1_2_to_json_and_from_json_round_trip_through_json_text(typed: tuple[str, object]) -> None:
    type_, value = typed
    stored = to_json(type_, value)
    reloaded = json.loads(json.dumps(stored, ensure_ascii=False))
    assert from_json(type_, reloaded) == value


def test_r1_2_to_json_examples() -> None:
    assert to_json("date", date(2025, 5, 4)) == "2025-05-04"
    assert to_json("datetime", datetime(2025, 5, 4, 9, 0, 0, 5000, tzinfo=UTC)) == (
        "2025-05-04T09:00:00.005Z"
    )
    assert to_json("number", 1.01) == 1.01
    assert from_json("datetime", "2025-05-04T00:00:00.000Z") == datetime(2025, 5, 4, tzinfo=UTC)


def test_invalid_value_carries_its_reason() -> None:
    error = InvalidValue("why", key="k")
    assert isinstance(error, ValueError)
    assert (error.reason, error.key, str(error)) == ("why", "k", "why")
    with pytest.raises(InvalidValue) as refused:
        parse_number("x" * 100)
    assert "…" in refused.value.reason  # a long value is shortened in the reason
    assert len(refused.value.reason) < 200

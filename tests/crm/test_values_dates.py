"""date and datetime (R2.13): every example of the seed's table, natives, and round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.values import InvalidValue, from_json, parse_date, parse_datetime, to_json

MAY_4_UTC = datetime(2025, 5, 4, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The seed's table ("date(날짜), datetime(일시)"): every example means 2025-05-04 00:00 UTC.
SEED_EXAMPLES = [
    "2025-05-04",
    "2025-05-04T09:00:00+09:00",
    "2025-05-04T00:00:00+00:00",
    "2025-05-04T00:00:00Z",
    "2025-05-04T00:00:00",
    "1746316800000",
]


@pytest.mark.parametrize("text", SEED_EXAMPLES)
def test_r2_13_seed_table_examples_are_2025_05_04_midnight_utc(text: str) -> None:
    parsed = parse_datetime(text)
    assert parsed == MAY_4_UTC
    assert parsed.tzinfo is UTC
    assert parse_date(text) == date(2025, 5, 4)
    assert to_json("datetime", parsed) == "2025-05-04T00:00:00.000Z"
    assert to_json("date", parse_date(text)) == "2025-05-04"


@pytest.mark.parametrize(
    "text",
    [
        "2025.05.04",
        "2025/05/04",
        "20250504",  # too close to 1970 for epoch ms: looks like a compact date
        "1746316800",  # epoch *seconds*
        "45781",  # an Excel serial day
        "2025-5-4",
        "2025-05-04T09",
        "2025-W18-7",
        "May 4, 2025",
        "2025-02-30",
        "2025-05-04T24:00:00",
        "2025-05-04T09:00:00+24:00",
        "1746316800000.5",
        "",
        "0001-01-01T00:00:00+09:00",  # before year 1 in UTC
        "99999999999999999",
    ],
)
def test_r2_13_other_date_forms_are_refused_naming_the_accepted_formats(text: str) -> None:
    for parse in (parse_date, parse_datetime):
        with pytest.raises(InvalidValue) as refused:
            parse(text)
        reason = refused.value.reason
        assert "YYYY-MM-DD (2025-05-04)" in reason
        assert "2025-05-04T09:00:00+09:00" in reason
        assert "1746316800000" in reason


def test_r2_13_reason_says_date_or_date_and_time() -> None:
    with pytest.raises(InvalidValue, match=r"^'2025/05/04' is not a date: use YYYY-MM-DD"):
        parse_date("2025/05/04")
    with pytest.raises(InvalidValue, match=r"^'2025/05/04' is not a date and time: use"):
        parse_datetime("2025/05/04")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-05-04T09:30:15.123456+09:00", datetime(2025, 5, 4, 0, 30, 15, 123000, tzinfo=UTC)),
        ("2025-05-04T09:30:15.123456789Z", datetime(2025, 5, 4, 9, 30, 15, 123000, tzinfo=UTC)),
        ("2025-05-04 09:30:15", datetime(2025, 5, 4, 9, 30, 15, tzinfo=UTC)),  # Excel's CSV
        ("2025-05-04T09:30", datetime(2025, 5, 4, 9, 30, tzinfo=UTC)),
        ("2025-05-04T09:30:00+0900", datetime(2025, 5, 4, 0, 30, tzinfo=UTC)),
        ("2025-05-04T00:00:00-05:00", datetime(2025, 5, 4, 5, 0, tzinfo=UTC)),
        (" 1746316800000 ", MAY_4_UTC),
        ("-315619200000", datetime(1960, 1, 1, tzinfo=UTC)),  # before 1970, far enough from it
    ],
)
def test_r2_13_iso_8601_variants_become_utc_truncated_to_milliseconds(
    text: str, expected: datetime
) -> None:
    assert parse_datetime(text) == expected


def test_r2_13_a_date_key_takes_the_utc_date_of_an_instant() -> None:
    # One instant, one date, however it is written: KST 08:00 on the 4th is the 3rd in UTC.
    assert parse_date("2025-05-04T08:00:00+09:00") == date(2025, 5, 3)
    assert parse_date("2025-05-04T09:00:00+09:00") == date(2025, 5, 4)
    assert parse_date(datetime(2025, 5, 4, 23, 59)) == date(2025, 5, 4)  # naive = UTC
    assert parse_date(datetime(2025, 5, 4, 8, tzinfo=timezone(timedelta(hours=9)))) == date(
        2025, 5, 3
    )


def test_r2_13_native_xlsx_and_json_values() -> None:
    assert parse_datetime(datetime(2025, 5, 4)) == MAY_4_UTC  # naive XLSX cell = UTC
    assert parse_datetime(date(2025, 5, 4)) == MAY_4_UTC
    assert parse_datetime(1746316800000) == MAY_4_UTC  # JSON number
    assert parse_datetime(1746316800000.0) == MAY_4_UTC
    assert parse_date(date(2025, 5, 4)) == date(2025, 5, 4)
    assert parse_date(1746316800000) == date(2025, 5, 4)
    aware = datetime(2025, 5, 4, 9, tzinfo=timezone(timedelta(hours=9)))
    assert parse_datetime(aware) == MAY_4_UTC
    assert parse_datetime(aware).tzinfo is UTC


@pytest.mark.parametrize("value", [True, False, 45781, 1746316800000.5, [2025], None, b"2025"])
def test_r2_13_native_non_dates_are_refused(value: object) -> None:
    with pytest.raises(InvalidValue, match="YYYY-MM-DD"):
        parse_datetime(value)
    with pytest.raises(InvalidValue, match="YYYY-MM-DD"):
        parse_date(value)


# --- properties ---------------------------------------------------------------------------------

_instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
_offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(_instants)
def test_r2_13_datetime_json_round_trip(moment: datetime) -> None:
    stored = to_json("datetime", moment)
    assert isinstance(stored, str)
    assert len(stored) == len("2025-05-04T00:00:00.000Z")
    assert from_json("datetime", stored) == moment
    assert parse_datetime(stored) == moment  # the stored form is itself accepted input


@given(st.dates())
def test_r2_13_date_json_round_trip(day: date) -> None:
    stored = to_json("date", day)
    assert stored == day.isoformat()
    assert from_json("date", stored) == day
    assert parse_date(stored) == day


@given(_instants, _instants)
def test_r2_13_stored_datetimes_sort_as_text_in_time_order(one: datetime, two: datetime) -> None:
    first, second = to_json("datetime", one), to_json("datetime", two)
    assert isinstance(first, str) and isinstance(second, str)
    assert (first < second) == (one < two)


@given(_instants, _offsets)
def test_r2_13_any_iso_8601_with_offset_is_the_same_instant(
    moment: datetime, offset: timezone
) -> None:
    try:
        local = moment.astimezone(offset)
    except OverflowError:
        return  # outside years 1..9999 once shifted
    text = local.isoformat()
    assert parse_datetime(text) == moment
    assert parse_date(text) == moment.date()


@given(
    st.integers(min_value=10**11, max_value=253402300799999)
    | st.integers(min_value=-62135596800000, max_value=-(10**11))
)
def test_r2_13_epoch_milliseconds_anywhere_but_near_1970(millis: int) -> None:
    expected = _EPOCH + timedelta(milliseconds=millis)
    assert parse_datetime(str(millis)) == expected
    assert parse_datetime(millis) == expected
    assert parse_date(str(millis)) == expected.date()


@given(st.integers(min_value=-(10**11) + 1, max_value=10**11 - 1))
def test_r2_13_epoch_values_near_1970_are_refused_as_likely_mistakes(millis: int) -> None:
    with pytest.raises(InvalidValue, match="too close to 1970"):
        parse_datetime(str(millis))

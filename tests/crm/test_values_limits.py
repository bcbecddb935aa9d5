"""R1.3 limits of a whole profile: keys, 15 KB of UTF-8 JSON, and each value again."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.values import MAX_KEYS, MAX_PROFILE_BYTES, MAX_STRING, InvalidValue, check_profile
from crm.values.scalars import MAX_SAFE_INTEGER


def _profile_of_bytes(size: int) -> dict[str, object]:
    """A profile whose compact UTF-8 JSON is exactly ``size`` bytes, no value over 512 chars."""
    profile: dict[str, object] = {}
    index = 0
    while True:
        current = len(json.dumps(profile, separators=(",", ":")).encode())
        missing = size - current
        # An entry costs its key and value plus '"kNNN":"",' (10 bytes, 9 for the first).
        room = missing - (9 if not profile else 10)
        if room <= MAX_STRING:
            profile[f"k{index:03d}"] = "x" * room
            break
        profile[f"k{index:03d}"] = "x" * MAX_STRING
        index += 1
    assert len(json.dumps(profile, separators=(",", ":")).encode()) == size
    return profile


def test_r1_3_a_profile_of_exactly_15_kb_is_accepted_and_one_byte_more_is_refused() -> None:
    check_profile(_profile_of_bytes(MAX_PROFILE_BYTES))
    with pytest.raises(
        InvalidValue, match=r"15,361 bytes as JSON: a whole profile is at most 15 KB"
    ):
        check_profile(_profile_of_bytes(MAX_PROFILE_BYTES + 1))


def test_r1_3_profile_size_counts_utf8_bytes_not_characters() -> None:
    korean = {f"k{index}": "가" * 500 for index in range(11)}  # 5,500 characters, ~16.6 KB
    with pytest.raises(InvalidValue, match="at most 15 KB"):
        check_profile(korean)


def test_r1_3_profile_size_counts_dates_as_stored() -> None:
    moment = datetime(2025, 5, 4, tzinfo=UTC)
    check_profile({"when": moment, "day": date(2025, 5, 4)})


def test_r1_3_at_most_256_keys() -> None:
    check_profile({f"k{index}": 1 for index in range(MAX_KEYS)})
    with pytest.raises(InvalidValue, match="257 keys: a profile holds at most 256 keys"):
        check_profile({f"k{index}": 1 for index in range(MAX_KEYS + 1)})


def test_r1_3_profile_values_over_their_limits_are_refused_naming_the_key() -> None:
    with pytest.raises(InvalidValue, match="at most 512 characters") as refused:
        check_profile({"bio": "x" * 513})
    assert refused.value.key == "bio"
    with pytest.raises(InvalidValue, match="at most 200 items") as refused:
        check_profile({"scores": list(range(201))})
    assert refused.value.key == "scores"
    with pytest.raises(InvalidValue, match="each string in a list holds at most 512") as refused:
        check_profile({"notes": ["x" * 513]})
    assert refused.value.key == "notes"


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=50))
def test_r1_3_small_profiles_pass(profile: dict[str, object]) -> None:
    check_profile(profile)


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.one_of(
            st.text(max_size=MAX_STRING),
            st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
            st.floats(allow_nan=False, allow_infinity=False),
            st.booleans(),
            st.lists(st.text(max_size=MAX_STRING), max_size=40),
            st.lists(st.integers() | st.floats(allow_nan=False, allow_infinity=False), max_size=40),
        ),
        max_size=60,
    )
)
def test_r1_3_profile_is_refused_exactly_when_its_json_is_over_15_kb(
    profile: dict[str, object],
) -> None:
    size = len(json.dumps(profile, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_PROFILE_BYTES:
        with pytest.raises(InvalidValue, match="at most 15 KB"):
            check_profile(profile)
    else:
        check_profile(profile)

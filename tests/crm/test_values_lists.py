"""list, numberList and tag (R2.13, R1.3): the seed's examples, limits and tag rules."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.values import (
    MAX_LIST_ITEMS,
    MAX_STRING,
    InvalidValue,
    parse_list,
    parse_number_list,
    parse_tags,
)
from crm.values.scalars import MAX_SAFE_INTEGER

# --- list of strings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('["a","b"]', ["a", "b"]),
        ("[\u201cstring1\u201d,\u201cstring2\u201d]", ["string1", "string2"]),  # Excel's quotes
        ("[\u201dstring1\u201d,\u201dstring2\u201d]", ["string1", "string2"]),  # the seed, verbatim
        (' [ "a" , "b" ] ', ["a", "b"]),
        ('["김철수", "a\\"b"]', ["김철수", 'a"b']),
        ('["He said \u201chi\u201d"]', ["He said \u201chi\u201d"]),  # inner typographic quotes kept
        ("[]", []),
    ],
)
def test_r2_13_list_of_strings_examples(text: str, expected: list[str]) -> None:
    assert parse_list(text) == expected


def test_r2_13_list_from_the_seed_literally() -> None:
    assert parse_list("[”string1”,”string2”]") == ["string1", "string2"]


def test_r2_13_list_native_from_the_api() -> None:
    assert parse_list(["a", "b"]) == ["a", "b"]
    assert parse_list(("a",)) == ["a"]


@pytest.mark.parametrize(
    "value",
    ["a,b", "a", '["a",1]', "[a,b]", "['a','b']", '["a"', '{"a":1}', "[NaN]", '[["a"]]', 7, [1]],
)
def test_r2_13_malformed_lists_are_refused_naming_the_format(value: object) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_list(value)
    assert '["a","b"]' in refused.value.reason


@given(
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=MAX_STRING),
        max_size=MAX_LIST_ITEMS,
    )
)
def test_r1_3_any_list_within_limits_round_trips(items: list[str]) -> None:
    assert parse_list(json.dumps(items)) == items
    assert parse_list(json.dumps(items, ensure_ascii=False)) == items
    assert parse_list(items) == items


@given(
    st.lists(
        st.text(
            alphabet=st.characters(
                exclude_characters='"\\\u201c\u201d', exclude_categories=("Cc", "Cs")
            ),
            max_size=20,
        ),
        max_size=10,
    )
)
def test_r2_13_any_list_in_typographic_quotes_parses(items: list[str]) -> None:
    text = "[" + ",".join(f"\u201c{item}\u201d" for item in items) + "]"
    assert parse_list(text) == items


@given(st.lists(st.just("x"), min_size=MAX_LIST_ITEMS + 1, max_size=MAX_LIST_ITEMS + 20))
def test_r1_3_a_list_over_200_items_is_refused(items: list[str]) -> None:
    with pytest.raises(InvalidValue, match=f"has {len(items)} items"):
        parse_list(json.dumps(items))
    with pytest.raises(InvalidValue, match="at most 200 items"):
        parse_list(items)


def test_r1_3_each_string_in_a_list_is_at_most_512_characters() -> None:
    assert parse_list(json.dumps(["x" * 512])) == ["x" * 512]
    with pytest.raises(InvalidValue, match="item 2 has 513 characters"):
        parse_list(json.dumps(["ok", "x" * 513]))


# --- list of numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("[1,2]", [1, 2]), ("[1.5, -3, 0]", [1.5, -3, 0]), ("[]", []), ([1, 2.5], [1, 2.5])],
)
def test_r2_13_number_list_examples(value: object, expected: list[int | float]) -> None:
    parsed = parse_number_list(value)
    assert parsed == expected
    assert [type(number) for number in parsed] == [type(number) for number in expected]


@pytest.mark.parametrize(
    "value",
    [
        "[1e5]",
        "[NaN]",
        "[Infinity]",
        "[true]",
        '["1"]',
        "[1,,2]",
        "1,2",
        "[9007199254740992]",
        [True],
        ["1"],
        [float("nan")],
        [2**53],
        [None],
    ],
)
def test_r2_13_number_list_refuses_what_a_number_column_refuses(value: object) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_number_list(value)
    assert "1.01" in refused.value.reason or "[1,2]" in refused.value.reason


@given(st.lists(st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER), max_size=MAX_LIST_ITEMS))
def test_r1_3_any_number_list_within_limits_round_trips(numbers: list[int]) -> None:
    assert parse_number_list(json.dumps(numbers)) == numbers


@given(st.integers(min_value=MAX_LIST_ITEMS + 1, max_value=MAX_LIST_ITEMS + 50))
def test_r1_3_a_number_list_over_200_items_is_refused(count: int) -> None:
    with pytest.raises(InvalidValue, match="at most 200 items"):
        parse_number_list(json.dumps([1] * count))


# --- tags ---------------------------------------------------------------------------------------


def test_r2_13_tag_example_of_the_seed() -> None:
    assert parse_tags('["기본/단계1", "고급/단계2"]') == ["기본/단계1", "고급/단계2"]
    assert parse_tags("[\u201c기본/단계1\u201d,\u201c고급/단계2\u201d]") == [
        "기본/단계1",
        "고급/단계2",
    ]


def test_r2_13_tags_are_stripped_and_deduplicated_in_order() -> None:
    assert parse_tags(["vip", " vip ", "new", "vip"]) == ["vip", "new"]


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("a/b/c", "has 3 levels"),
        ("/a", "starts or ends with /"),
        ("a/", "starts or ends with /"),
        ("/", "starts or ends with /"),
        ("a/ /", "has 3 levels"),
        ("a//b", "has 3 levels"),
        ("a/ ", "starts or ends with /"),
        (" /a", "starts or ends with /"),
        ("a. b", "contains '.'"),
        ("a$b", "contains '$'"),
        ("a\\b", "contains '\\'"),
        ("a\u3164b", "Hangul filler"),
        ("\u3164", "Hangul filler"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("x" * 513, "has 513 characters"),
    ],
)
def test_r2_13_tag_rules(tag: str, why: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(why)) as refused:
        parse_tags([tag])
    assert '"/" makes at most 2 levels' in refused.value.reason
    with pytest.raises(InvalidValue, match=re.escape(why)):
        parse_tags(json.dumps([tag], ensure_ascii=False))


@pytest.mark.parametrize("value", ["vip", "a,b", 3, "[1]", '["a", null]'])
def test_r2_13_tags_must_be_a_list_of_texts(value: object) -> None:
    with pytest.raises(InvalidValue, match=r'\["basic/step1","advanced/step2"\]'):
        parse_tags(value)


_level = st.text(
    alphabet=st.characters(
        exclude_characters="/.$\\\u3164", categories=("L", "M", "N", "P", "S", "Zs")
    ),
    min_size=1,
    max_size=30,
).filter(lambda level: level.strip() == level and level != "")


@given(st.lists(st.tuples(_level, st.none() | _level), max_size=MAX_LIST_ITEMS))
def test_r2_13_any_one_or_two_level_tag_is_accepted(pairs: list[tuple[str, str | None]]) -> None:
    tags = [first if second is None else f"{first}/{second}" for first, second in pairs]
    expected = list(dict.fromkeys(tags))
    assert parse_tags(tags) == expected
    assert parse_tags(json.dumps(tags, ensure_ascii=False)) == expected


@given(_level, st.sampled_from(".$\\\u3164"), st.integers(min_value=0, max_value=30))
def test_r2_13_a_tag_with_a_forbidden_character_is_refused(
    level: str, forbidden: str, at: int
) -> None:
    tag = level[:at] + forbidden + level[at:]
    with pytest.raises(InvalidValue, match="contains"):
        parse_tags([tag])


@given(st.lists(_level, min_size=3, max_size=6))
def test_r2_13_a_tag_of_three_levels_or_more_is_refused(levels: list[str]) -> None:
    with pytest.raises(InvalidValue, match=f"has {len(levels)} levels"):
        parse_tags(["/".join(levels)])


@given(_level, st.booleans())
def test_r2_13_a_tag_starting_or_ending_with_a_slash_is_refused(level: str, at_start: bool) -> None:
    tag = f"/{level}" if at_start else f"{level}/"
    with pytest.raises(InvalidValue, match="starts or ends with /"):
        parse_tags([tag])


def test_r1_3_tags_limits() -> None:
    assert len(parse_tags([f"t{index}" for index in range(MAX_LIST_ITEMS)])) == MAX_LIST_ITEMS
    with pytest.raises(InvalidValue, match="201 items"):
        parse_tags([f"t{index}" for index in range(MAX_LIST_ITEMS + 1)])
    assert parse_tags(["x" * MAX_STRING]) == ["x" * MAX_STRING]


def _tag_rules_hold(tag: str) -> bool:
    """The seed's tag rules, written independently of the parser, as an oracle."""
    tag = tag.strip()
    return (
        0 < len(tag) <= MAX_STRING
        and not any(character in tag for character in ".$\\\u3164")
        and tag.count("/") <= 1
        and not tag.startswith("/")
        and not tag.endswith("/")
    )


@given(st.text(alphabet=st.sampled_from("ab 가/.$\\\u3164\t"), max_size=12))
def test_r2_13_a_tag_is_accepted_exactly_when_the_rules_hold(tag: str) -> None:
    try:
        parsed = parse_tags([tag])
    except InvalidValue:
        assert not _tag_rules_hold(tag)
    else:
        assert _tag_rules_hold(tag)
        assert parsed == [tag.strip()]

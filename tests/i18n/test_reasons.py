"""R11.1, R11.3: the value parsers' reasons are written in the language active when a value is
refused (a manager's page, a job in its manager's language), while the Open API answers in
English whatever the browser says."""

from __future__ import annotations

import pytest
from django.utils import translation

from crm.services.channels import NewChannel
from crm.values import InvalidValue, parse_date, parse_mobile_number, parse_number, parse_tags
from crm.values.parsers import DATE_FORMATS, TAG_FORMATS
from tests.crm.test_api_support import NEW, Api


def reason(parse: object, value: object, language: str) -> str:
    with translation.override(language), pytest.raises(InvalidValue) as refused:
        parse(value)  # type: ignore[operator]
    return refused.value.reason


@pytest.mark.parametrize(
    ("parse", "value", "english", "korean"),
    [
        (
            parse_date,
            "2025/05/04",
            "'2025/05/04' is not a date: use YYYY-MM-DD",
            "날짜 형식이 아닙니다",
        ),
        (parse_date, "2025-02-30", "is not a real date", "존재하지 않는 날짜입니다"),
        (parse_number, "1,000", "is not a number (no thousands separators)", "천 단위 쉼표"),
        (parse_tags, '["a/b/c"]', "has 3 levels", "1번째 태그('a/b/c')가 3단계입니다"),
        (parse_mobile_number, "010-1234", "has no country code", "국가 번호가 없습니다"),
    ],
)
def test_r11_1_a_value_parsers_reason_is_in_the_active_language(
    parse: object, value: str, english: str, korean: str
) -> None:
    assert english in reason(parse, value, "en")
    assert korean in reason(parse, value, "ko")


def test_r11_1_a_cached_phone_verdict_does_not_keep_the_first_language() -> None:
    """Phone numbers are classified once per text (an LRU cache): the cache keeps what is
    wrong, not a sentence, so the same bad number reads right in the next language."""
    number = "+82 10 1234 5678 ext. 9"
    wrong = "has characters a phone number does not have"
    assert wrong in reason(parse_mobile_number, number, "en")
    assert "전화번호에 쓸 수 없는 문자가 있습니다" in reason(parse_mobile_number, number, "ko")
    assert wrong in reason(parse_mobile_number, number, "en")


def test_r11_1_the_accepted_formats_are_read_in_the_language_of_the_reader() -> None:
    with translation.override("ko"):
        assert "입력해 주세요" in str(DATE_FORMATS)
        assert "최대 200개" in str(TAG_FORMATS)
    with translation.override("en"):
        assert str(DATE_FORMATS).startswith("use YYYY-MM-DD")


@pytest.mark.django_db
@pytest.mark.usefixtures("korean")
def test_r11_3_the_open_api_refuses_a_value_in_english_for_a_korean_browser(
    new_channel: NewChannel,
) -> None:
    api = Api.of(new_channel.channel, new_channel.access_secret)
    api.headers["accept-language"] = "ko-KR,ko;q=0.9"
    answer = api.put_member("m-1", {**NEW, "profile": {"email": "not-an-address"}})
    assert answer.status in (400, 422), answer.body
    text = str(answer.body)
    assert "is not a valid email address" in text
    assert not any("\uac00" <= ch <= "\ud7a3" for ch in text)  # no Hangul

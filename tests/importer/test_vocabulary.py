"""R2.8a: automatic mapping knows how Korean and English spreadsheets name things."""

from __future__ import annotations

import pytest

from importer.vocabulary import (
    auto_mapping,
    key_by_values,
    normalise_header,
    skipped_lookalikes,
    suggest,
)

BUILTIN = {
    "name": "",
    "email": "",
    "mobileNumber": "",
    "landlineNumber": "",
    "memberId": "",
    "unsubscribeEmail": "",
    "unsubscribeTexting": "",
}

# Real headers from Korean and English customer lists, shop exports and templates.
HEADERS = [
    ("이름", "name"),
    ("성명", "name"),
    ("고객명", "name"),
    ("회원명", "name"),
    ("성함", "name"),
    ("이름 (필수)", "name"),
    ("[필수] 이름", "name"),
    ("Name", "name"),
    ("Full Name", "name"),
    ("Customer name", "name"),
    ("이메일", "email"),
    ("메일", "email"),
    ("이메일 주소", "email"),
    ("이메일(선택)", "email"),
    ("E-mail", "email"),
    ("EMAIL", "email"),
    ("Email Address", "email"),
    ("휴대폰", "mobileNumber"),
    ("핸드폰", "mobileNumber"),
    ("휴대전화", "mobileNumber"),
    ("휴대폰번호", "mobileNumber"),
    ("휴대폰 번호", "mobileNumber"),
    ("휴대폰 번호 (선택)", "mobileNumber"),
    ("핸드폰 번호*", "mobileNumber"),
    ("연락처", "mobileNumber"),
    ("휴대전화번호", "mobileNumber"),
    ("H.P", "mobileNumber"),
    ("Mobile", "mobileNumber"),
    ("Mobile Number", "mobileNumber"),
    ("mobile_number", "mobileNumber"),
    ("mobileNumber", "mobileNumber"),
    ("Phone", "mobileNumber"),
    ("Cell phone", "mobileNumber"),
    ("전화번호", "landlineNumber"),
    ("유선번호", "landlineNumber"),
    ("유선 전화", "landlineNumber"),
    ("Tel", "landlineNumber"),
    ("Telephone", "landlineNumber"),
    ("landlineNumber", "landlineNumber"),
    ("회원아이디", "memberId"),
    ("회원 아이디", "memberId"),
    ("회원ID", "memberId"),
    ("회원 ID", "memberId"),
    ("아이디", "memberId"),
    ("ID", "memberId"),
    ("member_id", "memberId"),
    ("Member ID", "memberId"),
    ("memberid", "memberId"),
    ("이메일 수신거부", "unsubscribeEmail"),
    ("이메일수신거부", "unsubscribeEmail"),
    ("메일 수신거부", "unsubscribeEmail"),
    ("Unsubscribe email", "unsubscribeEmail"),
    ("문자 수신거부", "unsubscribeTexting"),
    ("SMS 수신거부", "unsubscribeTexting"),
    ("sms수신거부", "unsubscribeTexting"),
    ("문자수신거부", "unsubscribeTexting"),
    # consent columns: the unsubscribe key, inverted
    ("수신동의", "!unsubscribeEmail"),
    ("수신여부", "!unsubscribeEmail"),
    ("마케팅 수신동의", "!unsubscribeEmail"),
    ("광고성 정보 수신동의", "!unsubscribeEmail"),
    ("이메일 수신동의", "!unsubscribeEmail"),
    ("이메일 수신여부", "!unsubscribeEmail"),
    ("agree to email", "!unsubscribeEmail"),
    ("Agree", "!unsubscribeEmail"),
    ("Accepts Email Marketing", "!unsubscribeEmail"),
    ("SMS 수신동의", "!unsubscribeTexting"),
    ("SMS 수신여부", "!unsubscribeTexting"),
    ("문자 수신동의", "!unsubscribeTexting"),
    ("SMS수신여부(선택)", "!unsubscribeTexting"),
    ("Accepts SMS Marketing", "!unsubscribeTexting"),
    ("agree to SMS", "!unsubscribeTexting"),
    # not a built-in key
    ("주소", None),
    ("메모", None),
    ("등급", None),
    ("가입일", None),
    ("회원번호", None),
    ("Address", None),
]


@pytest.mark.parametrize(("header", "expected"), HEADERS)
def test_r2_8a_headers_korean_and_english_spreadsheets_use(
    header: str, expected: str | None
) -> None:
    assert suggest(header, [], BUILTIN, "KR") == expected


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("휴대폰 번호 (선택)", "휴대폰번호"),
        ("  E-Mail  ", "email"),
        ("회원 ID*", "회원id"),
        ("\uff33\uff2d\uff33 수신여부", "sms수신여부"),  # full-width letters
        ("이름\uff08필수\uff09", "이름"),  # full-width brackets
        ("(선택)", "선택"),  # a header that is only a note keeps its words
        ("주소 (도로명)", "주소도로명"),  # a bracket that is not a note is part of the name
    ],
)
def test_r2_8a_headers_are_compared_normalised(header: str, normalised: str) -> None:
    assert normalise_header(header) == normalised


def test_r2_8a_custom_keys_are_matched_by_their_labels_and_names() -> None:
    keys = {**BUILTIN, "grade": "회원 등급", "joinedAt": "가입일"}
    mapping = auto_mapping(["회원등급", "가입일", "JoinedAt", "Grade"], keys)
    assert mapping == {"회원등급": "grade", "가입일": "joinedAt"}  # each key once, first wins


def test_r2_8a_columns_recognised_by_their_values() -> None:
    headers = ["A", "B", "C", "D"]
    samples = [
        ["kim@example.com", "LEE@Example.co.kr"],
        ["010-1234-5678", "01022223333", "+82 10 3333 4444"],
        ["VIP", "일반"],
        [],
    ]
    assert auto_mapping(headers, BUILTIN, samples, "KR") == {"A": "email", "B": "mobileNumber"}
    # Without a default country, national numbers are not plainly mobiles.
    assert auto_mapping(headers, BUILTIN, samples, None) == {"A": "email"}


def test_r2_8a_a_column_with_one_odd_value_is_not_recognised() -> None:
    assert key_by_values(["kim@example.com", "모름"], "KR") is None
    assert key_by_values(["010-1234-5678", "02-555-6666"], "KR") is None  # a landline among them


def test_r2_8a_a_named_column_wins_over_one_recognised_by_values() -> None:
    samples = [["a@example.com"], ["b@example.com"]]
    assert auto_mapping(["연락 메일", "이메일"], BUILTIN, samples, "KR") == {"이메일": "email"}


def test_r2_8a_keys_not_offered_are_not_suggested() -> None:
    lead_keys = {k: v for k, v in BUILTIN.items() if k != "memberId"}
    assert auto_mapping(["아이디", "이메일"], lead_keys) == {"이메일": "email"}


def test_r2_8a_one_key_per_column_inverted_or_not() -> None:
    mapping = auto_mapping(["이메일 수신거부", "이메일 수신동의", "휴대폰", "연락처"], BUILTIN)
    assert mapping == {"이메일 수신거부": "unsubscribeEmail", "휴대폰": "mobileNumber"}


def test_r2_8a_columns_left_out_that_look_like_keys_are_listed() -> None:
    headers = ["휴대폰", "연락처", "메모", "X"]
    samples = [["010-1234-5678"], ["010-2222-3333"], ["전화 요망"], ["kim@example.com"]]
    mapping = {"휴대폰": "mobileNumber", "연락처": "", "메모": "", "X": ""}
    assert skipped_lookalikes(headers, mapping, BUILTIN, samples, "KR") == [
        ("연락처", "mobileNumber"),
        ("X", "email"),
    ]

"""How spreadsheets name things (R2.8a): the headers Korean and English files give the built-in
keys, custom keys by their labels, and columns recognised by their values.

Headers are compared in a normalised form (``normalise_header``): Unicode NFKC, case folded,
``(선택)``-style bracketed notes and ``*`` marks dropped, spaces and punctuation removed, so
``휴대폰 번호 (선택)``, ``휴대폰번호`` and ``휴대폰-번호*`` are one header.

A consent column (``수신동의``, ``SMS 수신여부``, "Accepts email marketing") says the opposite of
an unsubscribe key: it maps to that key **inverted**, written ``!unsubscribeEmail`` in a mapping
(``inverted_key``/``split_inverted``), and its booleans are negated on import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence

from crm.values import InvalidValue, parse_email, parse_mobile_number

INVERTED = "!"  # a mapping value "!unsubscribeEmail": the column's booleans are negated

# fmt: off
# The built-in keys under the headers spreadsheets give them (normalised when looked up).
_BUILTIN_HEADERS: Mapping[str, Sequence[str]] = {
    "name": (
        "이름", "성명", "고객명", "고객 이름", "회원명", "회원 이름", "성함", "실명", "이름(실명)",
        "name", "full name", "customer name", "member name", "first name last name",
    ),
    "email": (
        "이메일", "메일", "이메일 주소", "메일 주소", "전자우편", "전자 메일", "이메일주소(e-mail)",
        "email", "e-mail", "email address", "e-mail address", "mail",
    ),
    "mobileNumber": (
        "휴대폰", "핸드폰", "휴대전화", "휴대폰 번호", "핸드폰 번호", "휴대전화 번호", "휴대번호",
        "휴대폰 연락처", "연락처", "연락처(휴대폰)", "모바일", "모바일 번호", "HP", "H.P",
        "mobile", "mobile number", "mobile phone", "cell", "cell phone", "cellphone",
        "phone", "phone number", "contact number",
    ),
    "landlineNumber": (
        "전화번호", "전화", "유선번호", "유선 전화", "유선전화번호", "일반전화", "집 전화", "자택 전화",
        "회사 전화", "직장 전화", "tel", "telephone", "landline", "landline number", "home phone",
        "work phone", "office phone",
    ),
    "memberId": (
        "회원아이디", "회원 ID", "아이디", "회원 아이디", "사용자 아이디", "사용자 ID", "로그인 아이디",
        "로그인 ID", "ID", "member id", "member_id", "user id", "userid", "login id",
    ),
    "unsubscribeEmail": (
        "이메일 수신거부", "메일 수신거부", "이메일 수신 거부", "이메일 거부", "email unsubscribe",
        "unsubscribe email", "unsubscribed from email", "email opt out", "email opt-out",
    ),
    "unsubscribeTexting": (
        "문자 수신거부", "SMS 수신거부", "문자 수신 거부", "SMS 거부", "문자 거부", "sms unsubscribe",
        "unsubscribe sms", "unsubscribe texting", "unsubscribe text", "sms opt out",
        "sms opt-out", "texting opt out",
    ),
}

# Consent columns: yes means subscribed, so they fill the unsubscribe key inverted. A consent
# that names no channel (수신동의, 마케팅 수신동의) is taken as email consent.
_CONSENT_HEADERS: Mapping[str, Sequence[str]] = {
    "unsubscribeEmail": (
        "수신동의", "수신 동의", "수신여부", "수신 여부", "마케팅 수신동의", "마케팅 수신 동의",
        "광고 수신동의", "광고성 정보 수신동의", "마케팅 정보 수신동의", "이메일 수신동의",
        "메일 수신동의", "이메일 수신여부", "메일 수신여부", "이메일 수신", "이메일 동의",
        "agree", "agree to email", "agrees to email", "email consent", "email opt in",
        "email opt-in", "accepts email marketing", "accepts marketing", "marketing consent",
        "email subscribed", "subscribed to email", "newsletter",
    ),
    "unsubscribeTexting": (
        "SMS 수신동의", "문자 수신동의", "SMS 수신여부", "문자 수신여부", "SMS 수신", "문자 수신",
        "SMS 동의", "문자 동의", "agree to sms", "agrees to sms", "agree to texting",
        "sms consent", "sms opt in", "sms opt-in", "accepts sms marketing", "sms subscribed",
    ),
}

# fmt: on

# Bracketed notes such as (선택) or [필수], and required marks; NFKC makes full-width brackets ASCII.
_NOTE_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\*|※")
# Everything that is not a letter or a digit: spaces, punctuation, symbols.
_NOT_WORD_RE = re.compile(r"[\W_]+")
_NOTES = frozenset(
    {"선택", "필수", "optional", "required", "선택사항", "필수사항", "선택입력", "필수입력"}
)


def normalise_header(header: str) -> str:
    """The comparable form of a header: ``"휴대폰 번호 (선택)"`` → ``"휴대폰번호"``."""
    text = unicodedata.normalize("NFKC", header).casefold().strip()

    def drop_note(match: re.Match[str]) -> str:
        inner = _NOT_WORD_RE.sub("", match.group(0))
        return "" if not inner or inner in _NOTES else match.group(0)

    stripped = _NOTE_RE.sub(drop_note, text)
    for note in _NOTES:  # a trailing note without brackets: "휴대폰 선택"
        if stripped.endswith(" " + note):
            stripped = stripped[: -len(note) - 1]
    return _NOT_WORD_RE.sub("", stripped) or _NOT_WORD_RE.sub("", text)


def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for key, headers in _BUILTIN_HEADERS.items():
        for header in headers:
            table.setdefault(normalise_header(header), key)
    for key, headers in _CONSENT_HEADERS.items():
        for header in headers:
            table.setdefault(normalise_header(header), inverted_key(key))
    return table


def inverted_key(key: str) -> str:
    return INVERTED + key


def split_inverted(value: str) -> tuple[str, bool]:
    """``"!unsubscribeEmail"`` → ``("unsubscribeEmail", True)``; a plain key → ``(key, False)``."""
    if value.startswith(INVERTED):
        return value[len(INVERTED) :], True
    return value, False


INVERTIBLE_KEYS = tuple(_CONSENT_HEADERS)
_VOCABULARY: Mapping[str, str] = _table()


def headers_for(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The headers recognised for a built-in key: (as it is, as consent: inverted)."""
    return tuple(_BUILTIN_HEADERS.get(key, ())), tuple(_CONSENT_HEADERS.get(key, ()))


def known_key(header: str) -> str | None:
    """The built-in key (``!key`` when inverted) that a header names, if the vocabulary knows it."""
    return _VOCABULARY.get(normalise_header(header))


def _all_parse(samples: Sequence[object], parse: Callable[[object], object]) -> bool:
    values = [s for s in samples if s is not None and str(s).strip()]
    if not values:
        return False
    for value in values:
        try:
            parse(value)
        except InvalidValue:
            return False
    return True


def key_by_values(samples: Sequence[object], region: str | None) -> str | None:
    """``email`` or ``mobileNumber`` when every non-empty sample is plainly one (R2.8a)."""
    if _all_parse(samples, parse_email):
        return "email"
    if _all_parse(samples, lambda v: parse_mobile_number(v, region)):
        return "mobileNumber"
    return None


def key_by_header(header: str, keys: Mapping[str, str]) -> str | None:
    """The key a header names (``!key`` when inverted), or None. ``keys`` maps each profile key
    offered to its label ("" when none). Order: the key's own name, a label, the vocabulary."""
    norm = normalise_header(header)
    for key in keys:
        if normalise_header(key) == norm:
            return key
    for key, label in keys.items():
        if label and normalise_header(label) == norm:
            return key
    known = _VOCABULARY.get(norm)
    if known is not None and split_inverted(known)[0] in keys:
        return known
    return None


def suggest(
    header: str, samples: Sequence[object], keys: Mapping[str, str], region: str | None
) -> str | None:
    """What a column looks like, by its header, else by its values: a key (``!key`` when
    inverted), or None."""
    named = key_by_header(header, keys)
    if named is not None:
        return named
    found = key_by_values(samples, region)
    return found if found in keys else None


def auto_mapping(
    headers: Sequence[str],
    keys: Mapping[str, str] | Iterable[str],
    samples: Sequence[Sequence[object]] | None = None,
    region: str | None = None,
) -> dict[str, str]:
    """Headers that name a key (or whose values are plainly one), each key used once.

    ``keys``: the keys offered, with their labels (a mapping) or without (names). Columns named
    after a key win over columns recognised by their values; then file order.
    """
    labels = dict(keys) if isinstance(keys, Mapping) else {k: "" for k in keys}
    columns = samples if samples is not None else [()] * len(headers)
    by_header = [key_by_header(h, labels) for h in headers]
    by_values = [
        None if named else key_by_values(list(column), region)
        for named, column in zip(by_header, columns, strict=True)
    ]
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for suggestions in (by_header, by_values):
        for header, suggestion in zip(headers, suggestions, strict=True):
            if suggestion and header not in mapping:
                key = split_inverted(suggestion)[0]
                if key in labels and key not in used:
                    mapping[header] = suggestion
                    used.add(key)
    return mapping


def skipped_lookalikes(
    headers: Sequence[str],
    mapping: Mapping[str, str | None],
    keys: Mapping[str, str],
    samples: Sequence[Sequence[object]],
    region: str | None,
) -> list[tuple[str, str]]:
    """Columns left on "don't import" that look like a known key: (header, key), R2.8a."""
    found = []
    for header, column in zip(headers, samples, strict=True):
        if mapping.get(header):
            continue
        suggestion = suggest(header, list(column), keys, region)
        if suggestion:
            found.append((header, suggestion))
    return found

"""Phone numbers as builders hold them, sorted into mobileNumber and landlineNumber."""

from __future__ import annotations

from crm.values import InvalidValue, parse_landline_number, parse_mobile_number


def international(text: str) -> str:
    """A Korean number as Korean builders store it (``010-1234-5678``) in the international
    form our parsers require (``+82 010-1234-5678``; the trunk 0 is dropped there). A number
    that already carries a country code is kept."""
    text = text.strip()
    return "+82 " + text if text.startswith("0") else text


def sort_phone(phone: str | None) -> tuple[str, str]:
    """(mobile, landline) in E.164: a mobile goes to the first, a fixed line to the second. A
    number our parsers refuse is left out, so the member is imported without it rather than not
    at all (docs/decisions.md)."""
    if not phone or not phone.strip():
        return "", ""
    phone = international(phone)
    try:
        return parse_mobile_number(phone), ""
    except InvalidValue:
        pass
    try:
        return "", parse_landline_number(phone)
    except InvalidValue:
        return "", ""

"""Phone numbers as builders hold them, sorted into mobileNumber and landlineNumber."""

from __future__ import annotations

from crm.values import InvalidValue, parse_landline_number, parse_mobile_number

# Korean builders store national numbers (010-1234-5678); phonenumbers reads them in Korea (and
# keeps a number that carries its country code), as the phone parsers do for a channel's
# managers (R2.13a), instead of a rule of our own.
BUILDER_REGION = "KR"


def sort_phone(phone: str | None, region: str = BUILDER_REGION) -> tuple[str, str]:
    """(mobile, landline) in E.164: a mobile goes to the first, a fixed line to the second. A
    number our parsers refuse is left out, so the member is imported without it rather than not
    at all (docs/decisions.md)."""
    if not phone or not phone.strip():
        return "", ""
    try:
        return parse_mobile_number(phone, region), ""
    except InvalidValue:
        pass
    try:
        return "", parse_landline_number(phone, region)
    except InvalidValue:
        return "", ""

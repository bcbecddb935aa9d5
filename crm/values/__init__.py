"""Profile values: one parser per type for every write path, and the R1.3 size limits."""

from __future__ import annotations

from crm.values.limits import (
    MAX_KEYS,
    MAX_LIST_ITEMS,
    MAX_PROFILE_BYTES,
    MAX_STRING,
    check_profile,
)
from crm.values.parsers import (
    BUILTIN_KEYS,
    PROFILE_TYPES,
    InvalidValue,
    Parser,
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

__all__ = [
    "BUILTIN_KEYS",
    "MAX_KEYS",
    "MAX_LIST_ITEMS",
    "MAX_PROFILE_BYTES",
    "MAX_STRING",
    "PROFILE_TYPES",
    "InvalidValue",
    "Parser",
    "check_profile",
    "from_json",
    "is_blank",
    "parse_boolean",
    "parse_date",
    "parse_datetime",
    "parse_email",
    "parse_landline_number",
    "parse_list",
    "parse_mobile_number",
    "parse_number",
    "parse_number_list",
    "parse_string",
    "parse_tags",
    "parser_for",
    "to_json",
]

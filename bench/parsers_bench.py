"""Micro-benchmark of the value parsers: µs per call on realistic cells, and rows/s of a typical row.

Run: .venv/bin/python bench/parsers_bench.py [--quick]
An import of 1,000,000 rows must parse well over 25,000 rows/s on 2 cores (~11 cells a row), so
one core needs a whole row (parsers + check_profile) in well under 80 µs.
"""

from __future__ import annotations

import functools
import sys
import timeit
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm.values import (
    check_profile,
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
from crm.values.phones import _classify

CASES: list[tuple[str, Callable[[object], object], object]] = [
    ("string", parse_string, "  김철수 "),
    ("string (XLSX int)", parse_string, 1234567),
    ("email", parse_email, "Kim.Chulsoo@Example.com"),
    ("mobile E.164 (fast)", parse_mobile_number, "+821020203030"),
    ("mobile +82 010-… (fast)", parse_mobile_number, "+82 010-2020-3030"),
    ("landline E.164 (fast)", parse_landline_number, "+8225556666"),
    ("landline +82 02-… (cached)", parse_landline_number, "+82 02-555-6666"),
    ("number int", parse_number, "12345"),
    ("number decimal", parse_number, "1.01"),
    ("boolean", parse_boolean, "TRUE"),
    ("date", parse_date, "2025-05-04"),
    ("datetime ISO +09:00", parse_datetime, "2025-05-04T09:00:00+09:00"),
    ("datetime epoch ms", parse_datetime, "1746316800000"),
    ("datetime XLSX native", parse_datetime, datetime(2025, 5, 4, 9)),
    ("list", parse_list, '["a","b","c"]'),
    ("list typographic", parse_list, "[“a”,“b”]"),
    ("numberList", parse_number_list, "[1,2,3.5]"),
    ("tag", parse_tags, '["기본/단계1","고급/단계2"]'),
]

# A typical member-import row: 11 mapped cells.
ROW_KEYS = [
    ("memberId", "string"),
    ("name", "string"),
    ("email", "string"),
    ("mobileNumber", "string"),
    ("unsubscribeEmail", "boolean"),
    ("unsubscribeTexting", "boolean"),
    ("birthday", "date"),
    ("lastOrderAt", "datetime"),
    ("points", "number"),
    ("interests", "list"),
    ("segments", "tag"),
]
ROW = [
    "M-000123",
    "김철수",
    "kim@example.com",
    "+82 010-2020-3030",
    "false",
    "true",
    "1990-01-31",
    "2025-05-04T09:00:00+09:00",
    "1500",
    '["golf","wine"]',
    '["vip/gold"]',
]


def _per_call_us(call: Callable[[], object], number: int) -> float:
    best = min(timeit.repeat(call, number=number, repeat=5))
    return best / number * 1e6


def main() -> None:
    number = 2_000 if "--quick" in sys.argv else 50_000
    print(f"{'parser':32} µs/call")
    for label, parse, value in CASES:
        print(f"{label:32} {_per_call_us(functools.partial(parse, value), number):7.2f}")

    # Distinct numbers that miss both the regex and the cache: the cost of phonenumbers itself.
    # (070 VoIP numbers: valid landlineNumbers that no fast-path regex covers.)
    distinct = iter(
        [f"+82 70-{5000 + index // 10_000}-{index % 10_000:04d}" for index in range(number * 5)]
    )
    _classify.cache_clear()
    slow = _per_call_us(lambda: parse_landline_number(next(distinct)), number)
    print(f"{'phone slow path (uncached)':32} {slow:7.2f}")

    parsers = [(key, parser_for(key, type_), type_) for key, type_ in ROW_KEYS]

    def row() -> None:
        profile = {
            key: to_json(type_, parse(cell))
            for (key, parse, type_), cell in zip(parsers, ROW, strict=True)
        }
        check_profile(profile)

    per_row = _per_call_us(row, number // 5)
    print(f"\nrow of {len(ROW)} cells + to_json + check_profile: {per_row:.1f} µs")
    print(f"→ {1e6 / per_row:,.0f} rows/s per core, {2e6 / per_row:,.0f} rows/s on 2 cores")


if __name__ == "__main__":
    main()

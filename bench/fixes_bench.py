"""Column-wide fixes benchmark (R2.16a): 1,000,000 rows of which 100,000 fail on cells a fix
explains (dates 2025.05.04 / 2025/05/04 / 20250504, numbers 1,234,567, booleans 예/O/동의,
national phone numbers), and the three passes a manager's fix costs:

1. map every row with the import's own ``RowMapper`` (what finds the failed rows),
2. find the offers over the failed rows (``FixFinder``: counts and samples in one pass),
3. apply every offer to the failed rows (``RowFixer``) and map them again (re-validation).

Rows are generated on the fly and never kept, so the peak RSS printed after each pass shows
whether memory stays flat (it is the process's high-water mark: it only grows).

    .venv/bin/python bench/fixes_bench.py [--rows 1000000] [--failures 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "")
os.environ.setdefault("DEBUG", "true")  # settings without a SECRET_KEY; nothing is served

import django

django.setup()

from crm.models import ProfileKey  # noqa: E402
from crm.models.profile_keys import BUILTIN_KEYS  # noqa: E402
from importer.fixes import FixFinder, RowFixer  # noqa: E402
from importer.mapping import RowMapper, build_plan  # noqa: E402
from importer.reading import Row  # noqa: E402

MAPPING = {
    "아이디": "memberId",
    "이름": "name",
    "휴대폰": "mobileNumber",
    "가입일": "joined",
    "최근주문": "lastOrder",
    "포인트": "points",
    "VIP": "vip",
    "수신동의": "!unsubscribeEmail",
}
CUSTOM = {"joined": "date", "lastOrder": "datetime", "points": "number", "vip": "boolean"}
GOOD = ["", "김철수", "+821012345678", "2025-05-04", "2025-05-04 09:00", "1234", "y", "true"]
# (column index, bad cell) by failure kind: each failed row gets one.
BAD = [
    (3, "2025.05.{day:02d}"),
    (3, "2025/05/{day:02d}"),
    (3, "202505{day:02d}"),
    (4, "2025.05.{day:02d} 09:30"),
    (5, "{n:,}"),
    (6, "예"),
    (6, "O"),
    (7, "동의"),
    (2, "010-{a:04d}-{b:04d}"),
]


def rows(total: int, failures: int) -> Iterator[Row]:
    every = total // failures
    for n in range(total):
        cells = list(GOOD)
        cells[0] = f"M{n:07d}"
        if n % every == 0:
            index, pattern = BAD[(n // every) % len(BAD)]
            cells[index] = pattern.format(day=n % 28 + 1, n=n * 7 + 1000, a=n % 10000, b=n % 9999)
        yield Row(n + 2, tuple(cells), None)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--failures", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=2000)
    args = parser.parse_args()
    keys = {k: ProfileKey(key=k, type=t) for k, t in {**BUILTIN_KEYS, **CUSTOM}.items()}
    # The import ran with the default country turned off, so national numbers failed too.
    plan = build_plan(
        headers=list(MAPPING), mapping=MAPPING, keys=keys, kind="member", identity="memberId"
    )
    print(f"{args.rows:,} rows, {args.failures:,} failing; peak RSS at start {peak_mb():.0f} MB")

    finder = FixFinder(plan.columns, region="KR")
    failed = 0
    started = time.perf_counter()
    for chunk in RowMapper(plan).map_rows(rows(args.rows, args.failures), args.chunk):
        for row in chunk:
            if not row.ok:
                failed += 1
                finder.add_row(row.number, row.cells)
    seconds = time.perf_counter() - started
    offers = finder.offers()
    print(
        f"map + find:  {seconds:6.1f} s  {args.rows / seconds:9,.0f} rows/s  "
        f"{failed:,} failed rows  peak RSS {peak_mb():.0f} MB"
    )
    for offer in offers:
        sample = offer.samples[0]
        print(
            f"  {offer.key:>14} {offer.fix:<17} {offer.count:7,}  {sample.before} → {sample.after}"
        )

    fixer = RowFixer(plan, [(o.key, o.fix) for o in offers], region="KR")
    mapper = RowMapper(plan)
    fixed = still_failing = 0
    started = time.perf_counter()

    def fixed_rows() -> Iterator[Row]:
        nonlocal fixed
        for chunk in RowMapper(plan).map_rows(rows(args.rows, args.failures), args.chunk):
            failed_rows = ((r.number, r.cells) for r in chunk if not r.ok)
            for number, cells, _keys in fixer.fix_rows(failed_rows):
                fixed += 1
                yield Row(number, tuple(cells), None)

    for chunk in mapper.map_rows(fixed_rows(), args.chunk):
        still_failing += sum(1 for r in chunk if not r.ok)
    seconds = time.perf_counter() - started
    print(
        f"map + apply + re-validate: {seconds:6.1f} s  {args.rows / seconds:9,.0f} rows/s  "
        f"{fixed:,} rows fixed, {still_failing:,} still failing  peak RSS {peak_mb():.0f} MB"
    )

    # The fix alone, over the failed rows only (what applying to stored failed rows costs).
    failed_cells = (
        (n, [*GOOD[:3], f"2025.05.{n % 28 + 1:02d}", *GOOD[4:]]) for n in range(args.failures)
    )
    started = time.perf_counter()
    count = sum(1 for _ in fixer.fix_rows(failed_cells))
    seconds = time.perf_counter() - started
    print(
        f"apply alone: {seconds:6.2f} s  {args.failures / seconds:9,.0f} failed rows/s "
        f"({count:,} fixed)  peak RSS {peak_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()

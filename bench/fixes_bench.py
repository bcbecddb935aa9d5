"""Column-wide fixes benchmark (R2.16a): 1,000,000 rows of which 100,000 fail on cells a fix
explains (dates 2025.05.04 / 2025/05/04 / 20250504, numbers 1,234,567, booleans 예/O/동의,
national phone numbers), and the three passes a manager's fix costs:

1. map every row with the import's own ``RowMapper`` (what finds the failed rows),
2. find the offers over the failed rows (``FixFinder``: counts and samples in one pass),
3. apply every offer to the failed rows (``RowFixer``) and map them again (re-validation).

Rows are generated on the fly and never kept, so the peak RSS printed after each pass shows
whether memory stays flat (it is the process's high-water mark: it only grows).

With ``--stored`` it measures the grid's path instead, on PostgreSQL (its own database, created
and migrated when missing): the failed rows stored as an import stores them (ImportFailure),
the offers counted over them (``fix_offers``, cold then cached) and every offer applied as the
grid's edits: what the manager's click costs (``column_fix_start``: the request, which queues a
job) and what the job costs (``column_fix_run``, in this process as a worker runs it: pages of
rows read, fixed, written with the job's progress under its lease, judged again).

    .venv/bin/python bench/fixes_bench.py [--rows 1000000] [--failures 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/fixes_bench.py --stored [--database bench_fixes]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")  # settings without a SECRET_KEY; nothing is served

from _pg import setup, timed

if TYPE_CHECKING:
    from importer.reading import Row

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


def cells_of(n: int, every: int) -> tuple[tuple[str, ...], int | None]:
    """Row n's cells, and the index of its bad cell when it fails (every ``every`` rows)."""
    cells = list(GOOD)
    cells[0] = f"M{n:07d}"
    if n % every:
        return tuple(cells), None
    index, pattern = BAD[(n // every) % len(BAD)]
    cells[index] = pattern.format(day=n % 28 + 1, n=n * 7 + 1000, a=n % 10000, b=n % 9999)
    return tuple(cells), index


def rows(total: int, failures: int) -> Iterator[Row]:
    from importer.reading import Row

    every = total // failures
    for n in range(total):
        yield Row(n + 2, cells_of(n, every)[0], None)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--failures", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--stored", action="store_true", help="the grid's path, on PostgreSQL")
    parser.add_argument("--database", default="bench_fixes")
    args = parser.parse_args()
    if args.stored:
        setup(args.database)
        stored(args)
        return
    os.environ["DATABASE_URL"] = ""  # nothing is stored: no database is needed
    import django

    django.setup()
    streamed(args)


def streamed(args: argparse.Namespace) -> None:
    from crm.models import ProfileKey
    from crm.models.profile_keys import BUILTIN_KEYS
    from importer.fixes import FixFinder, RowFixer
    from importer.mapping import RowMapper, build_plan
    from importer.reading import Row

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


def stored(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from crm.models import Channel
    from crm.services.channels import channel_create
    from crm.services.profile_keys import profile_key_create
    from importer.failed_rows.column_fixes import column_fix_run, column_fix_start, fix_offers
    from importer.models import ImportFailure, ImportJob

    slug = "bench-fixes"
    Channel.objects.filter(slug=slug).delete()  # an earlier run's
    owner, _ = get_user_model().objects.get_or_create(username="bench-fixes")
    channel = channel_create(slug=slug, name="Bench fixes", owner=owner).channel
    for key, type_ in CUSTOM.items():
        profile_key_create(channel=channel, key=key, type=type_)
    job = ImportJob.objects.create(
        channel=channel,
        filename="bench.csv",
        kind="member",
        identity="memberId",
        headers=list(MAPPING),
        mapping=MAPPING,
        phone_region="",  # national numbers refused by this import: the phone fix reads them
        status="succeeded",
        rows_total=args.rows,
        failure_log_expires_at=timezone.now() + timedelta(days=30),
    )
    every = args.rows // args.failures
    keys = list(MAPPING.values())
    batch: list[ImportFailure] = []
    started = time.perf_counter()
    for n in range(0, args.rows, every):
        cells, index = cells_of(n, every)
        assert index is not None
        key = keys[index].lstrip("!")
        batch.append(
            ImportFailure(
                channel=channel,
                job=job,
                row_number=n + 2,
                columns=[key],
                reasons=[f"{key} (column {list(MAPPING)[index]!r}): does not parse"],
                values=list(cells),
            )
        )
        if len(batch) == 5000:
            ImportFailure.objects.bulk_create(batch)
            batch = []
    ImportFailure.objects.bulk_create(batch)
    failed = ImportFailure.objects.filter(job=job).count()
    print(
        f"{failed:,} failed rows of a {args.rows:,}-row import stored in "
        f"{time.perf_counter() - started:.1f} s; peak RSS {peak_mb():.0f} MB"
    )
    with timed() as cold:
        offers = fix_offers(job)
    print(
        f"offers, counted: {cold}  {failed / cold.wall:,.0f} failed rows/s "
        f"({failed / (cold.cpu + cold.db_cpu):,.0f} per CPU second)"
    )
    with timed() as warm:
        fix_offers(job)
    print(f"offers, cached:  {warm}")
    for offer in offers:
        print(f"  {offer.key:>16} {offer.fix:<17} {offer.count:7,}")
    cells = 0
    with timed() as applied:
        for offer in offers:
            with timed() as click:  # the request: checks, then a queued job
                fixing = column_fix_start(
                    job=job, by=None, key=offer.key, fix=offer.fix, dispatch=False
                )
            with timed() as one:  # the worker
                result = column_fix_run(fixing.pk)
            assert result.status == "succeeded", result.error
            cells += result.cells
            print(
                f"  applied {offer.fix:<17} {result.cells:7,} cells, {result.rows_ok:7,} rows "
                f"now pass: request {click.wall * 1000:.0f} ms; job {one}"
            )
    passes = len(offers) or 1
    print(
        f"apply every offer: {applied}  {cells:,} cells in {len(offers)} passes over the "
        f"{failed:,} failed rows: {failed * passes / applied.wall:,.0f} failed rows/s "
        f"({failed * passes / (applied.cpu + applied.db_cpu):,.0f} per CPU second); "
        f"peak RSS {peak_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()

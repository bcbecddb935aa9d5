"""Import benchmark (issue 3): our engine against django-import-export on the same lead file.

Generates a realistic lead file of N rows (email, +82 mobile, Korean name, date, datetime,
number, boolean, list, tag, three free strings, the two unsubscribe flags), then measures,
each in its own child process (so peak RSS is that import's alone):
  1. a new import into an empty channel (`import_customers … --kind lead --identity email`,
     the same engine the Celery task runs),
  2. an update pass of the same file,
  2b. a pass of the same file with both unsubscribe flags flipped (every customer changes its
     consent: the consent history's worst case, R2.16b),
  3. django-import-export (ModelResource, use_bulk=True) importing the same file into another
     empty channel, then its update pass,
and prints rows/s, peak RSS and the ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/import_bench.py --rows 100000 --fresh-db bench
    … --rows 1000000 --skip-iie      # the 1,000,000-row targets (django-import-export: hours)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

HEADERS = [
    "email",
    "mobileNumber",
    "name",
    "birthday",
    "lastOrderAt",
    "points",
    "vip",
    "interests",
    "segments",
    "memo1",
    "memo2",
    "memo3",
    "unsubscribeEmail",
    "unsubscribeTexting",
]
KEYS = [
    ("birthday", "date"),
    ("lastOrderAt", "datetime"),
    ("points", "number"),
    ("vip", "boolean"),
    ("interests", "list"),
    ("segments", "tag"),
    ("memo1", "string"),
    ("memo2", "string"),
    ("memo3", "string"),
]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍"
GIVEN = [
    "민준",
    "서연",
    "도윤",
    "지우",
    "하준",
    "서윤",
    "은우",
    "지호",
    "예은",
    "수아",
    "시우",
    "하은",
]
INTERESTS = ["패션", "뷰티", "식품", "여행", "운동", "도서", "가전", "육아"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADERS)
        for i in range(rows):
            picks = rnd.sample(INTERESTS, rnd.randint(1, 3))
            out.writerow(
                [
                    f"customer{i}@example{i % 97}.com",
                    f"+8210{10000000 + i:08d}",
                    rnd.choice(SURNAMES) + rnd.choice(GIVEN),
                    f"{rnd.randint(1960, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                    f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T{rnd.randint(0, 23):02d}:15:00+09:00",
                    f"{rnd.randint(0, 50000)}.{rnd.randint(0, 99):02d}",
                    rnd.choice(["true", "false", "Y", "N"]),
                    json.dumps(picks, ensure_ascii=False),
                    json.dumps(
                        [f"등급/{rnd.choice(['골드', '실버', '브론즈'])}"], ensure_ascii=False
                    ),
                    f"메모 {rnd.randint(0, 10**6)}",
                    rnd.choice(["온라인", "매장", "전화"]),
                    f"note-{i}",
                    rnd.choice(["true", "false"]),
                    rnd.choice(["true", "false"]),
                ]
            )


def flip_consent(path: Path, out: Path) -> None:
    """The file with its two unsubscribe columns negated."""
    flags = [HEADERS.index("unsubscribeEmail"), HEADERS.index("unsubscribeTexting")]
    with (
        open(path, encoding="utf-8", newline="") as source,
        open(out, "w", encoding="utf-8", newline="") as target,
    ):
        rows = csv.reader(source)
        writer = csv.writer(target)
        writer.writerow(next(rows))
        for row in rows:
            for i in flags:
                row[i] = "false" if row[i] == "true" else "true"
            writer.writerow(row)


# A deployed worker runs from cached bytecode; a sandbox that sets PYTHONDONTWRITEBYTECODE would
# make every measured process compile Django and the project first (~2 s).
# And the importing process runs as in production: DEBUG off (Django's debug cursor keeps every
# statement's text).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
    "DEBUG": "false",
    "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key-" + "x" * 40,
}


def run_child(cmd: list[str], timeout: float | None = None) -> tuple[float, int, str, float] | None:
    """(seconds, peak RSS in MB, stdout, CPU seconds) of one child process; None past timeout."""
    # os.wait4 on our own child gives that child's peak RSS alone.
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: exec the command with stdout to a temp file
        fd = os.open(
            tempfile.gettempdir() + f"/bench-{os.getpid()}.out",
            os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
        )
        os.dup2(fd, 1)
        os.chdir(ROOT)
        os.execve(cmd[0], cmd, CHILD_ENV)
    analysed = time.perf_counter()
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() - analysed > AUTOANALYZE_SECONDS:
            autoanalyze()  # as autovacuum would, during a long import (ours or theirs)
            analysed = time.perf_counter()
        if timeout is not None and time.perf_counter() - start > timeout:
            os.kill(pid, 9)
            os.wait4(pid, 0)
            return None
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    out_path = Path(tempfile.gettempdir()) / f"bench-{pid}.out"
    stdout = out_path.read_text() if out_path.exists() else ""
    out_path.unlink(missing_ok=True)
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {status}")
    return elapsed, usage.ru_maxrss // 1024, stdout, usage.ru_utime + usage.ru_stime


def fresh_database(name: str) -> None:
    import psycopg

    if not name.startswith("bench"):
        raise SystemExit("--fresh-db drops the database: its name must start with 'bench'")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("--fresh-db needs DATABASE_URL=postgres://…")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url.rpartition("/")[0] + "/" + name
    CHILD_ENV["DATABASE_URL"] = os.environ["DATABASE_URL"]


AUTOANALYZE_SECONDS = 20.0


def autoanalyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE crm_customer")


def autovacuum() -> None:
    """What autovacuum would have done before a pass (this machine's server runs without it):
    statistics for the planner, dead rows of earlier passes cleared. Not timed."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def statements_reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cursor.execute("SELECT pg_stat_statements_reset()")


def statements_print(limit: int) -> None:
    """The pass's costliest statements in this database: server time, calls, rows, text."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT total_exec_time, calls, rows, regexp_replace(query, '\\s+', ' ', 'g')"
            " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
            " WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT %s",
            [limit],
        )
        for ms, calls, rows, query in cursor.fetchall():
            print(f"    {ms / 1000:7.2f}s {calls:7,} calls {rows:9,} rows  {query[:110]}")


def table_scans() -> dict[str, tuple[int, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT relname, seq_scan, seq_tup_read FROM pg_stat_user_tables")
        return {table: (count, rows) for table, count, rows in cursor.fetchall()}


def busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-iie", action="store_true", help="skip django-import-export")
    parser.add_argument("--keep", action="store_true", help="keep the bench channels")
    parser.add_argument(
        "--fresh-db",
        metavar="NAME",
        help="drop and re-create database NAME on DATABASE_URL's server and measure there"
        " (repeatable figures: no tables and indexes grown by earlier runs)",
    )
    parser.add_argument(
        "--passes",
        default="new,update,consent",
        help="which of our passes to run, in order (comma-separated; update and consent need new)",
    )
    parser.add_argument(
        "--statements",
        type=int,
        default=0,
        metavar="N",
        help="after each pass of ours, print its N costliest statements (PostgreSQL with"
        " pg_stat_statements in shared_preload_libraries)",
    )
    parser.add_argument(
        "--iie-timeout",
        type=float,
        default=1800,
        help="stop a django-import-export pass after this",
    )
    args = parser.parse_args()

    if args.fresh_db:
        fresh_database(args.fresh_db)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from crm.models import Channel
    from crm.services.channels import channel_create
    from crm.services.profile_keys import profile_key_create

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    call_command("migrate", verbosity=0)
    owner, _ = get_user_model().objects.get_or_create(username="bench")
    stamp = int(time.time())

    def fresh_channel(suffix: str) -> Channel:
        channel = channel_create(slug=f"bench-{suffix}-{stamp}", name="Bench", owner=owner).channel
        for key, type_ in KEYS:
            profile_key_create(channel=channel, key=key, type=type_)
        return channel

    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    path = work / "leads.csv"
    t0 = time.perf_counter()
    generate(path, args.rows)
    flipped = work / "leads-flipped.csv"
    flip_consent(path, flipped)
    print(
        f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f}s; database: {vendor}"
    )

    run_child([sys.executable, "manage.py", "check"])  # warm-up: writes the bytecode caches
    ours = fresh_channel("ours")

    def cmd(file: Path) -> list[str]:
        return [
            *(sys.executable, "manage.py", "import_customers", ours.slug, str(file)),
            *("--kind", "lead", "--identity", "email", "--json"),
        ]

    results: dict[str, tuple[float, int]] = {}
    passes = (("new", path), ("update", path), ("consent", flipped))
    for label, file in (p for p in passes if p[0] in args.passes.split(",")):
        autovacuum()
        if args.statements:
            statements_reset()
            scans = table_scans()
        busy = busy_cpu()
        measured = run_child(cmd(file))
        assert measured is not None
        seconds, rss, out, cpu = measured
        others = busy_cpu() - busy - cpu  # PostgreSQL, mostly
        summary = json.loads(out)
        expected = (args.rows, 0) if label == "new" else (0, args.rows)
        got = (summary["created"], summary["updated"])
        assert got == expected and summary["failed"] == 0, (label, summary)
        results[f"ours {label}"] = (seconds, rss)
        print(
            f"ours  {label:6}: {args.rows / seconds:10,.0f} rows/s  {seconds:7.1f}s"
            f"  peak RSS {rss} MB  CPU {cpu:.1f}s (rest of the machine: {others:.1f}s)"
        )
        if args.statements:
            statements_print(args.statements)
            time.sleep(1)  # the backends' statistics reach the shared counters within a second
            for table, (count, rows) in table_scans().items():
                before = scans.get(table, (0, 0))
                if rows > before[1]:
                    print(
                        f"    sequential scans of {table}: {count - before[0]:,}"
                        f" reading {rows - before[1]:,} rows"
                    )

    if not args.skip_iie:
        theirs = fresh_channel("iie")
        icmd = [sys.executable, str(ROOT / "bench" / "iie_import.py"), theirs.slug, str(path)]
        for label in ("new", "update"):
            autovacuum()
            measured = run_child(icmd, timeout=args.iie_timeout)
            if measured is None:
                bound = args.rows / args.iie_timeout
                print(
                    f"iie   {label:6}: unfinished after {args.iie_timeout:.0f}s: < {bound:,.0f} rows/s"
                )
                results[f"iie {label}"] = (args.iie_timeout, 0)
                continue
            seconds, rss, out, cpu = measured
            results[f"iie {label}"] = (seconds, rss)
            print(
                f"iie   {label:6}: {args.rows / seconds:10,.0f} rows/s  {seconds:7.1f}s"
                f"  peak RSS {rss} MB  CPU {cpu:.1f}s  {out.strip()}"
            )
        for label in ("new", "update"):
            ratio = results[f"iie {label}"][0] / results[f"ours {label}"][0]
            print(f"ratio {label:6}: {ratio:5.1f}x django-import-export (at least, if unfinished)")

    if not args.keep:
        Channel.objects.filter(slug__endswith=f"-{stamp}").delete()


if __name__ == "__main__":
    main()

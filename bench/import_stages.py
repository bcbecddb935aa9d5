"""Where an import's time goes: the engine run in-process with a timer on each stage.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/import_stages.py FILE [--update]

Creates a channel with the bench's profile keys (bench/import_bench.py), imports FILE as leads
by email (then again with --update), and prints per stage the seconds and µs per row, the
importing process's CPU and the CPU the rest of the machine (PostgreSQL) used meanwhile.
Stages of the writer thread overlap those of the main thread.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# As in production: DEBUG off (Django's debug cursor keeps every statement's text).
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)

TOTALS: dict[str, float] = defaultdict(float)
_LOCK = threading.Lock()


def timed(owner: type, name: str, label: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            with _LOCK:
                TOTALS[label] += time.perf_counter() - start

    setattr(owner, name, wrapper)


def busy_cpu() -> float:
    """Seconds of CPU the whole machine has spent busy (all cores)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--update", action="store_true", help="import it a second time too")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from import_bench import KEYS

    from crm import jobs
    from crm.models import Channel
    from crm.services.channels import channel_create
    from crm.services.profile_keys import profile_key_create
    from importer import apply
    from importer.apply import Merger
    from importer.mapping import RowMapper
    from importer.writers.pg_copy import CopyWriter
    from importer.writers.pipeline import WritePipeline

    owner, _ = get_user_model().objects.get_or_create(username="bench")
    slug = f"stages-{int(time.time())}"
    channel = channel_create(slug=slug, name="Stages", owner=owner).channel
    for key, type_ in KEYS:
        profile_key_create(channel=channel, key=key, type=type_)

    timed(RowMapper, "map_chunk", "main: map (parse) chunk")
    timed(RowMapper, "map_rows", "main: read + map")
    timed(Merger, "apply_chunk", "main: merge (incl. look-up)")
    timed(CopyWriter, "_create", "writer: create")
    timed(CopyWriter, "_update", "writer: update")
    timed(CopyWriter, "_tag", "writer: import tag")
    timed(CopyWriter, "_journal", "writer: journal")
    timed(CopyWriter, "write", "writer: whole chunk (incl. commit)")
    timed(WritePipeline, "submit", "main: submit (ids, waits for writer)")
    timed(jobs, "fence", "fence (progress, lease)")
    timed(apply, "find_existing", "main: look-up existing")

    # This machine's PostgreSQL runs without autovacuum: what earlier runs deleted is cleaned
    # here, as autovacuum would have done in production.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE crm_customer, crm_customerimporttag, importer_importjournal")
    passes = ["new", "update"] if args.update else ["new"]
    for label in passes:
        TOTALS.clear()
        with open(args.file, encoding="utf-8") as lines:
            rows = sum(1 for _ in lines) - 1
        cpu0, busy0, wall0 = (
            resource.getrusage(resource.RUSAGE_SELF),
            busy_cpu(),
            time.perf_counter(),
        )
        call_command(
            "import_customers", slug, args.file, "--kind", "lead", "--identity", "email", "--json"
        )
        wall = time.perf_counter() - wall0
        cpu1, busy1 = resource.getrusage(resource.RUSAGE_SELF), busy_cpu()
        ours = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        others = busy1 - busy0 - ours
        print(f"\n{label}: {rows:,} rows in {wall:.1f}s = {rows / wall:,.0f} rows/s")
        print(f"  {'this process CPU':40} {ours:7.2f}s {ours / rows * 1e6:7.1f} µs/row")
        print(
            f"  {'rest of the machine (PostgreSQL) CPU':40} {others:7.2f}s {others / rows * 1e6:7.1f} µs/row"
        )
        for stage, seconds in sorted(TOTALS.items()):
            print(f"  {stage:40} {seconds:7.2f}s {seconds / rows * 1e6:7.1f} µs/row")
    Channel.objects.filter(slug=slug).delete()


if __name__ == "__main__":
    main()

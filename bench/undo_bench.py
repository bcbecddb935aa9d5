"""Undo benchmark (issue 12): undo an import of N member rows on PostgreSQL — half of them new
customers (deleted by the undo), half updated in three keys and an unsubscribe flag (restored) —
and print the wall time and rows/s of the undo (and of the import, for scale).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/undo_bench.py --rows 100000 [--database bench_undo]

It works in its own database (created and migrated when missing) and runs the code
`undo_import SLUG ID --yes` runs (importer.undo), in this process, after real imports through
`import_customers`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import tempfile
from pathlib import Path

from _pg import setup, timed

HEAD = ["memberId", "name", "email", "grade", "points", "unsubscribeEmail", "unsubscribeTexting"]


def write(path: Path, rows: list[list[object]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEAD)
        writer.writerows(rows)
    return path


def run_import(slug: str, path: Path, tag: str) -> dict[str, object]:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "import_customers", slug, str(path), "--kind", "member", "--tag", tag, "--json", stdout=out
    )
    return json.loads(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", default="bench_undo")
    args = parser.parse_args()
    setup(args.database)

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from crm.models import Channel, Customer
    from crm.selectors import channel_mu, channel_mu_counted
    from crm.services.channels import channel_create
    from crm.services.profile_keys import profile_key_create
    from importer.models import ImportJob
    from importer.undo import run_undo, undo_preview, undo_start

    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="undo-bench-"))
    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    Channel.objects.filter(slug="bench-undo").delete()
    channel = channel_create(slug="bench-undo", name="Bench undo", owner=owner).channel
    profile_key_create(channel=channel, key="grade", type="string")
    profile_key_create(channel=channel, key="points", type="number")
    half = args.rows // 2
    folder = Path(tempfile.mkdtemp(prefix="undo-bench-files-"))
    base = write(
        folder / "base.csv",
        [
            [f"m{i}", f"고객 {i}", f"c{i}@example.com", "bronze", i, "false", "false"]
            for i in range(half)
        ],
    )
    file_a = write(
        folder / "a.csv",
        [
            [f"m{i}", f"고객 {i} A", f"c{i}@example.com", "gold", i + 1, "true", "false"]
            for i in range(args.rows)
        ],
    )
    run_import(channel.slug, base, "base")
    with timed() as imported:
        result = run_import(channel.slug, file_a, "A")
    job = ImportJob.objects.get(channel=channel, tag="A", undoes__isnull=True)
    with timed() as previewed:
        preview = undo_preview(job)
    undo = undo_start(job=job, by=None, origin="command", dispatch=False)
    with timed() as undone:
        undo = run_undo(undo.pk)
    assert undo.status == "succeeded", undo.error
    assert Customer.objects.filter(channel=channel).count() == half
    assert channel_mu(channel) == channel_mu_counted(channel) == half
    rows = args.rows
    print(
        f"import A: {rows:,} rows ({result['created']:,} created, {result['updated']:,} updated)"
        f" in {imported.wall:.1f} s = {rows / imported.wall:,.0f} rows/s"
    )
    print(
        f"dry run: {previewed.wall:.1f} s ({preview.delete:,} to delete,"
        f" {preview.restore:,} to restore)"
    )
    print(
        f"undo: {undo.deleted:,} deleted, {undo.restored:,} restored, {undo.kept:,} kept"
        f" in {undone.wall:.1f} s wall (CPU {undone.cpu:.1f} s, PostgreSQL {undone.db_cpu:.1f} s)"
        f" = {rows / undone.wall:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()

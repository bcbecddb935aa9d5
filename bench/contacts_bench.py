"""Contacts at scale (issue 15): every request of the contacts list, and bulk deletion, on a
channel of N customers.

Builds the channel with set-based SQL (``crm.db.synthetic``: imports of 100,000 customers, each
with its import tag and journal, tags, chats with messages; statistics refreshed as the importer
does, no VACUUM), then times each request through the real admin view with Django's test
client, DEBUG off (median and 95th percentile of ``--repeat`` after a warm-up), checks MU, and
deletes 100,000 customers by import tag through ``delete_customers --import-tag … --yes`` (a
child process, wall time end to end) and through the admin's "select all" + bulk delete run by
a real Celery worker (from the POST to the job's end). ``--import-rows M`` also imports M
members with ``import_customers`` and deletes them by their tag at once (the manager's case).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/contacts_bench.py --customers 1000000 --database bench_scale
    … --reuse            # time again on the channel an earlier run built (deletions used it up)
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "contacts-bench-only-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ["CELERY_QUEUE"] = "contacts-bench"

from _pg import ROOT, setup

SLUG = "bench-contacts"
_SELECTED = re.compile(r'name="_selected_action" value="(\d+)"')
LIST_URL = "/admin/crm/customer/"


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _fresh_database(database: str) -> None:
    import psycopg

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def build(customers: int) -> Any:
    from django.contrib.auth import get_user_model

    from crm.db.synthetic import build_channel
    from crm.services.channels import channel_create

    owner = get_user_model().objects.create_user("bench-owner", password="x", is_staff=True)
    channel = channel_create(slug=SLUG, name="Bench", owner=owner).channel
    started = time.perf_counter()

    def progress(done: int) -> None:
        print(f"  built {done:,} customers ({time.perf_counter() - started:.0f} s)", flush=True)

    build_channel(channel, customers=customers, batch=100_000, progress=progress)
    return channel


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = math.ceil(share * len(ordered))
    return ordered[max(0, min(len(ordered), rank) - 1)]


def time_requests(channel: Any, repeat: int) -> list[tuple[str, float, float, str]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from crm.models import Customer
    from crm.selectors import channel_mu, contacts, contacts_page

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-owner"))
    base = {"channel": channel.slug}
    top = contacts(channel).order_by("-id").values_list("id", flat=True).first()
    # A customer from the middle of the channel, found by id (an index look-up).
    someone = (
        Customer.objects.filter(
            channel=channel,
            blocked=False,
            id__lte=(top or 0) - 123_457 % max(1, channel_mu(channel)),
            email__isnull=False,
            mobile_number__isnull=False,
        )
        .order_by("-id")
        .first()
    )
    assert someone is not None and someone.email and someone.mobile_number
    older = contacts_page(contacts(channel), size=50).older
    tags = [t for t in channel.import_tags.order_by("pk").values_list("name", flat=True)]
    mobile = someone.mobile_number
    requests: list[tuple[str, dict[str, str] | Callable[[], object]]] = [
        ("contacts, first page, no filter", base),
        ("contacts, next page (keyset)", {**base, "after": str(older)}),
        ("filter by one import tag", {**base, "importTag": tags[len(tags) // 2]}),
        ("search by a whole email address", {**base, "q": someone.email}),
        (
            "search by a fragment of an email",
            {**base, "q": someone.email[2 : someone.email.index("@") + 3]},
        ),
        ("search by name, 3 letters", {**base, "q": someone.name[:3]}),
        ("search by name, 2 letters", {**base, "q": someone.name[:2]}),
        ("search by name, 1 letter", {**base, "q": someone.name[:1]}),
        ("search by mobile, last 8 digits", {**base, "q": mobile[-8:]}),
        ("search by mobile, 010- form", {**base, "q": f"010-{mobile[-8:-4]}-{mobile[-4:]}"}),
        ("type filter (leads)", {**base, "type": "lead"}),
        ("tag filter", {**base, "tag": "vip"}),
        ("MU", lambda: channel_mu(channel)),
    ]
    rows = []
    for label, request in requests:
        shown = ""
        samples = []
        for i in range(repeat + 1):
            started = time.perf_counter()
            if callable(request):
                result = request()
            else:
                response = client.get(LIST_URL, request)
                assert response.status_code == 200, (label, response.status_code)
                result = response
            elapsed = (time.perf_counter() - started) * 1000
            if i:  # the first is the warm-up
                samples.append(elapsed)
        if callable(request):
            shown = f"MU {result:,}"
        else:  # (the test client keeps no context here: templates are not instrumented)
            html = result.content.decode()
            rows_shown = len(_SELECTED.findall(html))
            label_match = re.search(r'class="contacts-count">([^<]*)<', html)
            shown = f"{rows_shown} shown of {label_match[1] if label_match else '?'}"
            assert rows_shown, label
        rows.append((label, statistics.median(samples), _percentile(samples, 0.95), shown))
        print(f"  {label}: {rows[-1][1]:.1f} ms median, {rows[-1][2]:.1f} ms p95 ({shown})")
    return rows


def _child_env() -> dict[str, str]:
    return {**os.environ, "DEBUG": "false"}


def delete_by_command(channel: Any, tag: str) -> tuple[int, float]:
    from crm.models import CustomerImportTag

    count = CustomerImportTag.objects.filter(channel=channel, import_tag__name=tag).count()
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "delete_customers",
            channel.slug,
            "--import-tag",
            tag,
            "--yes",
        ],
        cwd=ROOT,
        env=_child_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return count, time.perf_counter() - started


def delete_by_worker(channel: Any, tag: str) -> tuple[int, float]:
    """The admin's "select all" on the list filtered by ``tag``, the bulk delete confirmed, a
    Celery worker running the job: from the POST to the job's end."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from crm.models import DeletionJob

    log = Path(tempfile.gettempdir()) / "contacts-bench-worker.log"
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"),
            *("-Q", "contacts-bench", "-n", "contacts-bench@%h", "--without-heartbeat"),
            *("--without-mingle", "--without-gossip", "--loglevel=INFO"),
        ],
        cwd=ROOT,
        env=_child_env(),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while b" ready." not in log.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        client = Client()
        client.force_login(get_user_model().objects.get(username="bench-owner"))
        url = f"{LIST_URL}?channel={channel.slug}&importTag={tag}"
        shown = _SELECTED.findall(client.get(url).content.decode())  # the page's checkboxes
        confirm = client.post(
            url,
            {
                "action": "delete_selected_customers",
                "_selected_action": shown,
                "select_across": "1",
                "index": "0",
            },
        )
        assert confirm.status_code == 200, confirm.status_code
        form = confirm.content.decode()
        expected = re.search(r'name="expected" value="(\d+)"', form)
        max_id = re.search(r'name="max_id" value="(\d+)"', form)
        assert max_id, form[-3000:]  # past the list's bound no count: the job counts
        started = time.perf_counter()
        done = client.post(
            url,
            {
                "action": "delete_selected_customers",
                "_selected_action": shown,
                "select_across": "1",
                "post": "yes",
                **({"expected": expected[1]} if expected else {}),
                "max_id": max_id[1],
            },
        )
        assert done.status_code == 302, done.status_code
        job = DeletionJob.objects.filter(channel=channel).latest("pk")
        while not job.done:
            time.sleep(0.05)
            job.refresh_from_db()
        elapsed = time.perf_counter() - started
        assert job.status == DeletionJob.Status.SUCCEEDED, (job.status, job.error)
        return job.deleted, elapsed
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def import_then_delete(channel: Any, rows: int) -> tuple[float, float]:
    """Import ``rows`` new members with their own tag, then delete them by it at once."""
    tag = f"fresh-{rows}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "members.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["memberId", "name", "email", "unsubscribeEmail", "unsubscribeTexting"])
            for i in range(rows):
                writer.writerow(
                    [f"fresh-{i}", f"신규{i}", f"fresh{i}@example.com", "false", "false"]
                )
        started = time.perf_counter()
        subprocess.run(
            [
                *(sys.executable, "manage.py", "import_customers", channel.slug, str(path)),
                *("--kind", "member", "--tag", tag, "--json"),
            ],
            cwd=ROOT,
            env=_child_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        imported = time.perf_counter() - started
    _, deleted = delete_by_command(channel, tag)
    return imported, deleted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database", default="bench_scale")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the channel a run built")
    parser.add_argument("--skip-delete", action="store_true")
    parser.add_argument("--import-rows", type=int, default=0)
    args = parser.parse_args()
    if not args.reuse:
        _fresh_database(args.database)
    setup(args.database)
    from django.conf import settings

    from crm.models import Channel, CustomerImportTag
    from crm.selectors import channel_mu, channel_mu_counted

    assert not settings.DEBUG
    print(f"load before: {_load()}")
    channel = Channel.objects.filter(slug=SLUG).first()
    if channel is None:
        started = time.perf_counter()
        channel = build(args.customers)
        print(f"built {args.customers:,} customers in {time.perf_counter() - started:.0f} s")
    rows = time_requests(channel, args.repeat)
    mu, counted = channel_mu(channel), channel_mu_counted(channel)
    assert mu == counted, (mu, counted)
    deletions = []
    if not args.skip_delete:
        # The two newest imports that still have customers (a --reuse run finds the next two).
        tags = [
            t.name
            for t in channel.import_tags.order_by("-pk")
            if CustomerImportTag.objects.filter(channel=channel, import_tag=t).exists()
        ]
        n, wall = delete_by_command(channel, tags[0])
        deletions.append((f"delete {n:,} by import tag, delete_customers --yes", wall))
        n, wall = delete_by_worker(channel, tags[1])
        deletions.append((f"delete {n:,} by import tag, admin select all + worker", wall))
        assert channel_mu(channel) == channel_mu_counted(channel)
    if args.import_rows:
        imported, wall = import_then_delete(channel, args.import_rows)
        deletions.append((f"import {args.import_rows:,} members (import_customers)", imported))
        deletions.append((f"delete those {args.import_rows:,} at once, delete_customers", wall))
    print(f"\nchannel of {counted:,} contacts before the deletions (MU {mu:,}, exact)")
    print(f"load after: {_load()}  (uptime load averages, 2 cores shared)\n")
    print("| request | median ms | p95 ms | shown |")
    print("|---|---:|---:|---|")
    for label, median, p95, shown in rows:
        print(f"| {label} | {median:.1f} | {p95:.1f} | {shown} |")
    if deletions:
        print("\n| deletion | wall s |")
        print("|---|---:|")
        for label, wall in deletions:
            print(f"| {label} | {wall:.1f} |")


if __name__ == "__main__":
    main()

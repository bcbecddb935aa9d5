"""MU benchmark (issue 5): MU of a 1,000,000-customer channel in ≤ 10 ms, and exact.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/mu_bench.py
    … --customers 1000000 --boots 2000 [--database bench_issue5]

Builds the channel as imports would (chunks of 5,000 rows, each one INSERT statement, so the
triggers write one MU row per chunk), then adds single-row boots, blocks and deletions, the
way a live channel collects MU rows between two compactions. Measures ``channel_mu`` (the sum
of the channel's MU rows) before and after ``mu_compact``, and, for comparison, the count it
replaces (an index-only count over the contacts_list_idx partial index). Checks MU == count.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _pg import setup, timed


def build(customers: int, boots: int) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from crm.models import Channel
    from crm.services.channels import channel_create

    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    channel = Channel.objects.filter(slug="bench-mu").first()
    if channel is not None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM crm_customer WHERE channel_id = %s", [channel.pk])
        channel.delete()
    channel = channel_create(slug="bench-mu", name="Bench MU", owner=owner).channel
    now = timezone.now()
    chunk = 5000
    with connection.cursor() as cursor:
        for start in range(0, customers, chunk):
            cursor.execute(
                "INSERT INTO crm_customer (channel_id, verified, name, profile, blocked,"
                " blocked_reason, created_at, updated_at)"
                " SELECT %s, true, '', '{}', false, '', %s, %s FROM generate_series(1, %s)",
                [channel.pk, now, now, min(chunk, customers - start)],
            )
        for i in range(boots):  # a boot creates one customer at a time
            cursor.execute(
                "INSERT INTO crm_customer (channel_id, verified, name, profile, blocked,"
                " blocked_reason, veil_id, created_at, updated_at)"
                " VALUES (%s, false, '', '{}', false, '', %s, %s, %s)",
                [channel.pk, f"veil-bench-{i:08}", now, now],
            )
        cursor.execute(
            "UPDATE crm_customer SET blocked = true WHERE id IN (SELECT id FROM crm_customer"
            " WHERE channel_id = %s ORDER BY id LIMIT 500)",
            [channel.pk],
        )
        cursor.execute(
            "DELETE FROM crm_customer WHERE id IN (SELECT id FROM crm_customer"
            " WHERE channel_id = %s ORDER BY id DESC LIMIT 300)",
            [channel.pk],
        )
        cursor.execute("VACUUM ANALYZE crm_customer")
        cursor.execute("VACUUM ANALYZE crm_mudelta")
    return channel.pk


def sample(fn: object, runs: int) -> tuple[float, float]:
    """Median and worst time of ``fn()`` in ms."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--boots", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database", default="bench_issue5")
    args = parser.parse_args()
    setup(args.database)

    from crm.models import Channel, MuDelta
    from crm.selectors import channel_mu, channel_mu_counted
    from crm.services.mu import mu_compact

    with timed() as t:
        channel_id = build(args.customers, args.boots)
    channel = Channel.objects.get(pk=channel_id)
    rows = MuDelta.objects.filter(channel_id=channel_id).count()
    print(f"built {args.customers + args.boots:,} customers ({rows:,} MU rows): {t}")
    counted = channel_mu_counted(channel)
    assert channel_mu(channel) == counted, (channel_mu(channel), counted)
    median, worst = sample(lambda: channel_mu(channel), args.runs)
    print(f"channel_mu over {rows:,} rows: median {median:.3f} ms, worst {worst:.3f} ms")
    with timed() as t:
        folded = mu_compact()
    print(f"mu_compact folded {folded:,} rows: {t}")
    assert channel_mu(channel) == counted
    with timed() as t:
        median, worst = sample(lambda: channel_mu(channel), args.runs)
    print(
        f"channel_mu after compaction: median {median:.3f} ms, worst {worst:.3f} ms"
        f" ({args.runs} calls: {t})"
    )
    count_median, count_worst = sample(lambda: channel_mu_counted(channel), 5)
    print(
        f"for comparison, the count it replaces: median {count_median:.1f} ms,"
        f" worst {count_worst:.1f} ms"
    )
    print(f"MU {counted:,} exact; {'PASS' if worst <= 10 else 'FAIL'}: target ≤ 10 ms")


if __name__ == "__main__":
    main()

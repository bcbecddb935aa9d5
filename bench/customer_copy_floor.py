"""PostgreSQL's own cost of storing new customers: the floor under any import's speed.

COPYs N already-parsed customers (the import benchmark's columns: Korean name, email, +82
mobile, a 9-key profile) straight into ``crm_customer`` of a new channel, in a transaction that
is rolled back, once with every index of the table and once without the three trigram search
indexes (R1.4, SPEC §10), and prints PostgreSQL's µs per row. No Python parsing is timed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/customer_copy_floor.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import random
import time

from _pg import setup

VARIANTS = {
    "every index": [],
    "without the trigram indexes": [
        "DROP INDEX customer_email_trgm, customer_mobile_trgm, customer_name_trgm"
    ],
}


def copy_text(channel_id: int, rows: int) -> str:
    rnd = random.Random(7)
    lines = []
    for i in range(rows):
        profile = {
            "birthday": f"19{rnd.randint(60, 99)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
            "lastOrderAt": "2025-03-04T05:15:00.000Z",
            "points": rnd.randint(0, 50000) / 100,
            "vip": rnd.random() < 0.5,
            "interests": rnd.sample(["패션", "뷰티", "식품", "여행"], 2),
            "segments": ["등급/골드"],
            "memo1": f"메모 {rnd.randint(0, 10**6)}",
            "memo2": "매장",
            "memo3": f"note-{i}",
        }
        lines.append(
            f"{channel_id}\t{rnd.choice('김이박최정')}민준\tcustomer{i}@example{i % 97}.com\t"
            f"+8210{10000000 + i:08d}\tt\tf\tt\t{json.dumps(profile, ensure_ascii=False)}\tf\t\t"
            "2026-01-01T00:00:00+00:00\t2026-01-01T00:00:00+00:00\n"
        )
    return "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    setup("bench")
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from crm.services.channels import channel_create

    owner, _ = get_user_model().objects.get_or_create(username="bench")
    columns = (
        "channel_id, name, email, mobile_number, unsubscribe_email, unsubscribe_texting, verified,"
        " profile, blocked, blocked_reason, created_at, updated_at"
    )
    for label, statements in VARIANTS.items():
        with transaction.atomic():
            channel = channel_create(
                slug=f"floor-{time.time_ns()}", name="Floor", owner=owner
            ).channel
            data = copy_text(channel.pk, args.rows)
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                start = time.perf_counter()
                with cursor.copy(f"COPY crm_customer ({columns}) FROM STDIN") as copy:
                    copy.write(data)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred FK checks too
                seconds = time.perf_counter() - start
            transaction.set_rollback(True)
        print(
            f"{label:30}: {seconds / args.rows * 1e6:5.1f} µs/row  ({args.rows / seconds:,.0f} rows/s)"
        )


if __name__ == "__main__":
    main()

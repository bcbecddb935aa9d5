"""Deletion benchmark (issue 5): delete N customers matched by one import tag, each with a chat
of 3 messages (and, as after a real import, an import-journal row): target ≤ 15 s for 100,000,
every message kept.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/delete_bench.py
    … --customers 100000 --chunk 5000 [--no-journal] [--database bench_issue5]

It works in its own database (created and migrated when missing), builds the data with
set-based SQL, then runs the same code the back-office's "delete everything matching this
filter" and `delete_customers --import-tag` run (crm.services.deletion), in this process.
"""

from __future__ import annotations

import argparse

from _pg import setup, timed


def build(customers: int, journal: bool) -> tuple[int, str]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.models import Channel, ImportTag
    from crm.services.channels import channel_create

    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    Channel.objects.filter(slug="bench-delete").delete()
    channel = channel_create(slug="bench-delete", name="Bench", owner=owner).channel
    tag = ImportTag.objects.create(channel=channel, name="bench tag")
    keep = ImportTag.objects.create(channel=channel, name="other tag")
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        # The tagged customers, and as many untouched ones of another import.
        cursor.execute(
            "INSERT INTO crm_customer (channel_id, verified, name, email, mobile_number,"
            " profile, blocked, blocked_reason, created_at, updated_at)"
            " SELECT %s, true, '고객 ' || g, 'c' || g || '@example.com',"
            " '+8210' || (10000000 + g), '{\"grade\": \"gold\"}', false, '', %s, %s"
            " FROM generate_series(1, %s) g",
            [channel.pk, now, now, 2 * customers],
        )
        cursor.execute(
            "INSERT INTO crm_customerimporttag (channel_id, customer_id, import_tag_id, added_at)"
            " SELECT %s, id, CASE WHEN row_number() OVER (ORDER BY id) <= %s THEN %s ELSE %s END,"
            " %s FROM crm_customer WHERE channel_id = %s",
            [channel.pk, customers, tag.pk, keep.pk, now, channel.pk],
        )
        cursor.execute(
            "INSERT INTO crm_chat (channel_id, customer_id, state, created_at, updated_at)"
            " SELECT %s, id, 'open', %s, %s FROM crm_customer WHERE channel_id = %s",
            [channel.pk, now, now, channel.pk],
        )
        cursor.execute(
            "INSERT INTO crm_message (channel_id, chat_id, sender, body, delivery, created_at)"
            " SELECT %s, c.id, 'customer', '메시지 ' || n, 'delivered', %s"
            " FROM crm_chat c CROSS JOIN generate_series(1, 3) n WHERE c.channel_id = %s",
            [channel.pk, now, channel.pk],
        )
        if journal:
            from importer.models import ImportJob

            job = ImportJob.objects.create(
                channel=channel, kind="member", filename="bench.csv", status="succeeded"
            )
            cursor.execute(
                "INSERT INTO importer_importjournal (channel_id, job_id, customer_id, created)"
                " SELECT %s, %s, id, true FROM crm_customer WHERE channel_id = %s",
                [channel.pk, job.pk, channel.pk],
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return channel.pk, tag.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--no-journal", action="store_true")
    parser.add_argument("--database", default="bench_issue5")
    args = parser.parse_args()
    setup(args.database)

    from django.conf import settings

    from crm.models import Channel, Chat, Customer, Message
    from crm.selectors import channel_mu, channel_mu_counted
    from crm.services.deletion import customers_delete, deletion_job_run, deletion_preview

    settings.DELETE_CHUNK_ROWS = args.chunk
    with timed() as t:
        channel_id, tag = build(args.customers, journal=not args.no_journal)
    channel = Channel.objects.get(pk=channel_id)
    messages = Message.objects.filter(channel=channel).count()
    print(f"built {2 * args.customers:,} customers, {messages:,} messages: {t}")
    count, top = deletion_preview(channel=channel, filter={"importTag": tag})
    assert count == args.customers, count
    with timed() as t:
        job = customers_delete(
            channel=channel,
            by=None,
            via="command",
            filter={"importTag": tag},
            expected=count,
            max_id=top,
            background=False,
        )
        job = deletion_job_run(job.pk)
    assert job.status == "succeeded" and job.deleted == args.customers, job
    left = Customer.objects.filter(channel=channel).count()
    assert left == args.customers, left
    assert Message.objects.filter(channel=channel).count() == messages, "messages lost"
    orphaned = Chat.objects.filter(channel=channel, customer__isnull=True).count()
    assert orphaned == args.customers
    assert channel_mu(channel) == channel_mu_counted(channel) == args.customers
    rate = args.customers / t.wall
    print(
        f"deleted {job.deleted:,} customers by import tag in chunks of {args.chunk:,}: {t}"
        f" ({rate:,.0f}/s); {messages:,} messages kept, {orphaned:,} chats now from a deleted"
        f" customer; MU {channel_mu(channel):,} exact"
    )
    verdict = "PASS" if t.wall <= 15 else "FAIL"
    print(f"{verdict}: target ≤ 15 s for 100,000 (this run: {args.customers:,})")


if __name__ == "__main__":
    main()

"""PostgreSQL's cost of a new import's consent history (R2.16b, issue 15): backend CPU of
writing two entries per new customer, chunk by chunk as the COPY writer does, in variants.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/consent_write_bench.py --customers 300000 select copy nocheck copy

Variants, run in the order given (each on an emptied history table):
  select   the former statement: INSERT … SELECT reading the new rows back by id
  copy     COPY from the values the writer has (what the COPY writer does now)
  check    add a foreign-key check of the channel (as before crm 0020), for what follows
  nocheck  drop it again (as crm 0020)
Uses its own database (bench_consent_write by default; created and migrated when missing).
"""

from __future__ import annotations

import argparse

import _pg

SELECT = (
    "INSERT INTO crm_consentchange (channel_id, customer_id, key, old, new, at, source,"
    " reference, label) SELECT c.channel_id, c.id, v.key, NULL::boolean, v.new, %(at)s,"
    " 'import', 1, '' FROM crm_customer c CROSS JOIN LATERAL (VALUES"
    " ('unsubscribeEmail', c.unsubscribe_email), ('unsubscribeTexting', c.unsubscribe_texting))"
    " AS v(key, new) WHERE c.id = ANY(%(ids)s::bigint[]) AND v.new IS NOT NULL"
)
COPY = (
    "COPY crm_consentchange (channel_id, customer_id, key, old, new, at, source, reference,"
    " label) FROM STDIN"
)
CHECK = "consent_bench_channel_check"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--database", default="bench_consent_write")
    parser.add_argument("variants", nargs="*", default=["select", "copy"])
    args = parser.parse_args()
    _pg.setup(args.database)

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.models import Channel
    from crm.services.channels import channel_create

    owner, _ = get_user_model().objects.get_or_create(username="bench")
    channel = Channel.objects.filter(slug="consent-bench").first()
    if channel is None:
        channel = channel_create(slug="consent-bench", name="Bench", owner=owner).channel
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_customer WHERE channel_id = %s", [channel.pk])
        if cursor.fetchone()[0] != args.customers:
            cursor.execute("DELETE FROM crm_customer WHERE channel_id = %s", [channel.pk])
            cursor.execute(
                "INSERT INTO crm_customer (channel_id, name, email, verified, profile, blocked,"
                " blocked_reason, created_at, updated_at, unsubscribe_email, unsubscribe_texting)"
                " SELECT %s, 'n' || g, 'e' || g || '@example.kr', true, '{}', false, '', now(),"
                " now(), g %% 2 = 0, g %% 3 = 0 FROM generate_series(1, %s) g",
                [channel.pk, args.customers],
            )
        cursor.execute("ANALYZE crm_customer")
        cursor.execute(
            "SELECT id, unsubscribe_email, unsubscribe_texting FROM crm_customer"
            " WHERE channel_id = %s ORDER BY id",
            [channel.pk],
        )
        customers = cursor.fetchall()

    def flag(value: bool) -> str:
        return "t" if value else "f"

    def select(part: list[tuple[int, bool, bool]], at: str) -> None:
        ids = "{" + ",".join(str(c[0]) for c in part) + "}"
        with connection.cursor() as cursor:
            cursor.execute(SELECT, {"ids": ids, "at": at})

    def copy(part: list[tuple[int, bool, bool]], at: str) -> None:
        tail = f"\t{at}\timport\t1\t\n"
        lines = []
        for customer_id, email, texting in part:
            lines.append(f"{channel.pk}\t{customer_id}\tunsubscribeEmail\t\\N\t{flag(email)}{tail}")
            lines.append(
                f"{channel.pk}\t{customer_id}\tunsubscribeTexting\t\\N\t{flag(texting)}{tail}"
            )
        with connection.cursor() as cursor, cursor.copy(COPY) as stream:
            stream.write("".join(lines))

    for variant in args.variants:
        with connection.cursor() as cursor:
            if variant in ("check", "nocheck"):
                cursor.execute(f"ALTER TABLE crm_consentchange DROP CONSTRAINT IF EXISTS {CHECK}")
                if variant == "check":
                    cursor.execute(
                        f"ALTER TABLE crm_consentchange ADD CONSTRAINT {CHECK} FOREIGN KEY"
                        " (channel_id) REFERENCES crm_channel (id) DEFERRABLE INITIALLY DEFERRED"
                    )
                print(variant)
                continue
            cursor.execute("TRUNCATE crm_consentchange")
        write = {"select": select, "copy": copy}[variant]
        with _pg.timed() as timing:
            for start in range(0, len(customers), args.chunk):
                with transaction.atomic():
                    write(customers[start : start + args.chunk], timezone.now().isoformat())
        print(f"{variant:8} {2 * len(customers):,} entries: {timing}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE crm_consentchange DROP CONSTRAINT IF EXISTS {CHECK}")
        cursor.execute("TRUNCATE crm_consentchange")


if __name__ == "__main__":
    main()

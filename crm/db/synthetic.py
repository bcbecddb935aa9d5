"""A large channel made by set-based SQL (PostgreSQL only), for benchmarks and plan tests.

``bench/contacts_bench.py`` builds 1,000,000 or 10,000,000 customers with it, and the EXPLAIN
tests a few tens of thousands: what a channel holds after its imports, in the shape the importer
writes it — customers in batches, each batch an import with its import tag on every customer and
a journal row per customer —, plus tags and chats with messages. After each batch the planner's
statistics are refreshed exactly where an import refreshes them (``crm.db.statistics``), and
nothing else: no VACUUM, so tables are as a fresh import leaves them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from crm.db.statistics import analyze_changed
from crm.models import Channel, ImportTag, Tag

_SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
_SYLLABLES = "민서준지하도윤우현예은수아진영성주경혜재동소유연희"
_GIVEN = ["James", "Mary", "John", "Linda", "David", "Sarah", "Daniel", "Emma", "Chris", "Olivia"]
_FAMILY = ["Smith", "Park", "Jones", "Lee", "Brown", "Garcia", "Miller", "Kim", "Wilson", "Moore"]
_DOMAINS = ["gmail.com", "naver.com", "daum.net", "kakao.com", "hanmail.net", "example.co.kr"]


def _array(values: list[str] | str) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


# One customer per g: two thirds Korean names (surname + two syllables), a third English ones;
# half are members; most have an email and a mobile (unique), some neither; 1 in 500 blocked.
_CUSTOMERS_SQL = f"""
INSERT INTO crm_customer (channel_id, member_id, verified, name, email, mobile_number,
    unsubscribe_email, unsubscribe_texting, profile, first_boot_at, last_seen_at, blocked,
    blocked_at, blocked_reason, created_at, updated_at)
SELECT %(channel)s,
    CASE WHEN g %% 2 = 0 THEN 'm' || g END,
    true,
    CASE WHEN g %% 3 <> 0
        THEN ({_array(_SURNAMES)})[1 + g %% {len(_SURNAMES)}]
            || ({_array(_SYLLABLES)})[1 + (g / 7) %% {len(_SYLLABLES)}]
            || ({_array(_SYLLABLES)})[1 + (g / 173) %% {len(_SYLLABLES)}]
        ELSE ({_array(_GIVEN)})[1 + (g / 3) %% {len(_GIVEN)}] || ' '
            || ({_array(_FAMILY)})[1 + (g / 31) %% {len(_FAMILY)}] END,
    CASE WHEN g %% 5 <> 4 THEN 'user' || g || '@' || ({_array(_DOMAINS)})[1 + g %% {len(_DOMAINS)}]
        END,
    CASE WHEN g %% 5 <> 3 THEN '+8210' || lpad(((g::bigint * 7919) %% 100000000)::text, 8, '0')
        END,
    g %% 7 = 0, g %% 11 = 0,
    CASE WHEN g %% 4 = 0 THEN '{{"grade": "gold"}}'::jsonb ELSE '{{}}'::jsonb END,
    CASE WHEN g %% 3 = 0 THEN %(now)s - g * interval '1 second' END,
    CASE WHEN g %% 3 = 0 THEN %(now)s - g * interval '1 second' END,
    g %% 500 = 0,
    CASE WHEN g %% 500 = 0 THEN %(now)s END,
    '', %(now)s, %(now)s
FROM generate_series(%(first)s, %(last)s) g
"""


@dataclass
class SyntheticChannel:
    channel: Channel
    customers: int = 0
    import_tags: list[str] = field(default_factory=list)  # oldest import first


def build_channel(
    channel: Channel,
    *,
    customers: int,
    batch: int = 100_000,
    progress: Callable[[int], None] | None = None,
) -> SyntheticChannel:
    """Add ``customers`` customers to ``channel`` in imports of ``batch`` (the last may be
    smaller), each with its import tag ``import-<n>`` and journal; tags ``vip`` (1 in 10) and
    ``newsletter`` (1 in 4); a chat with two messages for 1 in 5."""
    from importer.models import ImportJob

    if connection.vendor != "postgresql":
        raise RuntimeError("synthetic channels are built with PostgreSQL's set-based SQL")
    built = SyntheticChannel(channel)
    vip, _ = Tag.objects.get_or_create(channel=channel, name="vip")
    letter, _ = Tag.objects.get_or_create(channel=channel, name="newsletter")
    now = timezone.now()
    first = 1
    while first <= customers:
        last = min(first + batch - 1, customers)
        name = f"import-{len(built.import_tags) + 1}"
        tag, _ = ImportTag.objects.get_or_create(channel=channel, name=name)
        job = ImportJob.objects.create(
            channel=channel, kind="member", filename=f"{name}.csv", tag=name, status="succeeded"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(max(id), 0) FROM crm_customer")
            (floor,) = cursor.fetchone()
            params: dict[str, Any] = {
                "channel": channel.pk,
                "now": now,
                "first": first,
                "last": last,
            }
            cursor.execute(_CUSTOMERS_SQL, params)
            mine = "FROM crm_customer WHERE channel_id = %(channel)s AND id > %(floor)s"
            params = {**params, "floor": floor, "tag": tag.pk, "job": job.pk}
            cursor.execute(
                "INSERT INTO crm_customerimporttag (channel_id, customer_id, import_tag_id,"
                f" added_at) SELECT %(channel)s, id, %(tag)s, %(now)s {mine}",
                params,
            )
            cursor.execute(
                "INSERT INTO importer_importjournal (channel_id, job_id, customer_id, created)"
                f" SELECT %(channel)s, %(job)s, id, true {mine}",
                params,
            )
            cursor.execute(
                "INSERT INTO crm_customertag (channel_id, customer_id, tag_id)"
                f" SELECT %(channel)s, id, CASE WHEN id %% 10 = 0 THEN {vip.pk} ELSE {letter.pk}"
                f" END {mine} AND (id %% 10 = 0 OR id %% 4 = 1)",
                params,
            )
            cursor.execute(
                "INSERT INTO crm_chat (channel_id, customer_id, state, created_at, updated_at)"
                f" SELECT %(channel)s, id, 'closed', %(now)s, %(now)s {mine} AND id %% 5 = 0",
                params,
            )
            cursor.execute(
                "INSERT INTO crm_message (channel_id, chat_id, sender, body, delivery,"
                " created_at) SELECT %(channel)s, c.id, s.sender, s.body, 'delivered', %(now)s"
                " FROM crm_chat c CROSS JOIN (VALUES ('customer', '안녕하세요'),"
                " ('manager', '무엇을 도와드릴까요?')) s(sender, body)"
                " WHERE c.channel_id = %(channel)s AND c.customer_id > %(floor)s",
                params,
            )
        rows = last - first + 1
        ImportJob.objects.filter(pk=job.pk).update(created=rows, rows_total=rows, rows_done=rows)
        # What the importer does after its last chunk (importer.engine._refresh_statistics).
        analyze_changed(
            {"crm_customer": rows, "importer_importjournal": rows, "crm_customerimporttag": rows}
        )
        # Tags and chats are written a few at a time over a channel's life (API, managers), so
        # autovacuum has long analysed them: as it would have.
        analyze_changed({"crm_customertag": rows, "crm_chat": rows})
        built.import_tags.append(name)
        built.customers += rows
        first = last + 1
        if progress is not None:
            progress(built.customers)
    return built

"""MU stays exact through mixed operations (R1.5, R4.3): on PostgreSQL the database keeps it
with triggers (crm/migrations/0003_mu_triggers.py), whatever writes the customers."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from crm.models import Channel, Customer, MuDelta
from crm.selectors import channel_mu, channel_mu_counted
from crm.services.blocking import customers_block, customers_unblock
from crm.services.boot import customer_boot
from crm.services.deletion import customer_delete, customers_delete
from crm.services.mu import mu_compact
from crm.services.unification import unify_member_with_leads
from tests.importer.conftest import media_root, run_import, write_csv  # noqa: F401


def exact(*channels: Channel) -> list[int]:
    values = []
    for channel in channels:
        mu = channel_mu(channel)
        assert mu == channel_mu_counted(channel), channel
        values.append(mu)
    return values


def test_r1_5_mu_equals_a_full_count_after_mixed_operations(
    channel: Channel, other_channel: Channel, owner: Any, tmp_path: Path
) -> None:
    Customer.objects.bulk_create(
        Customer(channel=channel, verified=True, email=f"b{i}@example.com") for i in range(20)
    )
    Customer.objects.create(channel=other_channel, verified=True, email="o@example.com")
    Customer.objects.create(channel=channel, verified=True, blocked=True)  # born blocked
    assert exact(channel, other_channel) == [20, 1]
    head = ["memberId", "email", "unsubscribeEmail", "unsubscribeTexting"]
    rows = [[f"m{i}", f"b{i}@example.com", "false", "false"] for i in range(10)]
    result = run_import(channel, write_csv(tmp_path / "m.csv", [head, *rows]), "--kind", "member")
    assert result["created"] == 10  # and each b{i} lead, never booted, unified at once
    assert exact(channel, other_channel) == [20, 1]
    for i in range(3):
        customer_boot(channel=channel, veil_id=f"veil-mixed-{i:04}")
    customer_boot(channel=channel, member_id="m1")
    assert exact(channel) == [23]
    ids = list(Customer.objects.filter(channel=channel).values_list("pk", flat=True)[:6])
    customers_block(channel=channel, customers=ids, by=owner)
    assert exact(channel) == [17]
    customers_unblock(channel=channel, customers=ids[:2], by=owner)
    Customer.objects.filter(pk=ids[2]).update(blocked=False)  # any UPDATE path counts
    assert exact(channel) == [20]
    customer_delete(channel=channel, customer=Customer.objects.get(pk=ids[0]), by=owner)
    customers_delete(channel=channel, by=owner, via="bulk", ids=ids[3:5])  # blocked ones
    Customer.objects.filter(pk__in=ids[1:3]).delete()  # the ORM's delete too
    assert exact(channel, other_channel) == [17, 1]
    lead = Customer.objects.create(channel=channel, verified=True, email="late@example.com")
    member = Customer.objects.create(
        channel=channel, member_id="m99", verified=True, email="late@example.com"
    )
    unify_member_with_leads(channel=channel, members=[member], via="import")
    assert not Customer.objects.filter(pk=lead.pk).exists()
    assert exact(channel, other_channel) == [18, 1]
    mu_compact()
    assert exact(channel, other_channel) == [18, 1]


@pytest.mark.postgres
def test_r1_5_database_triggers_count_every_write_path(
    channel: Channel, other_channel: Channel
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'crm_customer'::regclass"
            " AND NOT tgisinternal ORDER BY tgname"
        )
        assert [r[0] for r in cursor.fetchall()] == [
            "crm_customer_mu_delete",
            "crm_customer_mu_insert",
            "crm_customer_mu_truncate",
            "crm_customer_mu_update",
        ]
        now = timezone.now()
        # Raw SQL, several channels in one statement.
        cursor.execute(
            "INSERT INTO crm_customer (channel_id, verified, name, profile, blocked,"
            " blocked_reason, created_at, updated_at)"
            " SELECT CASE WHEN g %% 3 = 0 THEN %s ELSE %s END, true, '', '{}', g %% 5 = 0, '',"
            " %s, %s FROM generate_series(1, 300) g",
            [other_channel.pk, channel.pk, now, now],
        )
        # COPY, as the import engine writes new customers.
        with cursor.copy(
            "COPY crm_customer (channel_id, verified, name, profile, blocked, blocked_reason,"
            " created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(50):
                copy.write_row((channel.pk, True, f"c{i}", "{}", i % 10 == 0, "", now, now))
        # A customer moved between channels (no product path does it; the counter follows).
        cursor.execute(
            "UPDATE crm_customer SET channel_id = %s WHERE id IN"
            " (SELECT id FROM crm_customer WHERE channel_id = %s AND NOT blocked LIMIT 7)",
            [other_channel.pk, channel.pk],
        )
        # An UPDATE that does not touch blocked or channel writes no MU row.
        before = MuDelta.objects.count()
        cursor.execute("UPDATE crm_customer SET name = 'x' WHERE channel_id = %s", [channel.pk])
        assert MuDelta.objects.count() == before
    exact(channel, other_channel)
    assert mu_compact() > 0
    assert MuDelta.objects.filter(channel_id=channel.pk).count() == 1
    exact(channel, other_channel)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute("TRUNCATE crm_customer CASCADE")
    assert exact(channel, other_channel) == [0, 0]


@pytest.mark.postgres
def test_r1_5_compaction_drops_the_rows_of_deleted_channels(
    channel: Channel, other_channel: Channel
) -> None:
    Customer.objects.create(channel=other_channel, verified=True)
    gone = other_channel.pk
    other_channel.delete()
    assert MuDelta.objects.filter(channel_id=gone).exists()
    mu_compact()
    assert not MuDelta.objects.filter(channel_id=gone).exists()


@pytest.mark.postgres
def test_r1_5_the_migration_seeds_mu_from_a_count(channel: Channel) -> None:
    migration = importlib.import_module("crm.migrations.0003_mu_triggers")
    with connection.cursor() as cursor:
        for sql in migration.BACKWARD:  # triggers gone
            cursor.execute(sql)
    Customer.objects.bulk_create(Customer(channel=channel, verified=True) for _ in range(5))
    Customer.objects.create(channel=channel, verified=True, blocked=True)
    assert not MuDelta.objects.exists()
    with connection.cursor() as cursor:
        for sql in migration.FORWARD:
            cursor.execute(sql)
    assert exact(channel) == [5]
    Customer.objects.create(channel=channel, verified=True)  # and counting again
    assert exact(channel) == [6]

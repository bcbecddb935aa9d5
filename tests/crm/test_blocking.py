"""Blocking and unblocking (R4.1 to R4.4) through the services, and what a block changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from crm.filters import search_contacts
from crm.models import ActivityLog, Campaign, CampaignTarget, Channel, Customer
from crm.selectors import blocked_customers, channel_mu, channel_mu_counted, contacts
from crm.services.blocking import (
    customer_block,
    customer_unblock,
    customers_block,
    customers_unblock,
)
from crm.services.customers import lead_add
from tests.importer.conftest import media_root, run_import, write_csv  # noqa: F401


def mu(channel: Channel) -> int:
    value = channel_mu(channel)
    assert value == channel_mu_counted(channel)
    return value


@pytest.fixture
def kim(channel: Channel) -> Customer:
    return lead_add(channel=channel, email="kim@example.com", name="김민준").customer


@pytest.fixture
def lee(channel: Channel) -> Customer:
    return lead_add(channel=channel, mobile_number="+821055556666", name="이서연").customer


def test_r4_1_block_with_optional_reason_records_who_when_why(
    channel: Channel, kim: Customer, agent: Any
) -> None:
    customer_block(channel=channel, customer=kim, by=agent, reason="  욕설  ")
    kim.refresh_from_db()
    assert kim.blocked and kim.blocked_at and kim.blocked_by == agent
    assert kim.blocked_reason == "욕설"
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CUSTOMER_BLOCK)
    assert (entry.actor, entry.customer_id, entry.via, entry.detail) == (
        agent,
        kim.pk,
        "hand",
        {"reason": "욕설"},
    )


def test_r4_4_blocks_and_unblocks_are_in_the_activity_log(
    channel: Channel, kim: Customer, owner: Any, agent: Any
) -> None:
    customer_block(channel=channel, customer=kim, by=agent, reason="spam")
    customer_unblock(channel=channel, customer=kim, by=owner)
    entries = ActivityLog.objects.filter(customer_id=kim.pk).order_by("id")
    assert [(e.action, e.actor, e.via) for e in entries if e.action != "customer.create"] == [
        ("customer.block", agent, "hand"),
        ("customer.unblock", owner, "hand"),
    ]
    assert entries.get(action="customer.block").detail == {"reason": "spam"}


def test_r4_1_reason_is_optional(channel: Channel, kim: Customer, owner: Any) -> None:
    assert customer_block(channel=channel, customer=kim, by=owner).blocked_reason == ""


def test_r4_1_bad_input_is_refused(channel: Channel, kim: Customer, owner: Any) -> None:
    with pytest.raises(ValidationError, match="at most 512"):
        customer_block(channel=channel, customer=kim, by=owner, reason="x" * 513)
    customer_block(channel=channel, customer=kim, by=owner)
    with pytest.raises(ValidationError, match="already blocked"):
        customer_block(channel=channel, customer=kim, by=owner)
    assert ActivityLog.objects.filter(action="customer.block").count() == 1


def test_r8_2_another_channels_customer_is_never_blocked(
    channel: Channel, other_channel: Channel, kim: Customer, outsider: Any
) -> None:
    with pytest.raises(ValidationError, match="another channel"):
        customer_block(channel=other_channel, customer=kim, by=outsider)
    assert customers_block(channel=other_channel, customers=[kim.pk], by=outsider) == 0
    kim.refresh_from_db()
    assert not kim.blocked
    customer_block(channel=channel, customer=kim, by=None)
    with pytest.raises(ValidationError, match="another channel"):
        customer_unblock(channel=other_channel, customer=kim, by=outsider)
    assert customers_unblock(channel=other_channel, customers=[kim.pk], by=outsider) == 0
    kim.refresh_from_db()
    assert kim.blocked


def test_r4_1_bulk_block_and_unblock_log_one_entry_with_the_count(
    channel: Channel, kim: Customer, lee: Customer, owner: Any
) -> None:
    customer_block(channel=channel, customer=kim, by=owner)
    assert customers_block(channel=channel, customers=[kim, lee], by=owner, reason="spam") == 1
    entry = ActivityLog.objects.filter(action="customer.block").first()
    assert entry is not None and (entry.count, entry.via) == (1, "bulk")
    assert customers_unblock(channel=channel, customers=[kim.pk, lee.pk], by=owner) == 2
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CUSTOMER_UNBLOCK)
    assert (entry.count, entry.actor, sorted(entry.detail["ids"])) == (2, owner, [kim.pk, lee.pk])
    lee.refresh_from_db()
    assert (lee.blocked, lee.blocked_at, lee.blocked_by, lee.blocked_reason) == (
        False,
        None,
        None,
        "",
    )


def test_r4_1_unblocking_a_customer_not_blocked_is_refused(
    channel: Channel, kim: Customer, owner: Any
) -> None:
    with pytest.raises(ValidationError, match="not blocked"):
        customer_unblock(channel=channel, customer=kim, by=owner)


def test_r4_2_blocked_customers_leave_contacts_and_search_for_the_blocked_list(
    channel: Channel, kim: Customer, lee: Customer, owner: Any
) -> None:
    customer_block(channel=channel, customer=kim, by=owner)
    assert list(contacts(channel)) == [lee]
    assert not search_contacts(contacts(channel), "kim@example.com").exists()
    assert list(blocked_customers(channel)) == [kim]
    customer_unblock(channel=channel, customer=kim, by=owner)
    assert set(contacts(channel)) == {kim, lee} and not blocked_customers(channel).exists()


def test_r4_3_blocked_customers_are_not_counted_in_mu(
    channel: Channel, kim: Customer, lee: Customer, owner: Any
) -> None:
    assert mu(channel) == 2
    customer_block(channel=channel, customer=kim, by=owner)
    assert mu(channel) == 1
    customers_block(channel=channel, customers=[kim, lee], by=owner)
    assert mu(channel) == 0
    customers_unblock(channel=channel, customers=[kim, lee], by=owner)
    assert mu(channel) == 2


def test_r4_3_block_takes_the_customer_off_unsent_campaign_lists(
    channel: Channel, kim: Customer, owner: Any
) -> None:
    draft = Campaign.objects.create(channel=channel, name="draft", body="x")
    sent = Campaign.objects.create(channel=channel, name="sent", body="x", status="sent")
    CampaignTarget.objects.create(channel=channel, campaign=draft, customer=kim)
    CampaignTarget.objects.create(channel=channel, campaign=sent, customer=kim)
    customer_block(channel=channel, customer=kim, by=owner)
    assert list(CampaignTarget.objects.values_list("campaign__name", flat=True)) == ["sent"]


def test_r4_3_an_import_never_unblocks(channel: Channel, owner: Any, tmp_path: Path) -> None:
    head = ["memberId", "name", "email", "unsubscribeEmail", "unsubscribeTexting"]
    first = write_csv(tmp_path / "a.csv", [head, ["m1", "A", "a@example.com", "false", "false"]])
    run_import(channel, first, "--kind", "member")
    member = Customer.objects.get(member_id="m1")
    customer_block(channel=channel, customer=member, by=owner, reason="spam")
    again = write_csv(tmp_path / "b.csv", [head, ["m1", "B", "a@example.com", "true", "true"]])
    assert run_import(channel, again, "--kind", "member")["updated"] == 1
    member.refresh_from_db()
    assert member.name == "B" and member.blocked and member.blocked_reason == "spam"
    lead_file = write_csv(
        tmp_path / "c.csv",
        [
            ["email", "name", "unsubscribeEmail", "unsubscribeTexting"],
            ["a@example.com", "C", "", ""],
        ],
    )
    run_import(channel, lead_file, "--kind", "lead", "--identity", "email")
    member.refresh_from_db()
    assert member.blocked
    assert mu(channel) == 0

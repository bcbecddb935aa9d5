"""Blocking in the back-office (R4.1, R4.2, R4.4): the customer page, bulk, "Blocked customers"."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import ActivityLog, Channel, Customer
from crm.services.blocking import customer_block
from crm.services.customers import lead_add

LIST = reverse("admin:crm_customer_changelist")
BLOCKED = reverse("admin:crm_blockedcustomer_changelist")


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def kim(channel: Channel) -> Customer:
    return lead_add(channel=channel, email="kim@example.com", name="김민준").customer


@pytest.fixture
def lee(channel: Channel) -> Customer:
    return lead_add(channel=channel, email="lee@example.com", name="이서연").customer


def test_r4_1_block_from_the_customer_page_with_a_reason(
    channel: Channel, kim: Customer, agent: Any
) -> None:
    client = logged_in(agent)
    page = client.get(reverse("admin:crm_customer_change", args=[kim.pk])).content.decode()
    block_url = reverse("admin:crm_customer_block", args=[kim.pk])
    assert block_url in page
    assert "not counted in MU" in client.get(block_url).content.decode()
    response = client.post(block_url, {"reason": "광고 스팸"})
    assert response.status_code == 302
    kim.refresh_from_db()
    assert kim.blocked and kim.blocked_reason == "광고 스팸" and kim.blocked_by == agent
    page = client.get(reverse("admin:crm_customer_change", args=[kim.pk])).content.decode()
    assert "광고 스팸" in page and reverse("admin:crm_customer_unblock", args=[kim.pk]) in page


def test_r4_1_a_too_long_reason_shows_an_error_and_blocks_nothing(
    channel: Channel, kim: Customer, agent: Any
) -> None:
    response = logged_in(agent).post(
        reverse("admin:crm_customer_block", args=[kim.pk]), {"reason": "x" * 600}
    )
    assert response.status_code == 200 and "at most 512" in response.content.decode()
    kim.refresh_from_db()
    assert not kim.blocked


def test_r8_1_blocking_needs_the_block_grant(
    channel: Channel, kim: Customer, agent: Any, outsider: Any
) -> None:
    from crm.services.memberships import membership_set
    from tests.conftest import make_user

    viewer = make_user("viewer")
    membership_set(channel=channel, user=viewer, role="agent")
    from crm.models import ChannelUserObjectPermission

    ChannelUserObjectPermission.objects.filter(
        user=viewer, permission__codename="block_customers"
    ).delete()
    url = reverse("admin:crm_customer_block", args=[kim.pk])
    assert logged_in(viewer).post(url, {"reason": ""}).status_code == 403
    assert logged_in(outsider).post(url, {"reason": ""}).status_code == 404  # R8.2
    kim.refresh_from_db()
    assert not kim.blocked


def test_r4_2_blocked_customers_page_lists_only_blocked_ones_and_unblocks(
    channel: Channel, kim: Customer, lee: Customer, owner: Any
) -> None:
    customer_block(channel=channel, customer=kim, by=owner, reason="욕설")
    client = logged_in(owner)
    page = client.get(BLOCKED).content.decode()
    assert "김민준" in page and "욕설" in page and "이서연" not in page
    assert "김민준" not in client.get(LIST).content.decode()
    assert "Blocked customers" in client.get(LIST).content.decode()
    unblock = reverse("admin:crm_customer_unblock", args=[kim.pk])
    assert client.post(unblock, {"next": "blocked"})["Location"] == BLOCKED
    kim.refresh_from_db()
    assert not kim.blocked
    assert "김민준" in client.get(LIST).content.decode()
    assert ActivityLog.objects.filter(action="customer.unblock", actor=owner).count() == 1


def test_r4_1_unblock_selected_from_the_blocked_page(
    channel: Channel, kim: Customer, lee: Customer, owner: Any
) -> None:
    for person in (kim, lee):
        customer_block(channel=channel, customer=person, by=owner)
    response = logged_in(owner).post(
        BLOCKED,
        {"action": "unblock_selected", "_selected_action": [kim.pk, lee.pk], "index": 0},
    )
    assert response.status_code == 302
    assert not Customer.objects.filter(blocked=True).exists()


def test_r8_2_blocked_page_never_shows_another_channels_customers(
    channel: Channel, kim: Customer, owner: Any, outsider: Any
) -> None:
    customer_block(channel=channel, customer=kim, by=owner)
    assert "김민준" not in logged_in(outsider).get(BLOCKED).content.decode()
    logged_in(outsider).post(
        BLOCKED, {"action": "unblock_selected", "_selected_action": [kim.pk], "index": 0}
    )
    kim.refresh_from_db()
    assert kim.blocked


def test_r4_1_block_selected_from_contacts_with_confirmation(
    channel: Channel, kim: Customer, lee: Customer, agent: Any
) -> None:
    client = logged_in(agent)
    data = {"action": "block_selected", "_selected_action": [kim.pk, lee.pk], "index": 0}
    confirm = client.post(LIST, data)
    assert confirm.status_code == 200 and "Block 2 customers" in confirm.content.decode()
    done = client.post(
        LIST,
        {
            "action": "block_selected",
            "_selected_action": [kim.pk, lee.pk],
            "select_across": "0",
            "post": "yes",
            "reason": "bulk",
        },
    )
    assert done.status_code == 302
    assert Customer.objects.filter(blocked=True, blocked_reason="bulk").count() == 2
    entry = ActivityLog.objects.get(action="customer.block")
    assert (entry.count, entry.via, entry.actor) == (2, "bulk", agent)

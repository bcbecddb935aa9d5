"""A block follows the person (R4.5): a blocked lead's browser (its veilId) that logs in as a
member hides the member too, with the reason in the activity log and on the blocked list;
unblocking either unblocks both."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import ActivityLog, BlockFollow, Channel, Customer
from crm.selectors import channel_mu, channel_mu_counted
from crm.services.blocking import customer_block, customer_unblock, customers_unblock

pytestmark = pytest.mark.django_db


def boot(channel: Channel, **fields: Any) -> dict[str, Any]:
    response = Client().post(
        "/front/boot",
        data=json.dumps({"pluginKey": channel.plugin_key, **fields}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def blocked_lead(channel: Channel, owner: Any) -> Customer:
    lead = Customer.objects.get(pk=boot(channel, veilId="veil-of-a-spammer")["id"])
    return customer_block(channel=channel, customer=lead, by=owner, reason="spam")


def test_r4_5_the_blocked_leads_browser_logging_in_hides_the_member(
    channel: Channel, blocked_lead: Customer
) -> None:
    answer = boot(channel, veilId="veil-of-a-spammer", memberId="new-member")
    assert (answer["type"], answer["hidden"]) == ("member", True)
    member = Customer.objects.get(member_id="new-member")
    assert member.blocked and f"#{blocked_lead.pk}" in member.blocked_reason
    entry = ActivityLog.objects.filter(action=ActivityLog.Action.CUSTOMER_BLOCK).first()
    assert entry is not None
    assert (entry.via, entry.customer_id, entry.actor) == ("boot", member.pk, None)
    assert f"#{blocked_lead.pk}" in entry.detail["reason"]
    assert channel_mu(channel) == channel_mu_counted(channel) == 0
    # The member is hidden wherever it boots from now on, with or without that browser.
    assert boot(channel, memberId="new-member")["hidden"] is True
    assert boot(channel, veilId="veil-of-a-spammer")["hidden"] is True


def test_r4_5_an_existing_member_is_hidden_too_and_the_manager_sees_why(
    channel: Channel, owner: Any, blocked_lead: Customer
) -> None:
    member = Customer.objects.get(pk=boot(channel, memberId="known")["id"])
    assert boot(channel, veilId="veil-of-a-spammer", memberId="known")["hidden"] is True
    member.refresh_from_db()
    assert member.blocked
    client = Client()
    client.force_login(owner)
    html = client.get(reverse("admin:crm_blockedcustomer_changelist")).content.decode()
    assert f"blocked lead #{blocked_lead.pk} logged in as this member" in html


@pytest.mark.parametrize("unblocked", ["lead", "member"])
def test_r4_5_unblocking_either_unblocks_both(
    channel: Channel, owner: Any, blocked_lead: Customer, unblocked: str
) -> None:
    boot(channel, veilId="veil-of-a-spammer", memberId="m-1")
    member = Customer.objects.get(member_id="m-1")
    customer_unblock(
        channel=channel, customer=blocked_lead if unblocked == "lead" else member, by=owner
    )
    assert not Customer.objects.filter(blocked=True).exists()
    assert not BlockFollow.objects.exists()
    assert channel_mu(channel) == channel_mu_counted(channel) == 2
    entry = ActivityLog.objects.filter(action=ActivityLog.Action.CUSTOMER_UNBLOCK).get()
    assert entry.count == 2 and sorted(entry.detail["ids"]) == sorted([blocked_lead.pk, member.pk])
    # Unblocked, the member boots visible.
    assert boot(channel, memberId="m-1")["hidden"] is False


def test_r4_5_a_later_block_of_the_lead_alone_does_not_reach_an_unlinked_member(
    channel: Channel, owner: Any, blocked_lead: Customer
) -> None:
    member = Customer.objects.get(pk=boot(channel, memberId="elsewhere")["id"])
    assert customers_unblock(channel=channel, customers=[blocked_lead], by=owner) == 1
    member.refresh_from_db()
    assert not member.blocked


def test_r4_5_a_blocked_members_browser_logging_in_as_another_member_hides_nothing(
    channel: Channel, owner: Any
) -> None:
    """The rule is the lead's (a lead is known only by its browser); two members sharing a
    computer are two people."""
    first = Customer.objects.get(pk=boot(channel, memberId="m-a", veilId="shared-computer")["id"])
    customer_block(channel=channel, customer=first, by=owner)
    assert boot(channel, veilId="shared-computer", memberId="m-b")["hidden"] is False

"""Chats, messages, calls and campaigns, and every effect of a block on them (R4.3)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from crm.models import Call, Campaign, CampaignTarget, Channel, Chat, Customer, ImportTag, Message
from crm.services.blocking import customer_block, customer_unblock
from crm.services.conversations import (
    call_place,
    call_receive,
    campaign_build,
    campaign_create,
    campaign_send,
    chat_close,
    chat_open,
    message_receive,
    message_send,
)
from crm.services.customers import lead_add


@pytest.fixture
def kim(channel: Channel) -> Customer:
    return lead_add(channel=channel, email="kim@example.com", name="김민준").customer


@pytest.fixture
def lee(channel: Channel) -> Customer:
    return lead_add(channel=channel, email="lee@example.com", name="이서연").customer


def test_chat_and_messages_both_ways(channel: Channel, kim: Customer, agent: Any) -> None:
    chat = chat_open(channel=channel, customer=kim)
    asked = message_receive(channel=channel, chat=chat, body="배송 언제 와요?")
    answered = message_send(channel=channel, chat=chat, body="내일 도착해요", by=agent)
    assert (asked.sender, answered.sender, answered.manager) == ("customer", "manager", agent)
    assert answered.delivery == Message.Delivery.DELIVERED
    assert list(chat.messages.values_list("body", flat=True)) == [
        "배송 언제 와요?",
        "내일 도착해요",
    ]


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_001])
def test_messages_with_bad_bodies_are_refused(
    channel: Channel, kim: Customer, agent: Any, body: str
) -> None:
    chat = chat_open(channel=channel, customer=kim)
    with pytest.raises(ValidationError):
        message_send(channel=channel, chat=chat, body=body, by=agent)
    with pytest.raises(ValidationError):
        message_receive(channel=channel, chat=chat, body=body)
    assert not Message.objects.exists()


def test_closed_chat_takes_no_manager_message(channel: Channel, kim: Customer, agent: Any) -> None:
    chat = chat_open(channel=channel, customer=kim)
    chat_close(channel=channel, chat=chat, by=agent)
    with pytest.raises(ValidationError, match="closed"):
        message_send(channel=channel, chat=chat, body="hi", by=agent)


def test_r8_2_conversations_stay_in_their_channel(
    channel: Channel, other_channel: Channel, kim: Customer, outsider: Any
) -> None:
    chat = chat_open(channel=channel, customer=kim)
    for action in (
        lambda: chat_open(channel=other_channel, customer=kim, by=outsider),
        lambda: message_send(channel=other_channel, chat=chat, body="x", by=outsider),
        lambda: call_place(channel=other_channel, customer=kim, by=outsider),
        lambda: call_receive(channel=other_channel, customer=kim),
    ):
        with pytest.raises(ValidationError, match="another channel"):
            action()
    campaign = campaign_create(channel=channel, name="c", body="b", audience={}, by=None)
    with pytest.raises(ValidationError, match="another channel"):
        campaign_send(channel=other_channel, campaign=campaign, by=outsider)


# --- R4.3, one effect at a time --------------------------------------------------------------
def test_r4_3_no_new_chat_with_a_blocked_customer(
    channel: Channel, kim: Customer, owner: Any
) -> None:
    customer_block(channel=channel, customer=kim, by=owner)
    with pytest.raises(ValidationError, match="blocked"):
        chat_open(channel=channel, customer=kim, by=owner)
    with pytest.raises(ValidationError, match="blocked"):
        chat_open(channel=channel, customer=kim)
    assert not Chat.objects.exists()


def test_r4_3_messages_to_an_open_chat_are_not_delivered(
    channel: Channel, kim: Customer, owner: Any, agent: Any
) -> None:
    chat = chat_open(channel=channel, customer=kim)
    customer_block(channel=channel, customer=kim, by=owner)
    message = message_send(channel=channel, chat=chat, body="hello?", by=agent)
    assert message.delivery == Message.Delivery.UNDELIVERED
    with pytest.raises(ValidationError, match="blocked"):
        message_receive(channel=channel, chat=chat, body="let me in")
    customer_unblock(channel=channel, customer=kim, by=owner)
    chat.refresh_from_db()
    again = message_send(channel=channel, chat=chat, body="welcome back", by=agent)
    assert again.delivery == Message.Delivery.DELIVERED


def test_r4_3_outbound_calls_are_refused(channel: Channel, kim: Customer, owner: Any) -> None:
    assert call_place(channel=channel, customer=kim, by=owner).status == Call.Status.CONNECTED
    customer_block(channel=channel, customer=kim, by=owner)
    refused = call_place(channel=channel, customer=kim, by=owner)
    assert (refused.direction, refused.status) == ("outbound", "refused")


def test_r4_3_inbound_calls_are_missed_and_not_connected(
    channel: Channel, kim: Customer, owner: Any, agent: Any
) -> None:
    assert call_receive(channel=channel, customer=kim, by=agent).status == "connected"
    customer_block(channel=channel, customer=kim, by=owner)
    missed = call_receive(channel=channel, customer=kim, by=agent)
    assert (missed.direction, missed.status, missed.manager) == ("inbound", "missed", None)


def test_r4_3_blocked_customers_are_left_out_when_the_target_list_is_built(
    channel: Channel, kim: Customer, lee: Customer, owner: Any
) -> None:
    customer_block(channel=channel, customer=kim, by=owner)
    campaign = campaign_create(channel=channel, name="봄 세일", body="20%", audience={}, by=owner)
    assert campaign_build(channel=channel, campaign=campaign) == 1
    assert list(campaign.targets.values_list("customer_id", flat=True)) == [lee.pk]


def test_r4_3_customers_blocked_after_the_build_get_no_marketing_message(
    channel: Channel, kim: Customer, lee: Customer, owner: Any
) -> None:
    campaign = campaign_create(channel=channel, name="봄 세일", body="20%", audience={}, by=owner)
    assert campaign_build(channel=channel, campaign=campaign) == 2
    # Blocked outside the service (as a concurrent transaction could): the send checks again.
    Customer.objects.filter(pk=lee.pk).update(blocked=True)
    customer_block(channel=channel, customer=kim, by=owner)
    assert campaign_send(channel=channel, campaign=campaign, by=owner) == 0
    assert not CampaignTarget.objects.exists()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.sent_count) == ("sent", 0)


def test_campaign_audience_is_a_contacts_filter_and_bad_ones_are_refused(
    channel: Channel, kim: Customer, lee: Customer, owner: Any
) -> None:
    tag = ImportTag.objects.create(channel=channel, name="봄")
    kim.customer_import_tags.create(channel=channel, import_tag=tag, added_at=kim.created_at)
    campaign = campaign_create(
        channel=channel, name="봄", body="hi", audience={"importTag": "봄", "q": ""}, by=owner
    )
    assert campaign.audience == {"importTag": "봄"}
    assert campaign_build(channel=channel, campaign=campaign) == 1
    assert campaign_send(channel=channel, campaign=campaign, by=owner) == 1
    assert CampaignTarget.objects.get().sent_at is not None
    with pytest.raises(ValidationError, match="already sent"):
        campaign_send(channel=channel, campaign=campaign, by=owner)
    with pytest.raises(ValidationError) as error:
        campaign_create(channel=channel, name="x", body="y", audience={"importTag": "?"}, by=owner)
    assert "importTag" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        campaign_create(channel=channel, name="", body="", audience={}, by=owner)
    assert "name" in error.value.message_dict
    assert Campaign.objects.count() == 1

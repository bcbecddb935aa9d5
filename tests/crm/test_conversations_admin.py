"""The back-office exercises the conversation services: open a chat and answer, call a
customer, create, build and send a campaign; a block's effects show there (R4.3)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from crm.models import Call, Campaign, Channel, Chat, Customer, Message
from crm.services.blocking import customer_block
from crm.services.customers import lead_add


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def kim(channel: Channel) -> Customer:
    return lead_add(channel=channel, email="kim@example.com", name="김민준").customer


def test_open_a_chat_answer_and_see_undelivered_after_a_block(
    channel: Channel, agent: Any, owner: Any
) -> None:
    person = kim(channel)
    client = logged_in(agent)
    opened = client.post(reverse("admin:crm_customer_chat", args=[person.pk]))
    chat = Chat.objects.get()
    assert opened["Location"] == reverse("admin:crm_chat_change", args=[chat.pk])
    send = reverse("admin:crm_chat_send", args=[chat.pk])
    assert send in client.get(opened["Location"]).content.decode()
    client.post(send, {"body": "안녕하세요"})
    customer_block(channel=channel, customer=person, by=owner)
    response = client.post(send, {"body": "are you there?"}, follow=True)
    assert "not delivered" in response.content.decode()
    assert list(Message.objects.values_list("delivery", flat=True)) == [
        "delivered",
        "undelivered",
    ]
    # No new chat with a blocked customer.
    response = client.post(reverse("admin:crm_customer_chat", args=[person.pk]), follow=True)
    assert "no new chat" in response.content.decode() and Chat.objects.count() == 1


def test_calls_from_the_customer_page_are_refused_when_blocked(
    channel: Channel, agent: Any, owner: Any
) -> None:
    person = kim(channel)
    client = logged_in(agent)
    url = reverse("admin:crm_customer_call", args=[person.pk])
    assert "connected" in client.post(url, follow=True).content.decode()
    customer_block(channel=channel, customer=person, by=owner)
    assert "refused" in client.post(url, follow=True).content.decode()
    assert list(Call.objects.order_by("id").values_list("status", flat=True)) == [
        "connected",
        "refused",
    ]
    assert "Refused" in client.get(reverse("admin:crm_call_changelist")).content.decode()


def test_r8_2_outsider_cannot_chat_call_or_read_chats(
    channel: Channel, owner: Any, outsider: Any
) -> None:
    person = kim(channel)
    chat = Chat.objects.create(channel=channel, customer=person)
    client = logged_in(outsider)
    assert client.post(reverse("admin:crm_customer_chat", args=[person.pk])).status_code == 404
    assert client.post(reverse("admin:crm_customer_call", args=[person.pk])).status_code == 404
    assert (
        client.post(reverse("admin:crm_chat_send", args=[chat.pk]), {"body": "x"}).status_code
        == 404
    )
    assert "김민준" not in client.get(reverse("admin:crm_chat_changelist")).content.decode()
    assert not Message.objects.exists() and not Call.objects.exists()


def test_campaign_created_built_and_sent_from_the_back_office(channel: Channel, owner: Any) -> None:
    person = kim(channel)
    other = lead_add(channel=channel, email="lee@example.com").customer
    customer_block(channel=channel, customer=other, by=owner)
    client = logged_in(owner)
    added = client.post(
        reverse("admin:crm_campaign_add"),
        {
            "channel": channel.pk,
            "name": "봄 세일",
            "body": "20% off",
            "audience_query": "type=lead",
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert campaign.audience == {"type": "lead"}
    changelist = reverse("admin:crm_campaign_changelist")
    client.post(
        changelist, {"action": "build_targets", "_selected_action": [campaign.pk], "index": 0}
    )
    assert list(campaign.targets.values_list("customer_id", flat=True)) == [person.pk]
    client.post(changelist, {"action": "send_now", "_selected_action": [campaign.pk], "index": 0})
    campaign.refresh_from_db()
    assert (campaign.status, campaign.sent_count) == ("sent", 1)
    bad = client.post(
        reverse("admin:crm_campaign_add"),
        {"channel": channel.pk, "name": "x", "body": "y", "audience_query": "importTag=nope"},
    )
    assert bad.status_code == 200 and Campaign.objects.count() == 1

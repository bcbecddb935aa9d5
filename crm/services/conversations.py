"""Chats, messages, calls and marketing campaigns: the minimal conversation domain that makes
the effects of a block (R4.3) and of a deletion (R3.2) real and testable.

A blocked customer: no new chat; messages to an open chat are stored but not delivered; outbound
calls are refused; inbound calls are logged as missed, never connected; no marketing message —
left out when a target list is built and again when the campaign is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from crm import display
from crm.models import (
    Call,
    Campaign,
    CampaignTarget,
    Channel,
    Chat,
    Customer,
    Message,
)
from crm.selectors import contacts_matching
from crm.services.collection import follow_up_ask
from crm.types import Actor, manager_or_none

MAX_BODY = 10_000  # characters of a message or a campaign's text
_BATCH = 5000


def _same_channel(channel: Channel, *rows: Customer | Chat | Campaign) -> None:
    for row in rows:
        if row.channel_id != channel.pk:
            raise ValidationError(
                gettext("the %(thing)s belongs to another channel")
                % {"thing": row._meta.verbose_name}
            )


def _body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": gettext("the message is empty")})
    if len(body) > MAX_BODY:
        raise ValidationError(
            {
                "body": gettext("%(length)s characters: a message holds at most %(max)s")
                % {"length": display.count(len(body)), "max": display.count(MAX_BODY)}
            }
        )
    return body


def _fresh(customer: Customer) -> Customer:
    """The customer as stored now, row-locked: a block committed a moment ago counts."""
    return Customer.objects.select_for_update().get(pk=customer.pk)


# --- chats and messages -----------------------------------------------------------------------
@transaction.atomic
def chat_open(*, channel: Channel, customer: Customer, by: Actor = None) -> Chat:
    """A new chat, started by the customer (``by`` None: the widget) or a manager."""
    _same_channel(channel, customer)
    if _fresh(customer).blocked:
        raise ValidationError(gettext("the customer is blocked: no new chat can be started"))
    return Chat.objects.create(channel=channel, customer=customer)


@transaction.atomic
def message_send(*, channel: Channel, chat: Chat, body: str, by: Actor) -> Message:
    """A manager's message in a chat. To a blocked or deleted customer it is kept in the chat
    but not delivered (R4.3, R3.2)."""
    _same_channel(channel, chat)
    body = _body(body)
    if chat.state != Chat.State.OPEN:
        raise ValidationError(gettext("the chat is closed"))
    customer = _fresh(chat.customer) if chat.customer_id and chat.customer else None
    reachable = customer is not None and not customer.blocked
    message = Message.objects.create(
        channel=channel,
        chat=chat,
        sender=Message.Sender.MANAGER,
        manager=manager_or_none(by),
        body=body,
        delivery=Message.Delivery.DELIVERED if reachable else Message.Delivery.UNDELIVERED,
    )
    Chat.objects.filter(pk=chat.pk).update(updated_at=message.created_at)
    if reachable and customer is not None:
        follow_up_ask(channel=channel, chat=chat, customer=customer)  # R1.6
    return message


@transaction.atomic
def message_receive(*, channel: Channel, chat: Chat, body: str) -> Message:
    """The customer's message from the widget (a blocked customer's widget is hidden)."""
    _same_channel(channel, chat)
    body = _body(body)
    if chat.customer is None:
        raise ValidationError(gettext("the chat's customer was deleted"))
    if _fresh(chat.customer).blocked:
        raise ValidationError(gettext("the customer is blocked"))
    message = Message.objects.create(
        channel=channel, chat=chat, sender=Message.Sender.CUSTOMER, body=body
    )
    Chat.objects.filter(pk=chat.pk).update(updated_at=message.created_at, state=Chat.State.OPEN)
    return message


@transaction.atomic
def chat_close(*, channel: Channel, chat: Chat, by: Actor) -> Chat:
    _same_channel(channel, chat)
    Chat.objects.filter(pk=chat.pk).update(state=Chat.State.CLOSED, updated_at=timezone.now())
    chat.refresh_from_db()
    return chat


# --- calls ------------------------------------------------------------------------------------
@transaction.atomic
def call_place(*, channel: Channel, customer: Customer, by: Actor) -> Call:
    """An outbound call by a manager; to a blocked customer it is refused (and logged)."""
    _same_channel(channel, customer)
    blocked = _fresh(customer).blocked
    return Call.objects.create(
        channel=channel,
        customer=customer,
        direction=Call.Direction.OUTBOUND,
        status=Call.Status.REFUSED if blocked else Call.Status.CONNECTED,
        manager=manager_or_none(by),
    )


@transaction.atomic
def call_receive(*, channel: Channel, customer: Customer, by: Actor = None) -> Call:
    """An inbound call; from a blocked customer it is logged as missed and not connected."""
    _same_channel(channel, customer)
    blocked = _fresh(customer).blocked
    return Call.objects.create(
        channel=channel,
        customer=customer,
        direction=Call.Direction.INBOUND,
        status=Call.Status.MISSED if blocked else Call.Status.CONNECTED,
        manager=None if blocked else manager_or_none(by),
    )


# --- campaigns --------------------------------------------------------------------------------
@transaction.atomic
def campaign_create(
    *, channel: Channel, name: str, body: str, audience: Mapping[str, Any], by: Actor
) -> Campaign:
    """A draft campaign to the customers a contacts filter matches (``audience``)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError(
            {"name": gettext("a campaign needs a name of at most 200 characters")}
        )
    audience = {k: v for k, v in audience.items() if v not in (None, "")}
    contacts_matching(channel, audience)  # refuses a filter that is not valid
    return Campaign.objects.create(
        channel=channel,
        name=name,
        body=_body(body),
        audience=audience,
        created_by=manager_or_none(by),
    )


def _draft(channel: Channel, campaign: Campaign) -> Campaign:
    _same_channel(channel, campaign)
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status != Campaign.Status.DRAFT:
        raise ValidationError(gettext("the campaign was already sent"))
    return locked


@transaction.atomic
def campaign_build(*, channel: Channel, campaign: Campaign, by: Actor = None) -> int:
    """(Re)build the target list from the audience filter: contacts only, so never a blocked
    customer (R4.3). Returns the number of targets."""
    campaign = _draft(channel, campaign)
    CampaignTarget.objects.filter(campaign=campaign).delete()
    ids = contacts_matching(channel, campaign.audience).order_by("pk").values_list("pk", flat=True)
    count = 0
    batch: list[CampaignTarget] = []
    for customer_id in ids.iterator(chunk_size=_BATCH):
        batch.append(CampaignTarget(channel=channel, campaign=campaign, customer_id=customer_id))
        if len(batch) == _BATCH:
            count += len(CampaignTarget.objects.bulk_create(batch))
            batch = []
    count += len(CampaignTarget.objects.bulk_create(batch))
    Campaign.objects.filter(pk=campaign.pk).update(built_at=timezone.now())
    return count


@transaction.atomic
def campaign_send(*, channel: Channel, campaign: Campaign, by: Actor = None) -> int:
    """Send the campaign to its target list. Customers blocked since the list was built are
    taken off it first (R4.3). Returns how many customers got the message."""
    campaign = _draft(channel, campaign)
    targets = CampaignTarget.objects.filter(campaign=campaign)
    targets.filter(customer__blocked=True).delete()
    now = timezone.now()
    sent = targets.filter(sent_at__isnull=True).update(sent_at=now)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SENT, sent_at=now, sent_count=sent
    )
    return sent

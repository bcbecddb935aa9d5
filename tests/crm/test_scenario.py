"""One person through every path of issue 5, checking MU and every effect at each step:
anonymous boot → lead → import as member → deferred unification → login boot → block →
unblock → delete → return as new. Runs on SQLite and on PostgreSQL (MU kept by triggers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from crm.filters import search_contacts
from crm.models import (
    ActivityLog,
    Call,
    CampaignTarget,
    Channel,
    Chat,
    Customer,
    Message,
    PendingUnification,
)
from crm.selectors import channel_mu, channel_mu_counted, contacts
from crm.services.blocking import customer_block, customer_unblock
from crm.services.boot import customer_boot, member_hash
from crm.services.conversations import (
    call_place,
    call_receive,
    campaign_build,
    campaign_create,
    campaign_send,
    chat_open,
    message_receive,
    message_send,
)
from crm.services.customers import customer_update
from crm.services.deletion import customer_delete
from tests.importer.conftest import media_root, run_import, write_csv  # noqa: F401

VEIL = "veil-scenario-01"
EMAIL = "jiwoo@example.com"
MEMBER_HEAD = ["memberId", "name", "email", "unsubscribeEmail", "unsubscribeTexting"]


def assert_mu(channel: Channel, expected: int) -> None:
    assert channel_mu(channel) == channel_mu_counted(channel) == expected


def test_scenario_one_person_through_every_path(
    channel: Channel, owner: Any, agent: Any, tmp_path: Path
) -> None:
    channel.member_hash_required = True
    channel.save()

    # 1. Anonymous boot: an unverified lead with a veilId (R7.1).
    visitor = customer_boot(channel=channel, veil_id=VEIL).customer
    assert (visitor.type, visitor.verified, visitor.veil_id) == ("lead", False, VEIL)
    assert_mu(channel, 1)
    chat = chat_open(channel=channel, customer=visitor)
    message_receive(channel=channel, chat=chat, body="문의드려요")
    assert message_send(channel=channel, chat=chat, body="네!", by=agent).delivery == "delivered"

    # 2. Lead: a manager vouches for the contact the visitor gave: a verified, booted lead.
    customer_update(channel=channel, customer=visitor, values={"email": EMAIL}, by=agent)
    visitor.refresh_from_db()
    assert visitor.verified and visitor.booted and visitor.member_id is None
    assert_mu(channel, 1)

    # 3. Import as member: the lead has booted, so unification waits (R2.7); both count in MU.
    members = write_csv(
        tmp_path / "m.csv", [MEMBER_HEAD, ["m1", "김지우", EMAIL, "false", "false"]]
    )
    assert run_import(channel, members, "--kind", "member")["created"] == 1
    member = Customer.objects.get(member_id="m1")
    pending = PendingUnification.objects.get()
    assert (pending.lead_id, pending.member_id) == (visitor.pk, member.pk)
    assert Customer.objects.filter(pk=visitor.pk).exists()
    assert_mu(channel, 2)

    # 4. Login boot: the member's boot completes the unification (R7.3, R2.7a).
    with pytest.raises(Exception, match="memberHash"):
        customer_boot(channel=channel, member_id="m1", veil_id=VEIL)
    booted = customer_boot(
        channel=channel, member_id="m1", member_hash=member_hash(channel, "m1"), veil_id=VEIL
    )
    assert booted.customer.pk == member.pk and not booted.hidden and booted.unified == 1
    assert not Customer.objects.filter(pk=visitor.pk).exists()
    assert not PendingUnification.objects.exists()
    member.refresh_from_db()
    assert (member.name, member.email, member.veil_id) == ("김지우", EMAIL, VEIL)
    chat.refresh_from_db()
    # Three: the visitor had no contact, so the reply asked for one (R1.6).
    assert chat.customer_id == member.pk and chat.messages.count() == 3
    assert ActivityLog.objects.filter(action="customer.unify", customer_id=member.pk).exists()
    assert_mu(channel, 1)
    early = campaign_create(channel=channel, name="early", body="hi", audience={}, by=owner)
    assert campaign_build(channel=channel, campaign=early) == 1

    # 5. Block: every effect of R4.3.
    customer_block(channel=channel, customer=member, by=owner, reason="욕설")
    assert_mu(channel, 0)
    assert not contacts(channel).exists()
    assert not search_contacts(contacts(channel), EMAIL).exists()
    hidden = customer_boot(
        channel=channel, member_id="m1", member_hash=member_hash(channel, "m1"), veil_id=VEIL
    )
    assert hidden.hidden and hidden.customer.pk == member.pk
    with pytest.raises(ValidationError, match="blocked"):
        chat_open(channel=channel, customer=member)
    assert message_send(channel=channel, chat=chat, body="?", by=agent).delivery == "undelivered"
    assert call_place(channel=channel, customer=member, by=agent).status == "refused"
    assert call_receive(channel=channel, customer=member, by=agent).status == "missed"
    assert not CampaignTarget.objects.filter(campaign=early).exists()  # taken off the list
    late = campaign_create(channel=channel, name="late", body="hi", audience={}, by=owner)
    assert campaign_build(channel=channel, campaign=late) == 0
    assert campaign_send(channel=channel, campaign=early) == 0
    again = write_csv(tmp_path / "m2.csv", [MEMBER_HEAD, ["m1", "김지우2", EMAIL, "", ""]])
    assert run_import(channel, again, "--kind", "member")["updated"] == 1
    member.refresh_from_db()
    assert member.blocked and member.name == "김지우2"  # an import never unblocks
    assert_mu(channel, 0)
    assert ActivityLog.objects.get(action="customer.block").detail == {"reason": "욕설"}

    # 6. Unblock: back in contacts and MU; the effects are lifted.
    customer_unblock(channel=channel, customer=member, by=owner)
    assert_mu(channel, 1)
    assert list(contacts(channel)) == [member]
    assert not customer_boot(
        channel=channel, member_id="m1", member_hash=member_hash(channel, "m1"), veil_id=VEIL
    ).hidden
    assert message_send(channel=channel, chat=chat, body="hi", by=agent).delivery == "delivered"
    assert call_place(channel=channel, customer=member, by=agent).status == "connected"
    assert ActivityLog.objects.filter(action="customer.unblock").count() == 1

    # 7. Delete: everything goes but the conversation history (R3.2).
    messages_before = Message.objects.count()
    customer_delete(channel=channel, customer=member, by=owner)
    assert_mu(channel, 0)
    chat.refresh_from_db()
    assert chat.customer_id is None and Message.objects.count() == messages_before
    assert not Call.objects.filter(customer__isnull=False).exists()
    assert ActivityLog.objects.get(action="customer.delete").customer_id == member.pk

    # 8. Return: the same person boots again and is a new customer (R3.3).
    back = customer_boot(
        channel=channel, member_id="m1", member_hash=member_hash(channel, "m1"), veil_id=VEIL
    )
    assert back.created and back.customer.pk != member.pk and not back.hidden
    assert back.customer.name == "" and back.customer.email is None
    assert not Chat.objects.filter(customer=back.customer).exists()
    assert_mu(channel, 1)

"""The chat widget's boot, ``POST /front/boot`` (R7.1 to R7.3), as a widget sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crm.models import ActivityLog, Channel, Chat, Customer, PendingUnification
from crm.selectors import channel_mu, channel_mu_counted
from crm.services.blocking import customer_block
from crm.services.boot import customer_boot, member_hash
from crm.services.profile_keys import profile_key_create

BOOT = "/front/boot"


def post(body: Any, *, raw: bool = False) -> tuple[int, dict[str, Any]]:
    client = Client()
    data = body if raw else json.dumps(body)
    response = client.post(BOOT, data=data, content_type="application/json")
    return response.status_code, response.json()


def boot(channel: Channel, **fields: Any) -> dict[str, Any]:
    status, answer = post({"pluginKey": channel.plugin_key, **fields})
    assert status == 200, answer
    return answer


def mu_exact(channel: Channel) -> int:
    mu = channel_mu(channel)
    assert mu == channel_mu_counted(channel)
    return mu


# --- anonymous boots (R7.1) -------------------------------------------------------------------
def test_r7_1_anonymous_boot_creates_an_unverified_lead_with_a_veil_id(channel: Channel) -> None:
    answer = boot(channel)
    customer = Customer.objects.get(pk=answer["id"])
    assert answer == {
        "id": customer.pk,
        "type": "lead",
        "veilId": customer.veil_id,
        "hidden": False,
    }
    assert customer.veil_id and not customer.verified and customer.first_boot_at
    assert mu_exact(channel) == 1


def test_r7_1_anonymous_boot_with_a_veil_id_refreshes_the_same_customer(channel: Channel) -> None:
    first = boot(channel, veilId="veil-abcdefgh")
    Customer.objects.filter(pk=first["id"]).update(last_seen_at=None)
    second = boot(channel, veilId="veil-abcdefgh")
    assert second["id"] == first["id"] and second["veilId"] == "veil-abcdefgh"
    assert Customer.objects.get(pk=first["id"]).last_seen_at is not None
    assert mu_exact(channel) == 1


def test_r7_1_anonymous_boot_of_a_members_browser_is_a_new_visitor(channel: Channel) -> None:
    member = boot(channel, memberId="m1")
    visitor = boot(channel, veilId=member["veilId"])  # logged out: no memberId
    assert visitor["id"] != member["id"] and visitor["type"] == "lead"
    assert visitor["veilId"] != member["veilId"]


def test_r7_1_boot_saves_builder_profile_data_through_the_parsers(channel: Channel) -> None:
    profile_key_create(channel=channel, key="grade", type="string")
    profile_key_create(channel=channel, key="points", type="number")
    answer = boot(
        channel,
        memberId="m1",
        profile={
            "name": "김철수",
            "mobileNumber": "+82 010-2020-3030",
            "grade": "VIP",
            "points": "12",
        },
    )
    member = Customer.objects.get(pk=answer["id"])
    assert member.name == "김철수" and member.mobile_number == "+821020203030"
    assert member.profile == {"grade": "VIP", "points": 12}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"profile": {"mobileNumber": "010-2020-3030"}}, "profile.mobileNumber"),
        ({"profile": {"nope": "x"}}, "profile.nope"),
        ({"profile": {"name": "x" * 513}}, "profile.name"),
        ({"profile": {"memberId": "m9"}}, "profile.memberId"),
        ({"profile": ["a"]}, "profile"),
        ({"veilId": "short"}, "veilId"),
        ({"veilId": 12345678}, "veilId"),
        ({"memberId": ""}, "memberId"),
        ({"memberId": {"a": 1}}, "memberId"),
        ({"memberId": "m" * 513}, "memberId"),
        ({"pluginKey": ""}, "pluginKey"),
        ({"pluginKey": 5}, "pluginKey"),
    ],
)
def test_r7_1_bad_input_is_refused_with_the_key_and_nothing_is_written(
    channel: Channel, body: dict[str, Any], key: str
) -> None:
    status, answer = post({"pluginKey": channel.plugin_key, **body})
    assert status == 400
    assert key in answer["errors"], answer
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", ""])
def test_r7_1_a_body_that_is_not_a_json_object_is_refused(channel: Channel, raw: str) -> None:
    status, answer = post(raw, raw=True)
    assert status == 400 and "body" in answer["errors"]


def test_r7_1_unknown_plugin_key_is_404(channel: Channel) -> None:
    status, answer = post({"pluginKey": "nope"})
    assert status == 404 and "pluginKey" in answer["errors"]


def test_r7_1_boot_answers_cors_for_the_widget(channel: Channel) -> None:
    client = Client()
    assert client.options(BOOT)["Access-Control-Allow-Origin"] == "*"
    response = client.post(
        BOOT, data=json.dumps({"pluginKey": channel.plugin_key}), content_type="application/json"
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    assert client.get(BOOT).status_code == 405


# --- member boots and the memberHash (R7.1) ---------------------------------------------------
def test_r7_1_member_boot_finds_or_creates_the_member(channel: Channel) -> None:
    first = boot(channel, memberId="m1")
    assert first["type"] == "member"
    again = boot(channel, memberId="m1")
    assert again["id"] == first["id"] and again["veilId"] == first["veilId"]
    assert Customer.objects.get(pk=first["id"]).verified
    assert mu_exact(channel) == 1


def test_r7_1_member_hash_is_checked_when_given_and_required_when_the_channel_says(
    channel: Channel,
) -> None:
    good = member_hash(channel, "m1")
    assert boot(channel, memberId="m1", memberHash=good)["type"] == "member"
    status, answer = post({"pluginKey": channel.plugin_key, "memberId": "m1", "memberHash": "00"})
    assert status == 401 and "memberHash" in answer["errors"]
    channel.member_hash_required = True
    channel.save()
    status, answer = post({"pluginKey": channel.plugin_key, "memberId": "m2"})
    assert status == 401 and "requires" in answer["errors"]["memberHash"]
    assert not Customer.objects.filter(member_id="m2").exists()
    assert boot(channel, memberId="m2", memberHash=member_hash(channel, "m2").upper())
    # Another channel's secret makes another hash.
    assert good == member_hash(channel, "m1") and len(good) == 64


def test_r8_2_member_hash_of_another_channel_is_refused(
    channel: Channel, other_channel: Channel
) -> None:
    channel.member_hash_required = True
    channel.save()
    status, _ = post(
        {
            "pluginKey": channel.plugin_key,
            "memberId": "m1",
            "memberHash": member_hash(other_channel, "m1"),
        }
    )
    assert status == 401


def test_r8_2_boot_never_reaches_another_channels_customer(
    channel: Channel, other_channel: Channel
) -> None:
    theirs = boot(other_channel, memberId="m1", veilId="veil-shared-1")
    mine = boot(channel, memberId="m1", veilId="veil-shared-1")
    assert mine["id"] != theirs["id"]
    assert Customer.objects.get(pk=theirs["id"]).channel == other_channel
    anon = boot(channel, veilId=theirs["veilId"])
    assert anon["id"] not in (theirs["id"],)
    assert Customer.objects.filter(channel=other_channel).count() == 1


def test_r7_1_anonymous_visitor_who_logs_in_becomes_the_new_member(channel: Channel) -> None:
    visitor = boot(channel, veilId="veil-visitor-1")
    chat = Chat.objects.create(channel=channel, customer_id=visitor["id"])
    member = boot(channel, veilId="veil-visitor-1", memberId="m1")
    assert member["id"] == visitor["id"] and member["type"] == "member"
    assert member["veilId"] == "veil-visitor-1"
    chat.refresh_from_db()
    assert chat.customer_id == member["id"]
    assert mu_exact(channel) == 1


def test_r2_7a_anonymous_visitor_logging_in_as_an_existing_member_is_unified(
    channel: Channel,
) -> None:
    existing = boot(channel, memberId="m1", profile={"name": "Member"})
    visitor = boot(channel, veilId="veil-visitor-2", profile={"email": "v@example.com"})
    chat = Chat.objects.create(channel=channel, customer_id=visitor["id"])
    assert mu_exact(channel) == 2
    answer = boot(channel, veilId="veil-visitor-2", memberId="m1")
    assert answer["id"] == existing["id"]
    assert not Customer.objects.filter(pk=visitor["id"]).exists()
    member = Customer.objects.get(pk=existing["id"])
    assert (member.name, member.email) == ("Member", "v@example.com")
    chat.refresh_from_db()
    assert chat.customer_id == member.pk
    assert mu_exact(channel) == 1
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CUSTOMER_UNIFY)
    assert (entry.via, entry.detail["lead"]) == ("boot", visitor["id"])


def test_r2_7a_member_never_unifies_with_member_at_boot(channel: Channel) -> None:
    one = boot(channel, memberId="m1")
    two = boot(channel, veilId=one["veilId"], memberId="m2")
    assert two["id"] != one["id"] and two["veilId"] != one["veilId"]
    assert mu_exact(channel) == 2


# --- R7.3: a member's boot completes pending unifications -------------------------------------
def test_r7_3_member_boot_completes_pending_unifications(channel: Channel) -> None:
    member = Customer.objects.create(
        channel=channel, member_id="m1", verified=True, email="a@example.com"
    )
    lead = Customer.objects.create(
        channel=channel,
        verified=True,
        email="a@example.com",
        name="Lead name",
        first_boot_at=timezone.now(),
        veil_id="veil-lead-0001",
    )
    PendingUnification.objects.create(channel=channel, lead=lead, member=member)
    Chat.objects.create(channel=channel, customer=lead)
    assert mu_exact(channel) == 2
    answer = boot(channel, memberId="m1")
    assert answer["id"] == member.pk
    assert not Customer.objects.filter(pk=lead.pk).exists()
    assert not PendingUnification.objects.exists()
    member.refresh_from_db()
    assert member.name == "Lead name" and member.veil_id == "veil-lead-0001"
    assert Chat.objects.get().customer_id == member.pk
    assert mu_exact(channel) == 1


def test_r7_3_member_boot_unifies_booted_verified_leads_sharing_its_contact(
    channel: Channel,
) -> None:
    lead = Customer.objects.create(
        channel=channel, verified=True, mobile_number="+821020203030", first_boot_at=timezone.now()
    )
    unverified = Customer.objects.create(
        channel=channel, verified=False, mobile_number="+821020203030", first_boot_at=timezone.now()
    )
    answer = boot(channel, memberId="m1", profile={"mobileNumber": "+821020203030"})
    assert not Customer.objects.filter(pk=lead.pk).exists()
    assert Customer.objects.filter(pk=unverified.pk).exists()  # unverified: only by its own boot
    assert answer["type"] == "member"
    assert mu_exact(channel) == 2


# --- R7.2 / R4.3: blocked customers are hidden and nothing changes ------------------------------
def test_r7_2_blocked_member_boot_is_hidden_and_changes_nothing(
    channel: Channel, owner: Any
) -> None:
    first = boot(channel, memberId="m1", profile={"name": "Before"})
    member = Customer.objects.get(pk=first["id"])
    customer_block(channel=channel, customer=member, by=owner)
    before = Customer.objects.get(pk=member.pk)
    answer = boot(channel, memberId="m1", profile={"name": "After"})
    assert answer["hidden"] is True and answer["id"] == member.pk
    after = Customer.objects.get(pk=member.pk)
    assert (after.name, after.last_seen_at, after.updated_at) == (
        "Before",
        before.last_seen_at,
        before.updated_at,
    )
    assert mu_exact(channel) == 0


def test_r7_2_blocked_anonymous_boot_is_hidden(channel: Channel, owner: Any) -> None:
    first = boot(channel, veilId="veil-blocked-1")
    customer_block(channel=channel, customer=Customer.objects.get(pk=first["id"]), by=owner)
    answer = boot(channel, veilId="veil-blocked-1")
    assert answer["hidden"] is True and answer["id"] == first["id"]
    assert Customer.objects.count() == 1


def test_r4_5_blocked_visitor_logging_in_is_not_unified_and_hides_the_member(
    channel: Channel, owner: Any
) -> None:
    member = boot(channel, memberId="m1")
    visitor = boot(channel, veilId="veil-blocked-2")
    customer_block(channel=channel, customer=Customer.objects.get(pk=visitor["id"]), by=owner)
    answer = boot(channel, veilId="veil-blocked-2", memberId="m1")
    assert answer["id"] == member["id"] and answer["hidden"] is True
    assert Customer.objects.get(pk=visitor["id"]).blocked  # not unified away
    assert Customer.objects.get(pk=member["id"]).blocked


def test_r4_5_blocked_visitor_logging_in_as_a_new_member_hides_it_too(
    channel: Channel, owner: Any
) -> None:
    """Issue 14's attack: the blocked lead's veilId with a new memberId answered
    {"type": "member", "hidden": false}."""
    visitor = boot(channel, veilId="veil-blocked-3")
    customer_block(channel=channel, customer=Customer.objects.get(pk=visitor["id"]), by=owner)
    answer = boot(channel, veilId="veil-blocked-3", memberId="m7")
    assert answer["type"] == "member" and answer["id"] != visitor["id"]
    assert answer["veilId"] != "veil-blocked-3" and answer["hidden"] is True
    assert Customer.objects.get(pk=visitor["id"]).blocked
    assert mu_exact(channel) == 0


def test_r7_1_a_member_without_a_veil_takes_the_boots_free_veil_id(channel: Channel) -> None:
    member = Customer.objects.create(channel=channel, member_id="m1", verified=True)
    assert boot(channel, memberId="m1", veilId="veil-fresh-01")["veilId"] == "veil-fresh-01"
    member.refresh_from_db()
    assert member.veil_id == "veil-fresh-01"


def test_r7_1_service_refuses_bad_hash_before_writing(channel: Channel) -> None:
    from crm.services.boot import MemberHashRefused

    with pytest.raises(MemberHashRefused):
        customer_boot(channel=channel, member_id="m1", member_hash="bad")
    assert not Customer.objects.exists()

"""The unification engine (R2.7, R2.7a): which customers unify, what wins, what moves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from crm.models import (
    ActivityLog,
    Call,
    Campaign,
    CampaignTarget,
    Channel,
    Chat,
    Customer,
    CustomerImportTag,
    CustomerTag,
    ImportTag,
    Message,
    PendingUnification,
    Tag,
)
from crm.selectors import channel_mu, channel_mu_counted
from crm.services.profile_keys import profile_key_create
from crm.services.unification import (
    merged_values,
    unify_lead_into_member,
    unify_member_with_leads,
    unify_pending,
)

T0 = timezone.now()


def mu(channel: Channel) -> int:
    value = channel_mu(channel)
    assert value == channel_mu_counted(channel)
    return value


def member(channel: Channel, member_id: str = "m1", **fields: Any) -> Customer:
    return Customer.objects.create(channel=channel, member_id=member_id, verified=True, **fields)


def lead(channel: Channel, *, verified: bool = True, **fields: Any) -> Customer:
    return Customer.objects.create(channel=channel, verified=verified, **fields)


# --- what wins (R2.7a), as a pure rule ---------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "a_rank", "b", "b_rank", "expected"),
    [
        # a filled value beats an empty one, whoever holds it
        ({"name": ""}, (True, True, T0), {"name": "Lead"}, (True, False, T0), {"name": "Lead"}),
        ({"x": None}, (True, True, T0), {"x": []}, (True, False, T0), {}),
        # verified beats unverified
        ({"name": "U"}, (False, False, T0), {"name": "V"}, (True, False, T0), {"name": "V"}),
        # member beats lead
        ({"name": "M"}, (True, True, T0), {"name": "L"}, (True, False, T0), {"name": "M"}),
        # verified comes before member
        ({"name": "M"}, (False, True, T0), {"name": "V"}, (True, False, T0), {"name": "V"}),
        # between equals, the newer data wins
        (
            {"name": "old"},
            (True, False, T0),
            {"name": "new"},
            (True, False, T0 + timedelta(seconds=1)),
            {"name": "new"},
        ),
        # false is a value (unsubscribe flags), not an empty one
        (
            {"unsubscribeEmail": False},
            (True, True, T0),
            {"unsubscribeEmail": True},
            (True, False, T0),
            {"unsubscribeEmail": False},
        ),
    ],
)
def test_r2_7a_what_wins(
    a: dict[str, Any], a_rank: Any, b: dict[str, Any], b_rank: Any, expected: dict[str, Any]
) -> None:
    assert merged_values(a, a_rank, b, b_rank) == expected
    assert merged_values(b, b_rank, a, a_rank) == expected  # the order of the call is not a rule


# --- which customers unify --------------------------------------------------------------------
def test_r2_7a_member_never_unifies_with_member_nor_lead_with_lead(channel: Channel) -> None:
    one, two = member(channel, "m1"), member(channel, "m2")
    a, b = lead(channel, email="a@example.com"), lead(channel, email="b@example.com")
    for x, y in [(one, two), (a, b)]:
        with pytest.raises(ValueError, match="never unify"):
            unify_lead_into_member(channel=channel, lead=x, member=y, via="hand")
    assert Customer.objects.count() == 4


def test_r2_7a_blocked_customers_are_never_unified(channel: Channel) -> None:
    m = member(channel, email="a@example.com")
    blocked = lead(channel, email="a@example.com", blocked=True)
    with pytest.raises(ValueError, match="blocked"):
        unify_lead_into_member(channel=channel, lead=blocked, member=m, via="hand")
    assert unify_member_with_leads(channel=channel, members=[m], via="import") == (0, 0)
    m2 = member(channel, "m2", mobile_number="+821011112222", blocked=True)
    fresh = lead(channel, mobile_number="+821011112222")
    assert unify_member_with_leads(channel=channel, members=[m2], via="import") == (0, 0)
    assert Customer.objects.filter(pk=fresh.pk).exists()


def test_r2_7_only_verified_leads_unify_by_contact(channel: Channel) -> None:
    m = member(channel, email="a@example.com")
    unverified = lead(channel, verified=False, email="a@example.com")
    assert unify_member_with_leads(channel=channel, members=[m], via="import") == (0, 0)
    assert Customer.objects.filter(pk=unverified.pk).exists()


def test_r2_7_never_booted_lead_now_booted_lead_deferred(channel: Channel) -> None:
    m = member(channel, email="a@example.com", mobile_number="+821011112222")
    fresh = lead(channel, email="a@example.com")
    booted = lead(channel, mobile_number="+821011112222", first_boot_at=T0)
    assert mu(channel) == 3
    assert unify_member_with_leads(channel=channel, members=[m], via="import") == (1, 1)
    assert not Customer.objects.filter(pk=fresh.pk).exists()
    pending = PendingUnification.objects.get()
    assert (pending.lead_id, pending.member_id) == (booted.pk, m.pk)
    assert mu(channel) == 2  # both count until the member boots (R2.7)
    # Meeting the pair again does not add a second pending row.
    assert unify_member_with_leads(channel=channel, members=[m], via="import") == (0, 0)
    assert unify_pending(channel=channel, member=m, via="boot") == 1
    assert mu(channel) == 1 and not PendingUnification.objects.exists()


def test_r8_2_another_channels_lead_is_never_unified(
    channel: Channel, other_channel: Channel
) -> None:
    m = member(channel, email="a@example.com")
    theirs = lead(other_channel, email="a@example.com")
    assert unify_member_with_leads(channel=channel, members=[m], via="import") == (0, 0)
    with pytest.raises(ValueError, match="channel"):
        unify_lead_into_member(channel=channel, lead=theirs, member=m, via="hand")
    assert Customer.objects.filter(pk=theirs.pk).exists()


def test_r2_7_pending_pair_that_may_no_longer_unify_is_dropped_blocked_one_waits(
    channel: Channel,
) -> None:
    m = member(channel, email="a@example.com")
    became_member = lead(channel, email="a@example.com", first_boot_at=T0)
    blocked = lead(channel, email="a@example.com", first_boot_at=T0)
    unify_member_with_leads(channel=channel, members=[m], via="import")
    assert PendingUnification.objects.count() == 2
    Customer.objects.filter(pk=became_member.pk).update(member_id="m9")
    Customer.objects.filter(pk=blocked.pk).update(blocked=True)
    assert unify_pending(channel=channel, member=m, via="boot") == 0
    assert list(PendingUnification.objects.values_list("lead_id", flat=True)) == [blocked.pk]


# --- what moves (R2.7a) -----------------------------------------------------------------------
def test_r2_7a_chats_messages_calls_tags_and_campaigns_move_to_the_member(
    channel: Channel,
) -> None:
    m = member(channel, email="a@example.com", name="Member")
    lf = lead(
        channel,
        email="a@example.com",
        name="Lead",
        landline_number="+8225556666",
        veil_id="veil-lead-777",
        first_boot_at=T0 - timedelta(days=3),
        last_seen_at=T0,
    )
    chat = Chat.objects.create(channel=channel, customer=lf)
    Message.objects.create(channel=channel, chat=chat, sender="customer", body="hi")
    call = Call.objects.create(
        channel=channel, customer=lf, direction="inbound", status="connected"
    )
    both = Campaign.objects.create(channel=channel, name="both", body="x")
    only_lead = Campaign.objects.create(channel=channel, name="lead", body="x")
    CampaignTarget.objects.create(channel=channel, campaign=both, customer=m)
    CampaignTarget.objects.create(channel=channel, campaign=both, customer=lf)
    CampaignTarget.objects.create(channel=channel, campaign=only_lead, customer=lf)
    vip, new = (
        Tag.objects.create(channel=channel, name="vip"),
        Tag.objects.create(channel=channel, name="new"),
    )
    CustomerTag.objects.create(channel=channel, customer=m, tag=vip)
    CustomerTag.objects.create(channel=channel, customer=lf, tag=vip)
    CustomerTag.objects.create(channel=channel, customer=lf, tag=new)
    unify_lead_into_member(channel=channel, lead=lf, member=m, via="import")
    m.refresh_from_db()
    assert (m.name, m.landline_number, m.veil_id) == ("Member", "+8225556666", "veil-lead-777")
    assert (m.first_boot_at, m.last_seen_at) == (lf.first_boot_at, T0)
    assert Chat.objects.get().customer_id == m.pk and Message.objects.count() == 1
    call.refresh_from_db()
    assert call.customer_id == m.pk
    assert sorted(CampaignTarget.objects.values_list("campaign__name", "customer_id")) == [
        ("both", m.pk),
        ("lead", m.pk),
    ]
    assert sorted(CustomerTag.objects.values_list("tag__name", flat=True)) == ["new", "vip"]
    assert set(CustomerTag.objects.values_list("customer_id", flat=True)) == {m.pk}
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CUSTOMER_UNIFY)
    assert (entry.customer_id, entry.detail["lead"], entry.via) == (m.pk, lf.pk, "import")
    assert "landlineNumber" in entry.detail["taken"]


def test_r2_12_import_tags_move_within_the_newest_30(channel: Channel) -> None:
    m = member(channel, email="a@example.com")
    lf = lead(channel, email="a@example.com")
    tags = [ImportTag.objects.create(channel=channel, name=f"t{i}") for i in range(40)]
    for i in range(0, 20):  # the member: t0..t19, older
        CustomerImportTag.objects.create(
            channel=channel, customer=m, import_tag=tags[i], added_at=T0 + timedelta(minutes=i)
        )
    for i in range(15, 35):  # the lead: t15..t34; t15..t19 are newer on the lead
        CustomerImportTag.objects.create(
            channel=channel, customer=lf, import_tag=tags[i], added_at=T0 + timedelta(hours=i)
        )
    unify_lead_into_member(channel=channel, lead=lf, member=m, via="import")
    kept = list(
        CustomerImportTag.objects.filter(customer=m)
        .order_by("added_at")
        .values_list("import_tag__name", flat=True)
    )
    assert len(kept) == CustomerImportTag.MAX_PER_CUSTOMER
    assert kept == [f"t{i}" for i in range(5, 15)] + [f"t{i}" for i in range(15, 35)]
    assert not CustomerImportTag.objects.filter(customer_id=lf.pk).exists()


def test_r1_3_a_merged_profile_over_the_limits_keeps_the_members_own_keys(
    channel: Channel,
) -> None:
    for i in range(2):
        profile_key_create(channel=channel, key=f"memo{i}", type="string")
    big = "가" * 500
    m = member(channel, email="a@example.com", profile={f"m{i}": big for i in range(9)})
    lf = lead(channel, email="a@example.com", name="Lead", profile={"memo0": big, "memo1": big})
    unify_lead_into_member(channel=channel, lead=lf, member=m, via="import")
    m.refresh_from_db()
    assert m.name == "Lead"  # built-in values it lacked still come
    assert set(m.profile) == {f"m{i}" for i in range(9)}  # lead's extra keys would not fit


def test_r2_7_mu_is_exact_through_every_unification_path(channel: Channel) -> None:
    for i in range(5):
        lead(channel, email=f"x{i}@example.com", first_boot_at=T0 if i % 2 else None)
    members = [member(channel, f"m{i}", email=f"x{i}@example.com") for i in range(5)]
    assert mu(channel) == 10
    assert unify_member_with_leads(channel=channel, members=members, via="import") == (3, 2)
    assert mu(channel) == 7
    for m in members:
        unify_pending(channel=channel, member=m, via="boot")
    assert mu(channel) == 5


def test_r2_7a_the_import_journal_of_the_lead_follows_it(channel: Channel) -> None:
    from importer.models import ImportJob, ImportJournal

    m = member(channel, email="a@example.com")
    lf = lead(channel, email="a@example.com")
    one = ImportJob.objects.create(channel=channel, kind="lead", filename="a.csv")
    two = ImportJob.objects.create(channel=channel, kind="member", filename="b.csv")
    ImportJournal.objects.create(channel=channel, job=one, customer_id=lf.pk, created=True)
    ImportJournal.objects.create(channel=channel, job=two, customer_id=lf.pk, created=False)
    ImportJournal.objects.create(channel=channel, job=two, customer_id=m.pk, created=True)
    unify_lead_into_member(channel=channel, lead=lf, member=m, via="import")
    assert sorted(ImportJournal.objects.values_list("job__filename", "customer_id")) == [
        ("a.csv", m.pk),
        ("b.csv", m.pk),
    ]

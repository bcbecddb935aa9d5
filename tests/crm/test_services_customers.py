"""Adding leads by hand and editing profiles (R1.1, R1.2, R1.3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import ActivityLog, Channel, Customer, ProfileKey
from crm.services.customers import customer_update, lead_add
from crm.services.profile_keys import profile_key_create


def test_r1_1_lead_by_email_alone_is_a_verified_lead(channel: Channel, owner: Any) -> None:
    added = lead_add(channel=channel, email="  Kim@Example.COM ", by=owner)
    assert added.created
    customer = Customer.objects.get()
    assert customer.email == "kim@example.com"
    assert customer.verified and customer.type == "lead"
    assert ActivityLog.objects.filter(action="customer.create", customer_id=customer.pk).exists()


def test_r1_1_lead_by_mobile_alone_is_normalised(channel: Channel) -> None:
    added = lead_add(channel=channel, mobile_number="+82 010-2020-3030")
    assert added.customer.mobile_number == "+821020203030"


def test_r1_1_lead_needs_email_or_mobile(channel: Channel) -> None:
    with pytest.raises(ValidationError, match="email or a mobile"):
        lead_add(channel=channel, name="홍길동")
    assert not Customer.objects.exists()


def test_r1_1_bad_contact_is_refused_with_the_key_named(channel: Channel) -> None:
    with pytest.raises(ValidationError) as exc:
        lead_add(channel=channel, mobile_number="010-2020")
    assert "mobileNumber" in exc.value.message_dict
    assert not Customer.objects.exists()


def test_r1_1_existing_contact_adds_nothing_and_leads_to_it(channel: Channel) -> None:
    first = lead_add(channel=channel, email="a@example.com").customer
    again = lead_add(channel=channel, email="A@example.com", mobile_number="+821011112222")
    assert not again.created
    assert again.customer.pk == first.pk
    assert Customer.objects.count() == 1


def test_r1_1_existing_match_prefers_most_recently_seen(channel: Channel) -> None:
    now = timezone.now()
    old = Customer.objects.create(
        channel=channel, email="a@example.com", last_seen_at=now - timedelta(days=9)
    )
    recent = Customer.objects.create(
        channel=channel, mobile_number="+821011112222", last_seen_at=now
    )
    found = lead_add(channel=channel, email="a@example.com", mobile_number="+821011112222")
    assert found.customer.pk == recent.pk != old.pk


def test_r1_1_same_contact_in_another_channel_is_not_a_duplicate(
    channel: Channel, other_channel: Channel
) -> None:
    lead_add(channel=other_channel, email="a@example.com")
    assert lead_add(channel=channel, email="a@example.com").created


def test_r1_2_custom_key_values_are_typed(channel: Channel) -> None:
    profile_key_create(channel=channel, key="points", type="number")
    profile_key_create(channel=channel, key="birthday", type="date")
    customer = lead_add(channel=channel, email="a@example.com").customer
    changed = customer_update(
        channel=channel, customer=customer, values={"points": "1.5", "birthday": "2025-05-04"}
    )
    customer.refresh_from_db()
    assert sorted(changed) == ["birthday", "points"]
    assert customer.profile == {"points": 1.5, "birthday": "2025-05-04"}


def test_r1_2_bad_custom_value_names_the_key(channel: Channel) -> None:
    profile_key_create(channel=channel, key="points", type="number")
    customer = lead_add(channel=channel, email="a@example.com").customer
    with pytest.raises(ValidationError) as exc:
        customer_update(channel=channel, customer=customer, values={"points": "1,000"})
    assert "points" in exc.value.message_dict
    customer.refresh_from_db()
    assert customer.profile == {}


def test_r1_2_unknown_key_refused(channel: Channel) -> None:
    customer = lead_add(channel=channel, email="a@example.com").customer
    with pytest.raises(ValidationError, match="no profile key"):
        customer_update(channel=channel, customer=customer, values={"nope": "x"})


def test_r1_3_string_over_512_refused(channel: Channel) -> None:
    customer = lead_add(channel=channel, email="a@example.com").customer
    with pytest.raises(ValidationError) as exc:
        customer_update(channel=channel, customer=customer, values={"name": "가" * 513})
    assert "512" in str(exc.value)


def test_r1_3_whole_profile_over_15kb_refused(channel: Channel) -> None:
    for i in range(40):
        profile_key_create(channel=channel, key=f"s{i}", type="string")
    customer = lead_add(channel=channel, email="a@example.com").customer
    with pytest.raises(ValidationError) as exc:
        customer_update(
            channel=channel, customer=customer, values={f"s{i}": "x" * 500 for i in range(40)}
        )
    assert "15" in str(exc.value)
    customer.refresh_from_db()
    assert customer.profile == {}


def test_member_id_is_unique_per_channel(channel: Channel) -> None:
    a = lead_add(channel=channel, email="a@example.com").customer
    b = lead_add(channel=channel, email="b@example.com").customer
    customer_update(channel=channel, customer=a, values={"memberId": "m-1"})
    with pytest.raises(ValidationError, match="m-1"):
        customer_update(channel=channel, customer=b, values={"memberId": "m-1"})
    b.refresh_from_db()
    assert b.member_id is None


def test_r8_2_update_refuses_customer_of_another_channel(
    channel: Channel, other_channel: Channel
) -> None:
    foreign = lead_add(channel=other_channel, email="a@example.com").customer
    with pytest.raises(ValidationError, match="another channel"):
        customer_update(channel=channel, customer=foreign, values={"name": "x"})


def test_r1_2_profile_key_rules(channel: Channel) -> None:
    profile_key_create(channel=channel, key="grade", type="string")
    for key, type_, message in [
        ("Grade", "string", "already has the key"),
        ("email", "string", "already has the key"),
        ("1st", "string", "not a valid key"),
        ("my key", "string", "not a valid key"),
        ("ok", "money", "not a profile key type"),
    ]:
        with pytest.raises(ValidationError, match=message):
            profile_key_create(channel=channel, key=key, type=type_)
    assert ProfileKey.objects.filter(channel=channel, builtin=False).count() == 1


def test_r1_3_channel_key_count_is_capped_at_256(channel: Channel) -> None:
    existing = ProfileKey.objects.filter(channel=channel).count()
    ProfileKey.objects.bulk_create(
        ProfileKey(channel=channel, key=f"k{i}", type="string") for i in range(256 - existing)
    )
    with pytest.raises(ValidationError, match="256"):
        profile_key_create(channel=channel, key="oneTooMany", type="string")

"""Channels, memberships and their django-guardian grants (R8.1, R1.2 built-ins)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from crm.models import (
    BUILTIN_KEYS,
    ROLE_PERMISSIONS,
    ActivityLog,
    Channel,
    ChannelUserObjectPermission,
    Membership,
    ProfileKey,
    Role,
)
from crm.selectors import channels_for_user
from crm.services.channels import access_secret_matches, channel_create
from crm.services.memberships import membership_remove, membership_set
from tests.conftest import make_user


def test_r1_2_channel_gets_every_builtin_key(channel: Channel) -> None:
    keys = dict(ProfileKey.objects.filter(channel=channel).values_list("key", "type"))
    assert keys == BUILTIN_KEYS
    assert ProfileKey.objects.filter(channel=channel, builtin=False).count() == 0


def test_channel_secret_is_stored_hashed(new_channel: Any) -> None:
    channel = new_channel.channel
    assert new_channel.access_secret not in channel.access_secret_hash
    assert access_secret_matches(channel, new_channel.access_secret)
    assert not access_secret_matches(channel, new_channel.access_secret + "x")


@pytest.mark.parametrize("slug", ["", "Bad Slug", "-x", "x-", "a" * 65, "한글"])
def test_channel_create_refuses_bad_slug(owner: Any, slug: str) -> None:
    with pytest.raises(ValidationError) as exc:
        channel_create(slug=slug, name="N", owner=owner)
    assert "slug" in exc.value.message_dict
    assert not Channel.objects.exists()


def test_channel_create_refuses_duplicate_slug_and_writes_nothing(
    channel: Channel, owner: Any
) -> None:
    with pytest.raises(ValidationError, match="already exists"):
        channel_create(slug=channel.slug, name="Again", owner=owner)
    assert Channel.objects.count() == 1


def test_r8_1_owner_gets_every_channel_permission(channel: Channel, owner: Any) -> None:
    for codename in ROLE_PERMISSIONS[Role.OWNER]:
        assert owner.has_perm(f"crm.{codename}", channel), codename
    assert owner.is_staff
    assert not owner.has_perm("crm.view_customers")  # no global grant, only on the channel


def test_r8_1_agent_cannot_delete_or_import(channel: Channel, agent: Any) -> None:
    assert agent.has_perm("crm.view_customers", channel)
    assert agent.has_perm("crm.block_customers", channel)
    assert not agent.has_perm("crm.delete_customers", channel)
    assert not agent.has_perm("crm.import_customers", channel)
    assert not agent.has_perm("crm.manage_profile_keys", channel)


def test_r8_1_role_change_replaces_grants(channel: Channel, agent: Any) -> None:
    membership_set(channel=channel, user=agent, role=Role.ADMIN)
    agent = type(agent).objects.get(pk=agent.pk)  # fresh permission cache
    assert agent.has_perm("crm.delete_customers", channel)
    membership_set(channel=channel, user=agent, role=Role.AGENT)
    agent = type(agent).objects.get(pk=agent.pk)
    assert not agent.has_perm("crm.delete_customers", channel)
    codes = set(
        ChannelUserObjectPermission.objects.filter(user=agent, content_object=channel).values_list(
            "permission__codename", flat=True
        )
    )
    assert codes == ROLE_PERMISSIONS[Role.AGENT]


def test_r8_1_unknown_role_refused(channel: Channel) -> None:
    user = make_user("x")
    with pytest.raises(ValidationError, match="unknown role"):
        membership_set(channel=channel, user=user, role="god")
    assert not Membership.objects.filter(user=user).exists()


def test_r8_1_second_owner_refused(channel: Channel) -> None:
    user = make_user("usurper")
    with pytest.raises(ValidationError, match="already has an owner"):
        membership_set(channel=channel, user=user, role=Role.OWNER)
    assert not user.has_perm("crm.view_customers", channel)


def test_r8_1_removing_a_manager_removes_grants(channel: Channel, agent: Any) -> None:
    membership_remove(channel=channel, user=agent)
    assert not ChannelUserObjectPermission.objects.filter(user=agent).exists()
    assert list(channels_for_user(type(agent).objects.get(pk=agent.pk))) == []
    assert ActivityLog.objects.filter(channel=channel, action="manager.remove").exists()


def test_r8_1_owner_cannot_be_removed(channel: Channel, owner: Any) -> None:
    with pytest.raises(ValidationError):
        membership_remove(channel=channel, user=owner)
    assert owner.has_perm("crm.view_customers", channel)


def test_r8_1_deleting_membership_directly_still_removes_grants(
    channel: Channel, agent: Any
) -> None:
    Membership.objects.filter(user=agent).delete()
    assert not ChannelUserObjectPermission.objects.filter(user=agent).exists()


def test_r8_1_deleting_channel_removes_its_grants(channel: Channel, agent: Any) -> None:
    channel.delete()
    assert not ChannelUserObjectPermission.objects.exists()


def test_r8_2_channels_for_user_lists_only_own_channels(
    channel: Channel, other_channel: Channel, agent: Any, outsider: Any
) -> None:
    assert list(channels_for_user(agent)) == [channel]
    assert list(channels_for_user(outsider)) == [other_channel]
    assert list(channels_for_user(agent, "delete_customers")) == []

"""``create_channel`` (SPEC §9): one JSON object of credentials; refusals write nothing."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import Channel, Membership, Role
from crm.services.channels import access_secret_matches

User = get_user_model()


def _create(*args: str, **options: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_channel", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_r6_1_create_channel_prints_one_json_object_of_working_credentials(db: None) -> None:
    out, _ = _create("shop", name="상점 Shop", owner="alice")
    printed = json.loads(out)
    assert set(printed) == {"slug", "pluginKey", "accessKey", "accessSecret", "memberHashSecret"}
    channel = Channel.objects.get(slug="shop")
    assert channel.name == "상점 Shop"
    assert printed["slug"] == "shop"
    assert printed["pluginKey"] == channel.plugin_key
    assert printed["accessKey"] == channel.access_key
    assert printed["memberHashSecret"] == channel.member_hash_secret
    assert access_secret_matches(channel, printed["accessSecret"])
    assert printed["accessSecret"] not in channel.access_secret_hash  # only its hash is kept


def test_r8_1_new_owner_is_created_without_a_usable_password(db: None) -> None:
    _, err = _create("shop", name="Shop", owner="alice")
    alice = User.objects.get(username="alice")
    assert not alice.has_usable_password()
    assert alice.is_staff
    assert Membership.objects.get(channel__slug="shop", user=alice).role == Role.OWNER
    assert "changepassword alice" in err


def test_r8_1_new_owner_with_password_can_log_in(db: None) -> None:
    _create("shop", name="Shop", owner="alice", password="correct horse battery")
    assert User.objects.get(username="alice").check_password("correct horse battery")


def test_r8_1_existing_user_becomes_owner_and_keeps_their_password(owner: Any) -> None:
    _, err = _create("shop", name="Shop", owner=owner.username)
    owner.refresh_from_db()
    assert owner.check_password("pw-owner")
    assert Membership.objects.get(channel__slug="shop", user=owner).role == Role.OWNER
    assert err == ""
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (["Bad Slug"], {"name": "N", "owner": "alice"}, "slug: 'Bad Slug' is not a valid slug"),
        (["x-"], {"name": "N", "owner": "alice"}, "not a valid slug"),
        (["shop"], {"name": "   ", "owner": "alice"}, "name: the channel needs a name"),
        (["shop"], {"name": "N", "owner": "bad user!"}, "owner: Enter a valid username"),
        (["shop"], {"name": "N", "owner": ""}, "owner: This field cannot be blank"),
        (
            ["shop"],
            {"name": "N", "owner": "alice", "password": "123"},
            "password: This password is too short",
        ),
    ],
)
def test_r8_1_create_channel_refuses_bad_input_and_writes_nothing(
    db: None, args: list[str], options: dict[str, str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        _create(*args, **options)
    assert not Channel.objects.exists()
    assert not User.objects.exists()  # the owner user is not left behind


def test_r8_2_duplicate_slug_is_refused_and_the_other_channel_untouched(
    channel: Channel, owner: Any
) -> None:
    before = (channel.plugin_key, channel.access_key, channel.access_secret_hash)
    with pytest.raises(CommandError, match="slug: a channel with the slug 'acme' already exists"):
        _create("acme", name="Again", owner="mallory")
    channel.refresh_from_db()
    assert (channel.plugin_key, channel.access_key, channel.access_secret_hash) == before
    assert not User.objects.filter(username="mallory").exists()
    assert Channel.objects.count() == 1


def test_r8_1_password_for_an_existing_user_is_refused(owner: Any) -> None:
    with pytest.raises(CommandError, match="password: user 'owner' exists"):
        _create("shop", name="Shop", owner="owner", password="a new long password")
    owner.refresh_from_db()
    assert owner.check_password("pw-owner")
    assert not Channel.objects.exists()

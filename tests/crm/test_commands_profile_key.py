"""``create_profile_key SLUG KEY TYPE`` (R1.2, SPEC §9)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import ActivityLog, Channel, ProfileKey
from crm.values import PROFILE_TYPES


def _create_key(*args: str, **options: str) -> str:
    out = StringIO()
    call_command("create_profile_key", *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


@pytest.mark.parametrize("type_", PROFILE_TYPES)
def test_r1_2_create_profile_key_of_every_type(channel: Channel, type_: str) -> None:
    out = _create_key("acme", "custom1", type_)
    key = ProfileKey.objects.get(channel=channel, key="custom1")
    assert (key.type, key.builtin) == (type_, False)
    assert out.strip() == f"created profile key 'custom1' ({type_}) in channel 'acme'"
    entry = ActivityLog.objects.get(channel=channel, action=ActivityLog.Action.PROFILE_KEY_CREATE)
    assert entry.via == ActivityLog.Via.COMMAND
    assert entry.detail == {"key": "custom1", "type": type_}


def test_r1_2_label_is_kept(channel: Channel) -> None:
    _create_key("acme", "grade", "string", label="회원 등급")
    assert ProfileKey.objects.get(channel=channel, key="grade").label == "회원 등급"


@pytest.mark.parametrize(
    ("key", "type_", "message"),
    [
        ("points", "integer", "type: 'integer' is not a profile key type: use one of string"),
        ("1st", "string", "key: '1st' is not a valid key"),
        ("has space", "string", "key: 'has space' is not a valid key"),
        ("EMAIL", "string", "key: the channel already has the key 'email'"),  # a built-in
    ],
)
def test_r1_2_create_profile_key_refuses_bad_input(
    channel: Channel, key: str, type_: str, message: str
) -> None:
    before = ProfileKey.objects.filter(channel=channel).count()
    with pytest.raises(CommandError, match=message):
        _create_key("acme", key, type_)
    assert ProfileKey.objects.filter(channel=channel).count() == before


def test_r1_2_duplicate_custom_key_is_refused_whatever_its_case(channel: Channel) -> None:
    _create_key("acme", "points", "number")
    with pytest.raises(CommandError, match="already has the key 'points'"):
        _create_key("acme", "Points", "string")
    assert ProfileKey.objects.get(channel=channel, key__iexact="points").type == "number"


def test_r8_2_key_goes_to_the_named_channel_only(channel: Channel, other_channel: Channel) -> None:
    _create_key("globex", "points", "number")
    assert ProfileKey.objects.filter(channel=other_channel, key="points").exists()
    assert not ProfileKey.objects.filter(channel=channel, key="points").exists()


def test_unknown_channel_is_a_clear_error(db: None) -> None:
    with pytest.raises(CommandError, match="no channel with the slug 'nope'"):
        _create_key("nope", "points", "number")
    assert not ProfileKey.objects.exists()

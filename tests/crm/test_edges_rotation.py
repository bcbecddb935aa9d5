"""Access secrets rotate (R8.4): ``rotate_access_secret SLUG`` prints the new secret as JSON,
the owner's back-office action shows it once; the old secret stops at once."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from crm.models import ActivityLog, Channel
from crm.services.channels import NewChannel
from tests.crm.test_api_support import Api

pytestmark = pytest.mark.django_db


def status_with(channel: Channel, secret: str) -> int:
    return Api.of(channel, secret).call("GET", "/open/v5/users").status


def test_r8_4_the_command_prints_a_new_secret_and_the_old_one_stops(
    new_channel: NewChannel,
) -> None:
    channel = new_channel.channel
    assert status_with(channel, new_channel.access_secret) == 200
    out = StringIO()
    call_command("rotate_access_secret", channel.slug, stdout=out)
    printed = json.loads(out.getvalue())
    assert set(printed) == {"accessKey", "accessSecret"}
    assert printed["accessKey"] == channel.access_key
    assert printed["accessSecret"] != new_channel.access_secret
    assert status_with(channel, new_channel.access_secret) == 401
    assert status_with(channel, printed["accessSecret"]) == 200
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CHANNEL_EDIT)
    assert (entry.via, entry.detail) == ("command", {"accessSecret": "rotated"})


def test_r8_4_the_command_refuses_an_unknown_channel(new_channel: NewChannel) -> None:
    with pytest.raises(CommandError, match="no channel"):
        call_command("rotate_access_secret", "nope")
    assert status_with(new_channel.channel, new_channel.access_secret) == 200


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r8_4_the_owner_rotates_in_the_back_office_and_sees_the_secret_once(
    new_channel: NewChannel, owner: Any
) -> None:
    channel = new_channel.channel
    client = logged_in(owner)
    page = client.get(reverse("admin:crm_channel_change", args=[channel.pk])).content.decode()
    url = reverse("admin:crm_channel_rotate_secret", args=[channel.pk])
    assert url in page
    confirm = client.get(url)
    assert confirm.status_code == 200 and b'method="post"' in confirm.content
    assert status_with(channel, new_channel.access_secret) == 200  # a GET rotates nothing
    done = client.post(url)
    assert done.status_code == 200
    assert "no-store" in done["Cache-Control"]
    html = done.content.decode()
    secret = html.split('id="new-access-secret">')[1].split("<")[0]
    assert len(secret) > 30
    assert status_with(channel, new_channel.access_secret) == 401
    assert status_with(channel, secret) == 200
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CHANNEL_EDIT)
    assert (entry.actor, entry.via) == (owner, "hand")
    # The secret is never shown again: the page only offers to rotate once more.
    assert secret not in client.get(url).content.decode()
    assert (
        secret
        not in client.get(reverse("admin:crm_channel_change", args=[channel.pk])).content.decode()
    )


def test_r8_4_only_the_owner_may_rotate(
    new_channel: NewChannel, admin_manager: Any, agent: Any, outsider: Any
) -> None:
    channel = new_channel.channel
    url = reverse("admin:crm_channel_rotate_secret", args=[channel.pk])
    for manager in (admin_manager, agent):
        client = logged_in(manager)
        assert client.post(url).status_code == 403
        page = client.get(reverse("admin:crm_channel_change", args=[channel.pk]))
        assert url not in page.content.decode()
    assert logged_in(outsider).post(url).status_code == 404
    assert status_with(channel, new_channel.access_secret) == 200
    assert not ActivityLog.objects.filter(action=ActivityLog.Action.CHANNEL_EDIT).exists()

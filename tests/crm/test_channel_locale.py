"""A channel's country and time zone (R2.13a, R11.2): set by create_channel, edited by the owner."""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from crm.models import ActivityLog, Channel
from crm.services.channels import channel_create, channel_set_locale


def _create(*args: str, **options: Any) -> dict[str, Any]:
    out = StringIO()
    call_command("create_channel", *args, stdout=out, stderr=StringIO(), **options)
    return dict(json.loads(out.getvalue()))


def test_r2_13a_create_channel_defaults_to_korea_and_seoul(db: None) -> None:
    _create("shop", name="Shop", owner="alice")
    channel = Channel.objects.get(slug="shop")
    assert (channel.country, channel.time_zone) == ("KR", "Asia/Seoul")


def test_r2_13a_create_channel_takes_a_country_and_time_zone(db: None) -> None:
    _create("shop", name="Shop", owner="alice", country="jp", time_zone="Asia/Tokyo")
    channel = Channel.objects.get(slug="shop")
    assert (channel.country, channel.time_zone) == ("JP", "Asia/Tokyo")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "Korea"}, "country"),
        ({"country": "AQ"}, "numbering plan"),  # Antarctica: no phone numbers to read in it
        ({"time_zone": "Seoul"}, "time_zone"),
        ({"time_zone": "KST"}, "IANA"),
    ],
)
def test_r2_13a_create_channel_refuses_a_bad_country_or_zone_and_writes_nothing(
    db: None, options: dict[str, str], named: str
) -> None:
    with pytest.raises(CommandError) as refused:
        _create("shop", name="Shop", owner="alice", **options)
    assert named in str(refused.value)
    assert not Channel.objects.filter(slug="shop").exists()


def test_r2_13a_the_service_validates_like_the_command(owner: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        channel_create(slug="shop", name="Shop", owner=owner, country="ZZ")
    assert "country" in refused.value.message_dict


def _change_url(channel: Channel) -> str:
    return reverse("admin:crm_channel_change", args=[channel.pk])


def _logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_CHECKED = re.compile(r'<input type="checkbox" name="([^"]+)"[^>]*\bchecked\b')


def _post(client: Client, channel: Channel, **values: str) -> Any:
    """Posts the change form as a browser would: its hidden inputs (the managers inline's
    management form) and ticked boxes, plus ``values``."""
    page = client.get(_change_url(channel)).content.decode()
    data = dict(_HIDDEN.findall(page))
    data.update(dict.fromkeys(_CHECKED.findall(page), "on"))
    data.pop("csrfmiddlewaretoken", None)
    return client.post(_change_url(channel), {**data, **values})


def test_r2_13a_owner_changes_country_and_time_zone_in_the_back_office(
    owner: Any, channel: Channel
) -> None:
    client = _logged_in(owner)
    page = client.get(_change_url(channel)).content.decode()
    assert 'name="country"' in page and 'name="time_zone"' in page
    assert 'name="name"' not in page  # everything else stays read-only
    response = _post(client, channel, country="US", time_zone="America/New_York")
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.country, channel.time_zone) == ("US", "America/New_York")
    entry = ActivityLog.objects.get(channel=channel, action=ActivityLog.Action.CHANNEL_EDIT)
    assert entry.actor == owner
    assert entry.detail == {
        "before": {"country": "KR", "time_zone": "Asia/Seoul"},
        "after": {"country": "US", "time_zone": "America/New_York"},
    }


def test_r2_13a_back_office_refuses_a_zone_it_does_not_know(owner: Any, channel: Channel) -> None:
    response = _post(_logged_in(owner), channel, country="KR", time_zone="Mars/Olympus")
    assert response.status_code == 200  # the form again, with its error
    assert "Mars/Olympus" in response.content.decode()
    channel.refresh_from_db()
    assert channel.time_zone == "Asia/Seoul"


def test_r8_1_only_the_owner_changes_the_channel_settings(
    admin_manager: Any, agent: Any, channel: Channel
) -> None:
    for manager in (admin_manager, agent):
        client = _logged_in(manager)
        assert 'name="country"' not in client.get(_change_url(channel)).content.decode()
        response = _post(client, channel, country="US", time_zone="UTC")
        assert response.status_code == 403
    channel.refresh_from_db()
    assert channel.country == "KR"


def test_r2_13a_unchanged_settings_log_nothing(owner: Any, channel: Channel) -> None:
    channel_set_locale(channel=channel, country="kr", time_zone="Asia/Seoul", by=owner)
    assert not ActivityLog.objects.filter(action=ActivityLog.Action.CHANNEL_EDIT).exists()

"""Profile keys on the admin (R1.2): listed per channel, created through the service."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from crm.models import ActivityLog, Channel, ProfileKey
from crm.services.profile_keys import profile_key_create

LIST = reverse("admin:crm_profilekey_changelist")
ADD = reverse("admin:crm_profilekey_add")


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r1_2_profile_keys_list_marks_built_ins(owner: Any, channel: Channel) -> None:
    profile_key_create(channel=channel, key="grade", type="string", label="등급")
    html = logged_in(owner).get(LIST).content.decode()
    for key in ("mobileNumber", "unsubscribeTexting", "grade", "등급"):
        assert key in html
    assert 'alt="True"' in html and 'alt="False"' in html  # the built-in column


def test_r1_2_manager_creates_a_custom_key_through_the_service(
    admin_manager: Any, channel: Channel
) -> None:
    client = logged_in(admin_manager)
    response = client.post(
        ADD, {"channel": channel.pk, "key": "birthday", "label": "생일", "type": "date"}
    )
    assert response.status_code == 302
    key = ProfileKey.objects.get(channel=channel, key="birthday")
    assert key.type == "date" and not key.builtin and key.label == "생일"
    entry = ActivityLog.objects.get(action=ActivityLog.Action.PROFILE_KEY_CREATE)
    assert entry.actor == admin_manager and entry.detail == {"key": "birthday", "type": "date"}


def test_r1_2_service_refusals_show_on_the_form(owner: Any, channel: Channel) -> None:
    client = logged_in(owner)
    response = client.post(ADD, {"channel": channel.pk, "key": "EMAIL", "type": "string"})
    assert response.status_code == 200
    assert "the channel already has the key &#x27;email&#x27;" in response.content.decode()
    response = client.post(ADD, {"channel": channel.pk, "key": "1st", "type": "string"})
    assert "is not a valid key" in response.content.decode()
    assert not ProfileKey.objects.filter(channel=channel, builtin=False).exists()


def test_r8_1_agent_cannot_create_keys(agent: Any, channel: Channel) -> None:
    client = logged_in(agent)
    html = client.get(LIST).content.decode()
    assert "mobileNumber" in html  # may see them
    assert ADD not in html
    assert client.get(ADD).status_code == 403
    response = client.post(ADD, {"channel": channel.pk, "key": "x", "type": "string"})
    assert response.status_code == 403
    assert not ProfileKey.objects.filter(key="x").exists()


def test_r8_2_profile_keys_of_another_channel_are_invisible(
    outsider: Any, channel: Channel, other_channel: Channel
) -> None:
    profile_key_create(channel=channel, key="acmeSecretKey", type="string")
    profile_key_create(channel=other_channel, key="globexKey", type="string")
    client = logged_in(outsider)
    html = client.get(LIST).content.decode()
    assert "globexKey" in html and "acmeSecretKey" not in html
    key = ProfileKey.objects.get(key="acmeSecretKey")
    assert client.get(reverse("admin:crm_profilekey_change", args=[key.pk])).status_code == 302
    # The channel choices are the outsider's: adding a key to Acme is refused.
    html = client.get(ADD).content.decode()
    assert "Globex" in html and "Acme" not in html
    response = client.post(ADD, {"channel": channel.pk, "key": "planted", "type": "string"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ProfileKey.objects.filter(key="planted").exists()
    # Filtering by another channel's id shows nothing of it.
    html = client.get(LIST, {"channel__id__exact": channel.pk}).content.decode()
    assert "acmeSecretKey" not in html

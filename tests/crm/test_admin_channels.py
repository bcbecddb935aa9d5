"""Channels and the activity log on the admin, the site's header and start page (R8.2)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from crm.models import Channel
from crm.services.customers import lead_add
from crm.services.memberships import membership_set
from tests.conftest import make_user

CHANNELS = reverse("admin:crm_channel_changelist")
ACTIVITY = reverse("admin:crm_activitylog_changelist")


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r8_2_channel_list_shows_the_managers_channels_only(
    owner: Any, channel: Channel, outsider: Any, other_channel: Channel
) -> None:
    html = logged_in(outsider).get(CHANNELS).content.decode()
    assert "Globex" in html and other_channel.plugin_key in html
    assert "Acme" not in html and channel.plugin_key not in html


def test_r8_2_channel_page_shows_settings_and_managers_but_no_secret(
    owner: Any, channel: Channel, agent: Any
) -> None:
    html = logged_in(agent).get(reverse("admin:crm_channel_change", args=[channel.pk]))
    text = html.content.decode()
    assert channel.plugin_key in text
    assert "Detailed audit" in text and "Member hash required" in text
    assert ">owner<" in text and ">agent<" in text and "Agent" in text  # managers, read-only
    assert channel.member_hash_secret not in text
    assert channel.access_secret_hash not in text and channel.access_key not in text
    assert 'name="name"' not in text  # nothing to edit


def test_r8_2_outsider_gets_no_channel_page_of_another_channel(
    outsider: Any, channel: Channel
) -> None:
    client = logged_in(outsider)
    response = client.get(reverse("admin:crm_channel_change", args=[channel.pk]))
    assert response.status_code == 302
    assert channel.plugin_key not in client.get(response["Location"]).content.decode()


def test_r8_2_activity_log_is_scoped_with_scoped_channel_choices(
    owner: Any, channel: Channel, outsider: Any, other_channel: Channel
) -> None:
    lead_add(channel=channel, email="acme-person@example.com", by=owner)
    lead_add(channel=other_channel, email="globex-person@example.com", by=outsider)
    client = logged_in(outsider)
    html = client.get(ACTIVITY).content.decode()
    # R11.4: the entries read as sentences naming who did it.
    assert "outsider added the customer" in html
    assert "owner added the customer" not in html  # Acme's owner acted in Acme only
    html = client.get(ACTIVITY, {"channel__id__exact": channel.pk}).content.decode()
    assert 'class="field-what' not in html  # no row at all


def test_r8_2_channel_filter_offers_only_the_managers_channels(
    owner: Any, channel: Channel, other_channel: Channel
) -> None:
    third = Channel.objects.create(slug="initech", name="Initech", access_secret_hash="x")
    membership_set(channel=other_channel, user=owner, role="agent")
    html = logged_in(owner).get(ACTIVITY).content.decode()
    assert "?channel__id__exact=" in html  # two channels: a filter to choose
    assert "Globex" in html and "Acme" in html and third.name not in html


def test_site_header_index_and_root_lead_to_contacts(owner: Any, channel: Channel) -> None:
    client = logged_in(owner)
    html = client.get(reverse("admin:index")).content.decode()
    assert ">Contacts</a>" in html  # the site header
    assert "Open contacts" in html
    assert reverse("admin:crm_customer_changelist") in html
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:crm_customer_changelist")


def test_r8_1_managers_are_staff_without_global_rights(agent: Any) -> None:
    html = logged_in(agent).get(reverse("admin:index")).content.decode()
    assert "Customers" in html and "Profile keys" in html
    assert "Users" not in html and "Groups" not in html
    other = make_user("plain")
    assert logged_in(other).get(reverse("admin:index")).status_code == 302  # not staff

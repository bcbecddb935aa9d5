"""R11.1 and R11.3 for the services' refusals and the command line: a refusal reaches a manager
in the manager's language, the command line speaks ``LANGUAGE_CODE`` (or the language of the
manager named by ``--manager``), while the programs' answers (Open API, boot, ``--json``) stay
the same in every language."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm.models import Channel, Customer, ManagerSettings, ProfileKey
from crm.services.blocking import customer_block
from crm.services.channels import NewChannel
from tests.crm.test_api_support import Api

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("korean")]


def hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r11_1_a_service_refusal_on_the_admin_reads_in_the_managers_language(
    owner: Any, channel: Channel
) -> None:
    """profile_key_create's refusals, through the admin's form, for a Korean channel's owner."""
    add = reverse("admin:crm_profilekey_add")
    html = logged_in(owner).post(add, {"channel": channel.pk, "key": "EMAIL", "type": "string"})
    assert "채널에 이미 &#x27;email&#x27; 키가 있습니다" in html.content.decode()
    html = logged_in(owner).post(add, {"channel": channel.pk, "key": "1st", "type": "string"})
    assert "올바른 키가 아닙니다" in html.content.decode()
    assert not ProfileKey.objects.filter(channel=channel, builtin=False).exists()
    ManagerSettings.objects.create(user=owner, language="en")
    html = logged_in(owner).post(add, {"channel": channel.pk, "key": "1st", "type": "string"})
    assert "is not a valid key" in html.content.decode()


def test_r11_1_a_refused_block_reads_in_korean(owner: Any, channel: Channel) -> None:
    customer = Customer.objects.create(channel=channel, name="김민준", email="kim@example.com")
    customer_block(channel=channel, customer=customer, by=owner)
    with pytest.raises(ValidationError, match="“김민준” 고객은 이미 차단되어 있습니다"):
        customer_block(channel=channel, customer=customer, by=owner)


def _command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_r11_1_the_command_line_speaks_language_code_and_json_stays_data(
    channel: Channel, settings: Any
) -> None:
    Customer.objects.create(channel=channel, name="김민준", email="kim@example.com")
    assert _command("channel_stats", channel.slug).strip() == ("acme: MU 1 · 고객 1명 · 차단 0명")
    as_json = json.loads(_command("channel_stats", channel.slug, "--json"))
    assert as_json == {"mu": 1, "customers": 1, "blocked": 0}
    with pytest.raises(CommandError, match="슬러그가 'nope'인 채널이 없습니다"):
        _command("channel_stats", "nope")
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        assert "customers 1" in _command("channel_stats", channel.slug)
        with pytest.raises(CommandError, match="no channel with the slug 'nope'"):
            _command("channel_stats", "nope")


def test_r11_1_builder_pull_speaks_the_language_of_its_manager(
    channel: Channel, owner: Any
) -> None:
    """With --manager the human output is in that manager's language, not LANGUAGE_CODE."""
    ManagerSettings.objects.create(user=owner, language="en")
    with pytest.raises(CommandError, match="Shopify is not connected to channel 'acme'"):
        _command("builder_pull", channel.slug, "shopify", "--manager", owner.username)
    with pytest.raises(CommandError, match="Shopify이\\(가\\) 'acme' 채널에 연결되어 있지"):
        _command("builder_pull", channel.slug, "shopify")


def test_r11_3_the_open_api_refuses_in_english_for_a_korean_browser(
    new_channel: NewChannel,
) -> None:
    api = Api.of(new_channel.channel, new_channel.access_secret)
    api.headers["accept-language"] = "ko"
    answer = api.put_member("m-1", {"bogus": 1, "tags": 3})
    assert answer.status == 400
    assert answer.body["errors"]["bogus"] == "not a field of this request"
    answer = api.call("GET", "/open/v5/users", limit="0")
    assert answer.body == {"errors": {"limit": "a whole number from 1 to 500"}}
    schema = Client().get("/open/v5/openapi.json", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "values to set; null clears a key" in schema and not hangul(schema)


def test_r11_3_the_widget_boot_refuses_in_english_for_a_korean_browser(channel: Channel) -> None:
    response = Client().post(
        "/front/boot", data=b"{", content_type="application/json", HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert response.status_code == 400
    assert response.json() == {"errors": {"body": "the body is not JSON"}}

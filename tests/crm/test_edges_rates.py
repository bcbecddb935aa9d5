"""Floods are bounded (R7.4): boots per client address and per plugin key, failed Open API
authentications per client address, and webhook deliveries per installation are answered 429
with Retry-After past their limits, and create nothing (MU unchanged)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from builders.installations import installation_create, webhook_path
from crm.models import Customer
from crm.selectors import channel_mu, channel_mu_counted
from crm.services.channels import NewChannel, channel_create
from tests.builders.conftest import SHOPS, payload
from tests.conftest import make_user
from tests.crm.test_api_support import Api

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(rate_clock: list[float]) -> list[float]:
    return rate_clock


def boot(plugin_key: str, address: str = "203.0.113.7", **body: Any) -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/front/boot",
        data=json.dumps({"pluginKey": plugin_key, **body}),
        content_type="application/json",
    )


def test_r7_4_a_boot_flood_from_one_address_gets_429_and_costs_no_mu(
    new_channel: NewChannel, settings: Any, clock: list[float]
) -> None:
    settings.BOOT_RATE_LIMIT_PER_ADDRESS = 5
    settings.BOOT_RATE_WINDOW_SECONDS = 60
    channel = new_channel.channel
    answers = [boot(channel.plugin_key) for _ in range(12)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 7
    refused = answers[-1]
    assert refused["Retry-After"] == "30"  # the clock stands mid-window
    assert "too many boots from this address" in refused.json()["errors"]["rate"]
    assert refused["Access-Control-Allow-Origin"] == "*"
    assert Customer.objects.filter(channel=channel).count() == 5
    assert channel_mu(channel) == channel_mu_counted(channel) == 5
    # Another address boots; the flooding one again once the window is over.
    assert boot(channel.plugin_key, address="198.51.100.1").status_code == 200
    clock[0] += 30
    assert boot(channel.plugin_key).status_code == 200


def test_r7_4_new_member_boots_past_the_limit_create_no_members(
    new_channel: NewChannel, settings: Any
) -> None:
    settings.BOOT_RATE_LIMIT_PER_ADDRESS = 3
    channel = new_channel.channel
    statuses = [boot(channel.plugin_key, memberId=f"m-{i}").status_code for i in range(10)]
    assert statuses == [200] * 3 + [429] * 7
    assert Customer.objects.filter(channel=channel, member_id__isnull=False).count() == 3
    assert channel_mu(channel) == 3


def test_r7_4_boots_per_plugin_key_are_limited_across_addresses(
    new_channel: NewChannel, settings: Any
) -> None:
    settings.BOOT_RATE_LIMIT_PER_KEY = 4
    channel = new_channel.channel
    statuses = [boot(channel.plugin_key, address=f"192.0.2.{i}").status_code for i in range(7)]
    assert statuses == [200] * 4 + [429] * 3
    assert (
        "for this plugin key"
        in boot(channel.plugin_key, address="192.0.2.99").json()["errors"]["rate"]
    )
    other = channel_create(slug="globex", name="Globex", owner=make_user("g")).channel
    assert boot(other.plugin_key, address="192.0.2.1").status_code == 200
    assert Customer.objects.filter(channel=channel).count() == 4


def forwarded(plugin_key: str, chain: str) -> int:
    response = Client(REMOTE_ADDR="10.0.0.2").post(
        "/front/boot",
        data=json.dumps({"pluginKey": plugin_key}),
        content_type="application/json",
        headers={"X-Forwarded-For": chain},
    )
    return int(response.status_code)


def test_r7_4_behind_the_proxy_the_client_is_the_proxys_forwarded_entry(
    new_channel: NewChannel, settings: Any
) -> None:
    """The entries before the proxy's own are the client's to write: varying them escapes
    nothing."""
    settings.BOOT_RATE_LIMIT_PER_ADDRESS = 2
    settings.BEHIND_PROXY = True
    key = new_channel.channel.plugin_key
    spoofed = [forwarded(key, f"10.9.9.{i}, 203.0.113.50") for i in range(4)]
    assert spoofed == [200, 200, 429, 429]
    assert forwarded(key, "203.0.113.51") == 200  # another client behind the same proxy


def test_r7_4_without_the_proxy_setting_forwarded_for_is_ignored(
    new_channel: NewChannel, settings: Any
) -> None:
    settings.BOOT_RATE_LIMIT_PER_ADDRESS = 2
    settings.BEHIND_PROXY = False
    key = new_channel.channel.plugin_key
    assert [forwarded(key, f"203.0.113.{i}") for i in range(3)] == [200, 200, 429]


def test_r7_4_ipv6_clients_count_per_64(new_channel: NewChannel, settings: Any) -> None:
    settings.BOOT_RATE_LIMIT_PER_ADDRESS = 2
    key = new_channel.channel.plugin_key
    statuses = [boot(key, address=f"2001:db8:1:2::{i}").status_code for i in range(1, 4)]
    assert statuses == [200, 200, 429]
    assert boot(key, address="2001:db8:1:3::1").status_code == 200


def test_r7_4_failed_api_authentications_are_throttled_per_address(
    new_channel: NewChannel, settings: Any, clock: list[float]
) -> None:
    settings.API_AUTH_FAILURE_LIMIT = 3
    settings.API_AUTH_FAILURE_WINDOW_SECONDS = 600
    channel = new_channel.channel
    guesser = Api(channel.access_key, "wrong")
    statuses = [guesser.call("GET", "/open/v5/users").status for _ in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]
    refused = guesser.call("GET", "/open/v5/users")
    assert refused.headers["retry-after"] == str(600 - 30)
    assert "too many failed authentications" in refused.body["errors"]["rate"]
    # The right secret from the same address waits too: guessing must not go on.
    right = Api.of(channel, new_channel.access_secret)
    assert right.call("GET", "/open/v5/users").status == 429
    # Another address is not held up by this one.
    right.client = Client(REMOTE_ADDR="198.51.100.9")
    assert right.call("GET", "/open/v5/users").status == 200
    clock[0] += 600
    assert Api.of(channel, new_channel.access_secret).call("GET", "/open/v5/users").status == 200


def test_r7_4_successful_api_calls_do_not_use_up_the_failure_budget(
    new_channel: NewChannel, settings: Any
) -> None:
    settings.API_AUTH_FAILURE_LIMIT = 2
    api = Api.of(new_channel.channel, new_channel.access_secret)
    assert {api.call("GET", "/open/v5/users").status for _ in range(5)} == {200}


def test_r7_4_webhook_deliveries_past_the_limit_get_429_and_act_not(
    new_channel: NewChannel, settings: Any
) -> None:
    settings.WEBHOOK_RATE_LIMIT = 2
    channel = new_channel.channel
    installation = installation_create(channel=channel, platform="shopby", shop_id=SHOPS["shopby"])
    body = json.loads(payload("shopby", "member_withdraw.json"))
    statuses = []
    for member_no in range(3):
        body["memberNo"] = member_no
        body["memberId"] = None
        response = Client().post(
            webhook_path(installation), data=json.dumps(body), content_type="application/json"
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert response["Retry-After"] == "30"
    assert installation.receipts.count() == 2

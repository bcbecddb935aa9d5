"""Every chat widget endpoint (``/front/…``) refuses the same bad requests the same way (R8.3,
R7.4): a NUL byte is a 400 naming the body, a body over 32 KB a 413 (and one over all Django
reads, 2.5 MB, a 413 too), a flood from one address a 429 with Retry-After, each with the
widget's CORS header so the widget can read why, and none of them writes anything. The reasons
are English: they are for the widget's program (R11.3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from crm.models import Channel, Customer
from crm.services.boot import customer_boot

pytestmark = pytest.mark.django_db

NUL_REASON = "contains a NUL character (U+0000), which cannot be stored"
# Boots and the answers are counted apart (R7.4), each 429 naming what it counts.
ENDPOINTS = {
    "/front/boot": "boots from this address",
    "/front/requests": "widget requests",
    "/front/follow-ups/1": "widget requests",
    "/front/forms/1": "widget requests",
}


def send(url: str, data: bytes) -> Any:
    client = Client(REMOTE_ADDR="203.0.113.7")
    return client.post(url, data=data, content_type="application/json")


@pytest.mark.parametrize("attack", ["nul byte", "oversize body", "huge body", "flood"])
@pytest.mark.parametrize("url", sorted(ENDPOINTS))
def test_r8_3_r7_4_every_widget_endpoint_refuses_nul_oversize_and_flood_alike(
    url: str, attack: str, channel: Channel, settings: Any, rate_clock: list[float]
) -> None:
    veil_id = customer_boot(channel=channel).customer.veil_id
    fields = {"pluginKey": channel.plugin_key, "veilId": veil_id, "answers": {"email": None}}
    body = json.dumps(fields).encode()
    settings.BOOT_RATE_LIMIT_PER_ADDRESS = 2
    before = Customer.objects.count()
    if attack == "nul byte":
        response = send(url, body.replace(b'"veilId": "', b'"veilId": "\x00'))  # raw, as sent
        expected = (400, {"body": NUL_REASON})
    elif attack == "oversize body":
        fields["answers"] = {"email": "a" * 32 * 1024}
        response = send(url, json.dumps(fields).encode())
        expected = (413, {"body": "The body is over 32 KB."})
    elif attack == "huge body":  # past what Django reads at all: it answered a bare HTML 400
        fields["answers"] = {"email": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
        response = send(url, json.dumps(fields).encode())
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        expected = (413, {"body": f"the body is over {limit} bytes, more than this server reads"})
    else:
        allowed = [send(url, body).status_code for _ in range(2)]
        assert 429 not in allowed
        before = Customer.objects.count()
        response = send(url, body)
        reason = f"too many {ENDPOINTS[url]}; retry in 30 seconds"  # mid-window
        expected = (429, {"rate": reason})
        assert response["Retry-After"] == "30"
    assert (response.status_code, response.json()["errors"]) == expected
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Customer.objects.count() == before


@pytest.mark.parametrize("url", sorted(ENDPOINTS))
def test_r7_1_every_widget_endpoint_answers_the_browsers_preflight_and_only_posts(
    url: str, channel: Channel
) -> None:
    """The widget runs on the business's own site: each endpoint answers the CORS preflight,
    and any other method is refused (405)."""
    preflight = Client().options(url)
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert preflight["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert Client().get(url).status_code == 405

"""Builder test fixtures: installations, members made through the real services, and payloads
read from ``fixtures/<platform>/``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_httpserver import HTTPServer

from builders.base import SEOUL
from builders.installations import installation_create, webhook_path
from builders.models import BuilderInstallation
from crm.models import Channel, Customer
from crm.services.api_users import api_user_upsert

FIXTURES = Path(__file__).parent / "fixtures"

SHOPS = {
    "shopify": "acme-store.myshopify.com",
    "cafe24": "acmeshop",
    "shopby": "10001",
    "imweb": "S2025090512345",
    "makeshop": "acmemall",
}
SECRETS = {"shopify": "shpss_app_secret", "cafe24": "cafe24-service-key"}


# Builder times in the fixtures (a withdrawal's), and how each builder writes them.
EVENT_TIMES = {
    "withdrawal_date": "%Y-%m-%dT%H:%M:%S+09:00",  # Cafe24
    "withdrawnAt": "%Y-%m-%dT%H:%M:%S+09:00",  # imweb
    "withdrawn_at": "%Y-%m-%d %H:%M:%S",  # MakeShop (KST)
}


def recent() -> datetime:
    """A builder time inside the replay window, the same all hour (so a test's replays match)."""
    return timezone.now().astimezone(SEOUL).replace(minute=0, second=0, microsecond=0)


def payload(platform: str, name: str, *, sent_at: datetime | None = None) -> bytes:
    """A fixture as the builder sends it now: its event time (where it has one) is recent, or
    ``sent_at``; a fixture without one is sent byte for byte."""
    raw = (FIXTURES / platform / name).read_bytes()
    data = json.loads(raw)
    when = (sent_at or recent()).astimezone(SEOUL)
    found = False
    for node in (data, *(v for v in data.values() if isinstance(v, dict))):
        for key, form in EVENT_TIMES.items():
            if key in node:
                node[key] = when.strftime(form)
                found = True
    return json.dumps(data, ensure_ascii=False, indent=2).encode() if found else raw


def payload_json(platform: str, name: str) -> dict[str, Any]:
    return json.loads(payload(platform, name))  # type: ignore[no-any-return]


def member(channel: Channel, member_id: str, **profile: Any) -> Customer:
    return api_user_upsert(
        channel=channel,
        member_id=member_id,
        profile=profile,
        unsubscribe_email=False,
        unsubscribe_texting=False,
    ).customer


Install = Callable[..., BuilderInstallation]


@pytest.fixture
def httpserver() -> Iterator[HTTPServer]:
    """A fake builder on 127.0.0.1, threaded: a request the client gave up on (a timeout) does
    not hold up its retry."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def install() -> Install:
    def make(
        channel: Channel, platform: str, *, shop: str | None = None, **extra: Any
    ) -> BuilderInstallation:
        fields: dict[str, Any] = {"webhook_secret": SECRETS.get(platform, "")}
        fields.update(extra)
        return installation_create(
            channel=channel, platform=platform, shop_id=shop or SHOPS[platform], **fields
        )

    return make


def post(
    installation: BuilderInstallation,
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    path: str | None = None,
) -> tuple[int, dict[str, Any]]:
    response = Client().post(
        path or webhook_path(installation),
        data=body,
        content_type="application/json",
        headers=headers or {},
    )
    return response.status_code, response.json()


def at(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert timezone.is_aware(value)
    return value

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


def payload(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / name).read_bytes()


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

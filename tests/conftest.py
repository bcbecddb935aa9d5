"""Shared fixtures: named managers (owner, admin, agent, outsider), channels, service gating."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from crm.models import Channel, Role
from crm.services.channels import NewChannel, channel_create
from crm.services.memberships import membership_set

IN_CI = os.environ.get("CI", "").lower() == "true"


def _service_missing(item: pytest.Item, why: str) -> None:
    if IN_CI:
        pytest.fail(f"{item.nodeid} needs {why}, which CI must provide", pytrace=False)
    pytest.skip(f"needs {why}")


def _redis_reachable() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Service-backed tests skip on a laptop without the service, and fail in CI."""
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _service_missing(item, "PostgreSQL (DATABASE_URL)")
    if item.get_closest_marker("redis") and not _redis_reachable():
        _service_missing(item, "Redis (REDIS_URL)")


User = get_user_model()


def make_user(username: str, **extra: Any) -> Any:
    return User.objects.create_user(username=username, password="pw-" + username, **extra)


@pytest.fixture
def owner(db: None) -> Any:
    return make_user("owner", email="owner@example.com")


@pytest.fixture
def new_channel(owner: Any) -> NewChannel:
    return channel_create(slug="acme", name="Acme 상점", owner=owner)


@pytest.fixture
def channel(new_channel: NewChannel) -> Channel:
    return new_channel.channel


@pytest.fixture
def admin_manager(channel: Channel) -> Any:
    user = make_user("admin")
    membership_set(channel=channel, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def agent(channel: Channel) -> Any:
    user = make_user("agent")
    membership_set(channel=channel, user=user, role=Role.AGENT)
    return user


@pytest.fixture
def other_owner(db: None) -> Any:
    return make_user("other_owner")


@pytest.fixture
def other_channel(other_owner: Any) -> Channel:
    return channel_create(slug="globex", name="Globex", owner=other_owner).channel


@pytest.fixture
def outsider(other_channel: Channel, other_owner: Any) -> Any:
    """A manager of another channel only."""
    user = make_user("outsider")
    membership_set(channel=other_channel, user=user, role=Role.ADMIN)
    return user

"""The back-office builders page (R5.1, R8.1, R8.2): managers who may import start a pull and
follow it; others do not see another channel's builders."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_httpserver import HTTPServer

from builders.models import BuilderInstallation, BuilderPull, PullStatus
from builders.pulls import builder_pull_run
from crm.models import Channel, Customer
from tests.builders.conftest import Install
from tests.builders.fakes import FakeShopify, shopify_customer
from tests.builders.test_pulls import FAST_RETRIES, INSTALLED

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def shopify(channel: Channel, install: Install, httpserver: HTTPServer) -> BuilderInstallation:
    return install(
        channel,
        "shopify",
        access_token="shpat_x",
        api_base_url=httpserver.url_for("/admin/api/2025-01"),
        installed_at=INSTALLED,
    )


def test_the_page_lists_builders_with_their_webhook_urls(
    owner: Any, channel: Channel, shopify: BuilderInstallation, install: Install
) -> None:
    install(channel, "shopby")
    page = login(owner).get(f"/builders/{channel.slug}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert shopify.webhook_token in text
    assert "Pull customers registered before installation" in text
    assert "Shopby signs no webhook" in text


@FAST_RETRIES
def test_r5_1_an_owner_starts_a_pull_from_the_back_office(
    owner: Any,
    channel: Channel,
    shopify: BuilderInstallation,
    httpserver: HTTPServer,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakeShopify(httpserver, [shopify_customer(i, INSTALLED.replace(year=2024)) for i in range(30)])
    dispatched: list[int] = []
    monkeypatch.setattr("builders.tasks.run_pull_task.delay", dispatched.append)
    client = login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/builders/{channel.slug}/pull/shopify/")
    pull = BuilderPull.objects.get()
    assert dispatched == [pull.pk]  # handed to a worker once the request commits
    location = f"/builders/{channel.slug}/pulls/{pull.pk}/"
    assert (answer.status_code, answer["Location"]) == (302, location)
    waiting = client.get(location)
    assert b'http-equiv="refresh"' in waiting.content  # the page follows the pull
    pull = builder_pull_run(pull.pk)  # what the worker does
    assert pull.status == PullStatus.SUCCEEDED and pull.requested_by == owner
    assert Customer.objects.filter(channel=channel).count() == 30
    detail = client.get(location)
    assert detail.status_code == 200 and b'http-equiv="refresh"' not in detail.content
    assert "30 created" in detail.content.decode()
    assert pull.import_job is not None and pull.import_job.requested_by == owner


def test_r8_1_an_agent_may_not_pull_and_an_outsider_sees_nothing(
    agent: Any, outsider: Any, channel: Channel, shopify: BuilderInstallation
) -> None:
    assert login(agent).get(f"/builders/{channel.slug}/").status_code == 403
    assert login(agent).post(f"/builders/{channel.slug}/pull/shopify/").status_code == 403
    assert login(outsider).get(f"/builders/{channel.slug}/").status_code == 404
    assert login(outsider).post(f"/builders/{channel.slug}/pull/shopify/").status_code == 404
    assert not BuilderPull.objects.exists()
    assert Client().get(f"/builders/{channel.slug}/").status_code == 302  # to the login


def test_a_refused_pull_says_why(owner: Any, channel: Channel, install: Install) -> None:
    install(channel, "shopby")
    client = login(owner)
    answer = client.post(f"/builders/{channel.slug}/pull/shopby/", follow=True)
    assert "cannot be pulled" in answer.content.decode()
    answer = client.post(f"/builders/{channel.slug}/pull/wix/", follow=True)
    assert "unknown builder" in answer.content.decode().lower()
    assert not BuilderPull.objects.exists()

"""Cancelling a builder pull from its page (R2.24, R5.1), as imports and deletions are: queued,
it ends at once; fetching, it stops before the next page and imports nothing; importing, its
import stops at the next chunk, keeping what it imported, and the pull ends cancelled. English
and Korean."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_httpserver import HTTPServer

from builders.models import BuilderInstallation, BuilderPull, PullStatus
from builders.pulls import builder_pull_request, builder_pull_run
from crm.models import Channel, Customer
from importer.models import ImportJob
from tests.builders.fakes import FakeShopify
from tests.builders.test_pulls import FAST_RETRIES, shopify, shopify_customers  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, pull: BuilderPull) -> str:
    response = client.get(reverse("builders:pull", args=[pull.channel.slug, pull.pk]))
    assert response.status_code == 200
    return response.content.decode()


def cancel(client: Client, pull: BuilderPull) -> list[str]:
    answer = client.post(
        reverse("builders:pull_cancel", args=[pull.channel.slug, pull.pk]), follow=True
    )
    assert answer.status_code == 200
    return [str(m) for m in answer.context["messages"]]


@FAST_RETRIES
def test_r2_24_a_queued_pull_cancelled_fetches_nothing(
    owner: Any,
    channel: Channel,
    shopify: BuilderInstallation,  # noqa: F811
    httpserver: HTTPServer,
) -> None:
    fake = FakeShopify(httpserver, shopify_customers(600))
    pull = builder_pull_request(channel=channel, platform="shopify", by=None)
    client = login(owner)
    assert "Cancel pull" in page(client, pull)
    assert cancel(client, pull) == [f"Pull #{pull.pk} is cancelled."]
    assert builder_pull_run(pull.pk).status == PullStatus.CANCELLED  # a late delivery: nothing
    assert fake.pages_served == 0 and not Customer.objects.exists()
    assert "Cancel pull" not in page(client, pull)
    assert cancel(client, pull) == [f"Pull #{pull.pk} had already ended."]


@FAST_RETRIES
def test_r2_24_a_pull_cancelled_while_fetching_stops_at_the_next_page(
    owner: Any,
    channel: Channel,
    shopify: BuilderInstallation,  # noqa: F811
    httpserver: HTTPServer,
) -> None:
    fake = FakeShopify(httpserver, shopify_customers(600))
    pull = builder_pull_request(channel=channel, platform="shopify", by=None)
    client = login(owner)
    notes: list[list[str]] = []

    def progress(p: BuilderPull, job: ImportJob | None) -> None:
        if not notes:
            notes.append(cancel(client, pull))

    done = builder_pull_run(pull.pk, progress=progress)
    assert "stops at its next page or chunk" in notes[0][0]
    assert (done.status, done.pages, done.error) == (PullStatus.CANCELLED, 1, "Cancelled by owner.")
    # The page being fetched when the cancel came is dropped; the third is never asked for.
    assert fake.pages_served == 2
    assert not ImportJob.objects.exists() and not Customer.objects.exists()


@FAST_RETRIES
def test_r2_24_a_pull_cancelled_while_importing_keeps_what_it_imported(
    owner: Any,
    channel: Channel,
    shopify: BuilderInstallation,  # noqa: F811
    httpserver: HTTPServer,
    settings: Any,
) -> None:
    settings.IMPORT_CHUNK_ROWS = 100
    settings.IMPORT_PIPELINE = False  # the chunk the cancel follows is the last one written
    FakeShopify(httpserver, shopify_customers(600))
    pull = builder_pull_request(channel=channel, platform="shopify", by=None)
    client = login(owner)
    seen: list[str] = []

    def progress(p: BuilderPull, job: ImportJob | None) -> None:
        if job is not None and job.rows_done and not seen:
            seen.append(page(client, pull))
            cancel(client, pull)
            seen.append(page(client, pull))

    done = builder_pull_run(pull.pk, progress=progress)
    assert "Cancel pull" in seen[0] and "Cancelling…" in seen[1]
    assert done.status == PullStatus.CANCELLED
    job = done.import_job
    assert job is not None and job.status == "cancelled"
    assert Customer.objects.filter(channel=channel).count() == job.created == 100


def test_r2_24_cancelling_a_pull_needs_a_post_and_the_import_grant(
    channel: Channel,
    owner: Any,
    agent: Any,
    outsider: Any,
    shopify: BuilderInstallation,  # noqa: F811
) -> None:
    pull = builder_pull_request(channel=channel, platform="shopify", by=None)
    url = reverse("builders:pull_cancel", args=[channel.slug, pull.pk])
    assert login(owner).get(url).status_code == 405
    for user in (agent, outsider):
        assert login(user).post(url).status_code in (403, 404), user
    pull.refresh_from_db()
    assert (pull.status, pull.cancel_requested) == (PullStatus.QUEUED, False)


@pytest.mark.usefixtures("korean")
def test_r11_1_cancelling_a_pull_reads_in_korean(
    owner: Any,
    channel: Channel,
    shopify: BuilderInstallation,  # noqa: F811
) -> None:
    pull = builder_pull_request(channel=channel, platform="shopify", by=None)
    client = login(owner)
    assert "고객 가져오기 취소" in page(client, pull)
    assert cancel(client, pull) == [f"고객 가져오기 #{pull.pk}를 취소했습니다."]

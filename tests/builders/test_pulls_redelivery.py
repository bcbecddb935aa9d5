"""A queued pull delivered more than once (R2.24, R5.1): Celery's late acks, the reaper, a
hand-back. One delivery fetches and imports; the others touch neither the builder nor the
channel. Real threads on PostgreSQL, each with its own connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from pytest_httpserver import HTTPServer

from builders.models import BuilderInstallation, BuilderPull, PullStatus
from builders.pulls import builder_pull_request, builder_pull_run
from crm.models import Channel, Customer
from importer.models import ImportJob
from tests.builders.fakes import FakeShopify
from tests.builders.test_pulls import FAST_RETRIES, shopify, shopify_customers  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@FAST_RETRIES
def test_r2_24_three_deliveries_of_one_pull_fetch_and_import_once(
    channel: Channel,
    shopify: BuilderInstallation,  # noqa: F811
    httpserver: HTTPServer,
) -> None:
    fake = FakeShopify(httpserver, shopify_customers(600))
    queued = builder_pull_request(channel=channel, platform="shopify", by=None)
    barrier = threading.Barrier(3, timeout=30)
    ended: list[str] = []

    def deliver() -> None:
        try:
            barrier.wait()
            ended.append(builder_pull_run(queued.pk).status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    pull = BuilderPull.objects.get(pk=queued.pk)
    assert (pull.status, pull.attempts, pull.fetched) == (PullStatus.SUCCEEDED, 1, 600)
    assert fake.pages_served == 3  # 250 + 250 + 100: the builder was read once
    (job,) = ImportJob.objects.filter(channel=channel)  # one import of the pull
    assert (job.status, job.created, job.updated, job.attempts) == ("succeeded", 600, 0, 1)
    assert Customer.objects.filter(channel=channel).count() == 600
    # The deliveries that lost the claim returned at once, with the pull as it stood then.
    assert len(ended) == 3 and ended.count(PullStatus.SUCCEEDED) >= 1
    assert builder_pull_run(queued.pk).attempts == 1  # delivered after the end: nothing

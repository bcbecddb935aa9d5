"""A 50,000-customer Shopify pull (200 cursor pages of 250, with failures on the way) through
the import engine on PostgreSQL: exact counts, nothing lost or doubled, in bounded time."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from pytest_httpserver import HTTPServer

from builders.models import BuilderInstallation, PullStatus
from builders.pulls import builder_pull_request, builder_pull_run
from crm.models import Channel, Customer
from crm.selectors import channel_mu
from tests.builders.conftest import Install
from tests.builders.fakes import FakeShopify, shopify_customer
from tests.builders.test_pulls import INSTALLED

N = 50_000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(
    BUILDER_HTTP_TIMEOUT=0.5,
    BUILDER_HTTP_ATTEMPTS=4,
    BUILDER_HTTP_BACKOFF=0.01,
    BUILDER_HTTP_BACKOFF_MAX=0.05,
)
def test_r5_1_a_50000_customer_shopify_pull_is_exact(
    channel: Channel, install: Install, httpserver: HTTPServer
) -> None:
    shop: BuilderInstallation = install(
        channel,
        "shopify",
        access_token="shpat_x",
        api_base_url=httpserver.url_for("/admin/api/2025-01"),
        installed_at=INSTALLED,
    )
    start = INSTALLED - timedelta(days=900)
    customers = [shopify_customer(i, start + timedelta(minutes=i)) for i in range(N)]
    customers += [shopify_customer(N + i, INSTALLED + timedelta(days=1)) for i in range(25)]
    fake = FakeShopify(
        httpserver,
        customers,
        failures={7: "429", 50: "500", 120: "timeout", 121: "502", 199: "429"},
    )
    began = time.monotonic()
    pull = builder_pull_run(
        builder_pull_request(channel=channel, platform=shop.platform, by=None).pk
    )
    took = time.monotonic() - began
    assert pull.status == PullStatus.SUCCEEDED, pull.error
    assert (pull.fetched, pull.pages, pull.retries) == (N, 200, 5)
    job = pull.import_job
    assert job is not None
    assert (job.created, job.updated, job.failed, job.rows_total, job.rows_done) == (N, 0, 0, N, N)
    assert Customer.objects.filter(channel=channel).count() == N
    assert channel_mu(channel) == N
    assert fake.pages_served == 200
    assert pull.started_at and job.started_at and job.finished_at
    fetch = (job.created_at - pull.started_at).total_seconds()
    imported = (job.finished_at - job.started_at).total_seconds()
    print(
        f"\n{N:,}-customer Shopify pull: {took:.1f} s; fetch {fetch:.1f} s, import {imported:.1f} s"
    )

"""R2.16b: a site builder's pull records its customers' consent with the builder as the source
(its platform, and the import that wrote them), and a second pull records only what changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer

from builders.models import BuilderInstallation, PullStatus
from crm.models import Channel, ConsentChange, Customer
from tests.builders import test_pulls
from tests.builders.fakes import FakeShopify, shopify_customer
from tests.builders.test_pulls import FAST_RETRIES, INSTALLED, pull

pytestmark = pytest.mark.django_db

shopify = test_pulls.shopify  # the fixture: Shopify installed on the channel


@FAST_RETRIES
def test_r2_16b_a_pull_records_consent_as_the_builders(
    channel: Channel,
    shopify: BuilderInstallation,
    httpserver: HTTPServer,
) -> None:
    customers = [shopify_customer(i, INSTALLED - timedelta(days=9)) for i in range(4)]
    fake = FakeShopify(httpserver, customers)
    first = pull(channel, "shopify")
    assert first.status == PullStatus.SUCCEEDED, first.error
    entries = ConsentChange.objects.filter(channel=channel)
    assert entries.count() == 8  # two flags of four new members
    assert set(entries.values_list("source", "label", "reference")) == {
        ("builder", "shopify", first.import_job_id)
    }
    one = Customer.objects.get(channel=channel, email="customer1@example.com")
    assert one.unsubscribe_email is False  # subscribed on Shopify
    customers[1]["email_marketing_consent"] = {"state": "unsubscribed"}
    fake.customers = customers
    second = pull(channel, "shopify")
    assert second.status == PullStatus.SUCCEEDED, second.error
    assert [
        (c.key, c.old, c.new, c.source, c.reference)
        for c in ConsentChange.objects.filter(customer=one).order_by("at", "id")
    ][2:] == [("unsubscribeEmail", False, True, "builder", second.import_job_id)]

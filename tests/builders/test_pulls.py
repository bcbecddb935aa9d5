"""Customer pulls (R5.1): Cafe24 and Shopify customers registered before installation, page by
page from a fake builder on 127.0.0.1 that fails now and then, imported through the import
engine with its lock, counts and failure log."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from pytest_httpserver import HTTPServer

from builders.models import BuilderInstallation, BuilderPull, PullStatus
from builders.pulls import builder_pull_request, builder_pull_run
from crm.models import Channel, Customer
from importer.jobs import ImportLocked
from importer.models import ImportFailure, ImportJob
from tests.builders.conftest import Install, member
from tests.builders.fakes import FakeCafe24, FakeShopify, cafe24_customer, shopify_customer

pytestmark = pytest.mark.django_db

INSTALLED = datetime(2025, 5, 4, 0, 0, tzinfo=UTC)
FAST_RETRIES = override_settings(
    BUILDER_HTTP_TIMEOUT=0.3,
    BUILDER_HTTP_ATTEMPTS=4,
    BUILDER_HTTP_BACKOFF=0.01,
    BUILDER_HTTP_BACKOFF_MAX=0.05,
)


def shopify_customers(n: int, *, after_install: int = 0) -> list[dict[str, object]]:
    before = [
        shopify_customer(i, INSTALLED - timedelta(days=400) + timedelta(minutes=i))
        for i in range(n)
    ]
    after = [
        shopify_customer(n + i, INSTALLED + timedelta(hours=1 + i)) for i in range(after_install)
    ]
    return before + after


@pytest.fixture
def shopify(channel: Channel, install: Install, httpserver: HTTPServer) -> BuilderInstallation:
    return install(
        channel,
        "shopify",
        access_token="shpat_x",
        api_base_url=httpserver.url_for("/admin/api/2025-01"),
        installed_at=INSTALLED,
    )


def pull(channel: Channel, platform: str) -> BuilderPull:
    request = builder_pull_request(channel=channel, platform=platform, by=None)
    return builder_pull_run(request.pk)


@FAST_RETRIES
def test_r5_1_shopify_pull_retries_and_imports_every_customer_once(
    channel: Channel, shopify: BuilderInstallation, httpserver: HTTPServer
) -> None:
    fake = FakeShopify(
        httpserver,
        shopify_customers(1_100, after_install=7),
        failures={2: "429", 3: "500", 5: "timeout", 6: "502"},
    )
    done = pull(channel, "shopify")
    assert done.status == PullStatus.SUCCEEDED, done.error
    assert (done.fetched, done.pages, done.retries) == (1_100, 5, 4)
    assert fake.failed == 4 and fake.pages_served == 5
    job = done.import_job
    assert job is not None
    assert (job.status, job.origin, job.kind) == ("succeeded", "builder:shopify", "member")
    assert (job.created, job.updated, job.failed, job.rows_total) == (1_100, 0, 0, 1_100)
    members = Customer.objects.filter(channel=channel)
    assert members.count() == 1_100  # nothing lost, nothing doubled
    assert not members.filter(member_id=str(7_000_000_000 + 1_100)).exists()  # after install
    one = members.get(member_id="7000000001")
    assert (one.name, one.email, one.mobile_number) == (
        "First1 김",
        "customer1@example.com",
        "+821020000001",
    )
    assert (one.unsubscribe_email, one.unsubscribe_texting, one.verified) == (False, True, True)
    assert members.get(member_id="7000000003").mobile_number is None  # no phone in Shopify


@FAST_RETRIES
def test_r5_1_a_pull_updates_members_the_channel_already_has(
    channel: Channel, shopify: BuilderInstallation, httpserver: HTTPServer
) -> None:
    known = member(channel, "7000000002", name="Known", landlineNumber="+8225556666")
    FakeShopify(httpserver, shopify_customers(10))
    done = pull(channel, "shopify")
    assert done.import_job is not None
    assert (done.import_job.created, done.import_job.updated) == (9, 1)
    known.refresh_from_db()
    # Keep-empty policy: the builder's empty landline leaves ours; its name wins.
    assert (known.name, known.landline_number) == ("First2 김", "+8225556666")


@FAST_RETRIES
def test_r2_15_a_customer_our_parsers_refuse_is_in_the_failure_log(
    channel: Channel, shopify: BuilderInstallation, httpserver: HTTPServer
) -> None:
    customers = shopify_customers(5)
    customers[3]["email"] = "not an email"
    FakeShopify(httpserver, customers)
    done = pull(channel, "shopify")
    job = done.import_job
    assert job is not None and (job.created, job.failed) == (4, 1)
    failure = ImportFailure.objects.get(job=job)
    assert failure.row_number == 5 and failure.columns == ["email"]


@FAST_RETRIES
def test_a_builder_that_keeps_failing_fails_the_pull_and_imports_nothing(
    channel: Channel, shopify: BuilderInstallation, httpserver: HTTPServer
) -> None:
    fake = FakeShopify(httpserver, shopify_customers(300), failures={n: "500" for n in range(2, 9)})
    done = pull(channel, "shopify")
    assert done.status == PullStatus.FAILED
    assert "failed 4 times" in done.error and "500" in done.error
    assert fake.requests == 5  # one page, then four attempts at the second: bounded
    assert done.import_job is None and not ImportJob.objects.exists()
    assert not Customer.objects.filter(channel=channel).exists()


@FAST_RETRIES
def test_a_refused_token_is_not_retried(
    channel: Channel, shopify: BuilderInstallation, httpserver: HTTPServer
) -> None:
    fake = FakeShopify(httpserver, shopify_customers(3), token="another")
    done = pull(channel, "shopify")
    assert done.status == PullStatus.FAILED and "401" in done.error
    assert fake.requests == 1


def test_r2_17_a_pull_is_refused_while_an_import_runs(
    channel: Channel, shopify: BuilderInstallation
) -> None:
    ImportJob.objects.create(
        channel=channel, filename="x.csv", kind="member", identity="memberId", status="running"
    )
    with pytest.raises(ImportLocked):
        builder_pull_request(channel=channel, platform="shopify", by=None)
    assert not BuilderPull.objects.exists()


def test_only_one_pull_per_builder_at_a_time(
    channel: Channel, shopify: BuilderInstallation
) -> None:
    from django.core.exceptions import ValidationError

    builder_pull_request(channel=channel, platform="shopify", by=None)
    with pytest.raises(ValidationError, match="already running"):
        builder_pull_request(channel=channel, platform="shopify", by=None)


def test_r5_3_other_builders_cannot_be_pulled(channel: Channel, install: Install) -> None:
    from django.core.exceptions import ValidationError

    install(channel, "shopby")
    with pytest.raises(ValidationError, match="cannot be pulled"):
        builder_pull_request(channel=channel, platform="shopby", by=None)
    with pytest.raises(ValidationError, match="not connected"):
        builder_pull_request(channel=channel, platform="cafe24", by=None)


def test_a_pull_claimed_twice_runs_once(channel: Channel, shopify: BuilderInstallation) -> None:
    request = builder_pull_request(channel=channel, platform="shopify", by=None)
    BuilderPull.objects.filter(pk=request.pk).update(status=PullStatus.SUCCEEDED)
    assert builder_pull_run(request.pk).status == PullStatus.SUCCEEDED  # nothing to do


# --- Cafe24: date windows under the offset cap -------------------------------------------------
def cafe24_customers() -> list[dict[str, object]]:
    """230 members: most over 40 days, a burst of 27 on one day, and 3 after installation."""
    customers = []
    first = date(2020, 3, 1)
    for i in range(200):
        customers.append(cafe24_customer(i, first + timedelta(days=i % 40)))
    for i in range(200, 227):
        customers.append(cafe24_customer(i, date(2021, 7, 15)))
    for i in range(227, 230):
        customers.append(cafe24_customer(i, date(2025, 5, 5)))  # after installation
    return customers


@pytest.fixture
def cafe24(channel: Channel, install: Install, httpserver: HTTPServer) -> BuilderInstallation:
    return install(
        channel,
        "cafe24",
        access_token="cafe24-access",
        api_base_url=httpserver.url_for("/api/v2"),
        installed_at=INSTALLED,
    )


@FAST_RETRIES
@override_settings(
    BUILDER_CAFE24_PAGE_SIZE=10, BUILDER_CAFE24_OFFSET_MAX=20, BUILDER_CAFE24_EARLIEST="2019-01-01"
)
def test_r5_1_cafe24_pull_works_around_the_offset_cap_with_date_windows(
    channel: Channel, cafe24: BuilderInstallation, httpserver: HTTPServer
) -> None:
    fake = FakeCafe24(
        httpserver, cafe24_customers(), offset_max=20, failures={4: "429", 9: "500", 12: "timeout"}
    )
    done = pull(channel, "cafe24")
    assert done.status == PullStatus.SUCCEEDED, done.error
    assert done.fetched == 227 and done.retries == 3
    assert fake.largest_offset <= 20
    job = done.import_job
    assert job is not None and (job.created, job.failed, job.origin) == (227, 0, "builder:cafe24")
    members = Customer.objects.filter(channel=channel)
    assert members.count() == 227
    kim = members.get(member_id="member000005")
    assert (kim.mobile_number, kim.landline_number) == ("+821020050005", "+8225556666")
    assert (kim.unsubscribe_texting, kim.unsubscribe_email) == (False, False)
    assert members.get(member_id="member000006").unsubscribe_texting is True


@FAST_RETRIES
@override_settings(
    BUILDER_CAFE24_PAGE_SIZE=10, BUILDER_CAFE24_OFFSET_MAX=10, BUILDER_CAFE24_EARLIEST="2019-01-01"
)
def test_cafe24_a_day_beyond_the_cap_fails_with_the_reason(
    channel: Channel, cafe24: BuilderInstallation, httpserver: HTTPServer
) -> None:
    FakeCafe24(httpserver, cafe24_customers(), offset_max=10)
    done = pull(channel, "cafe24")
    assert done.status == PullStatus.FAILED
    assert "27 customers registered on 2021-07-15" in done.error
    assert not Customer.objects.filter(channel=channel).exists()


def test_cafe24_maps_a_real_page(channel: Channel) -> None:
    from builders.cafe24 import Cafe24
    from tests.builders.conftest import payload_json

    page = payload_json("cafe24", "customersprivacy_page.json")["customersprivacy"]
    rows = [Cafe24().customer_row(c) for c in page]
    assert rows[0] == {
        "memberId": "kim123",
        "name": "김민지",
        "email": "minji@example.kr",
        "mobileNumber": "+821020203030",
        "landlineNumber": "+8225556666",
        "unsubscribeEmail": "true",
        "unsubscribeTexting": "false",
    }
    assert (rows[1]["mobileNumber"], rows[1]["landlineNumber"], rows[1]["email"]) == ("", "", "")


def test_shopify_maps_a_real_page() -> None:
    from builders.shopify import Shopify
    from tests.builders.conftest import payload_json

    page = payload_json("shopify", "customers_page.json")["customers"]
    rows = [Shopify().customer_row(c) for c in page]
    # A North American number may be either: our parser accepts it as a mobile.
    assert (rows[0]["mobileNumber"], rows[0]["landlineNumber"]) == ("+16136120707", "")
    assert (rows[0]["unsubscribeEmail"], rows[0]["unsubscribeTexting"]) == ("false", "true")
    assert (rows[1]["name"], rows[1]["mobileNumber"]) == ("민지 김", "+821020203030")
    assert (rows[1]["unsubscribeEmail"], rows[1]["unsubscribeTexting"]) == ("true", "false")
    assert (rows[2]["name"], rows[2]["landlineNumber"], rows[2]["email"]) == (
        "Seoul Office",
        "+8225556666",
        "",
    )


# --- the command line --------------------------------------------------------------------------
@FAST_RETRIES
def test_builder_pull_command(
    channel: Channel, shopify: BuilderInstallation, httpserver: HTTPServer
) -> None:
    FakeShopify(httpserver, shopify_customers(260), failures={1: "429"})
    out = StringIO()
    call_command("builder_pull", channel.slug, "shopify", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result | {"import": None} == {
        "status": "succeeded",
        "fetched": 260,
        "pages": 2,
        "retries": 1,
        "import": None,
        "created": 260,
        "updated": 0,
        "failed": 0,
        "error": None,
    }
    with pytest.raises(CommandError, match="not connected"):
        call_command("builder_pull", channel.slug, "cafe24")
    with pytest.raises(CommandError, match="no channel"):
        call_command("builder_pull", "nope", "shopify")


@pytest.mark.parametrize(
    ("phone", "sorted_"),
    [
        ("010-1234-5678", ("+821012345678", "")),
        ("02-555-6666", ("", "+8225556666")),
        ("+1 650-253-0000", ("+16502530000", "")),
        ("821012345678", ("+821012345678", "")),  # the "+" lost, read by its country code
        ("국번없이 114", ("", "")),
        (None, ("", "")),
    ],
)
def test_r2_13a_builder_phones_are_read_in_korea_by_phonenumbers(
    phone: str | None, sorted_: tuple[str, str]
) -> None:
    from builders.phones import sort_phone

    assert sort_phone(phone) == sorted_

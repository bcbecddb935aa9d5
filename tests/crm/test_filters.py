"""CustomerFilter, the contacts filter shared by the admin, API, export and bulk delete (R1.4)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.filters import CustomerFilter, phone_fragment
from crm.models import Channel, Customer, CustomerImportTag, CustomerTag, ImportTag, Tag
from crm.selectors import contacts

SEOUL = dt.timezone(dt.timedelta(hours=9))


def make(channel: Channel, name: str, **fields: Any) -> Customer:
    return Customer.objects.create(channel=channel, name=name, **fields)


def names(channel: Channel, **params: str) -> set[str]:
    found = CustomerFilter(params, queryset=contacts(channel), channel=channel).qs
    return set(found.values_list("name", flat=True))


@pytest.fixture
def crowd(channel: Channel) -> dict[str, Customer]:
    return {
        "kim": make(
            channel,
            "김민준",
            email="minjun.kim@example.com",
            mobile_number="+821020203030",
            unsubscribe_email=True,
            unsubscribe_texting=False,
        ),
        "lee": make(
            channel,
            "이서연",
            email="seoyeon@example.co.kr",
            member_id="M-1001",
            unsubscribe_email=False,
        ),
        "alice": make(channel, "Alice Park", mobile_number="+821055556666"),
        "bob": make(channel, "Bob Smith", email="bob@example.com", member_id="20203030"),
    }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("010-2020-3030", "1020203030"),
        ("+82 10-2020-3030", "+821020203030"),
        ("+82 010-2020-3030", "+821020203030"),  # the trunk 0 dropped, as stored
        ("+82 10 2020", "+82102020"),
        ("(02) 555 6666", "25556666"),
        ("2020", "2020"),
        ("030", "030"),
        ("12", None),  # too short for a phone fragment
        ("M-1001", None),
        ("김민준", None),
    ],
)
def test_r1_4_phone_fragment_matches_the_stored_e164(text: str, fragment: str | None) -> None:
    assert phone_fragment(text) == fragment


def test_r1_4_search_by_name_email_mobile_member_id(
    channel: Channel, crowd: dict[str, Customer]
) -> None:
    assert names(channel, q="김민준") == {"김민준"}
    assert names(channel, q="김") == {"김민준"}
    assert names(channel, q="ALICE") == {"Alice Park"}
    assert names(channel, q="Minjun.Kim@") == {"김민준"}
    assert names(channel, q="example.co.kr") == {"이서연"}
    assert names(channel, q="@example.com") == {"김민준", "Bob Smith"}
    assert names(channel, q="010-2020-3030") == {"김민준"}
    assert names(channel, q="+82 10 5555 6666") == {"Alice Park"}
    assert names(channel, q="M-1001") == {"이서연"}
    # Digits search mobile numbers and memberIds at once.
    assert names(channel, q="20203030") == {"김민준", "Bob Smith"}
    # A whole national number is the stored E.164 one (the channel's country, R2.13a).
    assert names(channel, q="01020203030") == {"김민준"}
    assert names(channel, q="   ") == {"김민준", "이서연", "Alice Park", "Bob Smith"}


def test_r1_4_a_short_search_finds_names_by_their_start_and_a_short_member_id_whole(
    channel: Channel, crowd: dict[str, Customer]
) -> None:
    """One or two letters search names from their start (issue 15: the prefix index alone, so a
    count stops at its bound) and still find a memberId that short, whole."""
    make(channel, "Carol", member_id="이")
    make(channel, "Dave", member_id="김x")
    assert names(channel, q="이") == {"이서연", "Carol"}
    assert names(channel, q="김") == {"김민준"}
    assert names(channel, q="Al") == {"Alice Park"}
    assert names(channel, q="ca") == {"Carol"}


def test_r1_4_filter_by_type(channel: Channel, crowd: dict[str, Customer]) -> None:
    assert names(channel, type="member") == {"이서연", "Bob Smith"}
    assert names(channel, type="lead") == {"김민준", "Alice Park"}


def test_r1_4_filter_by_tag_and_import_tag(channel: Channel, crowd: dict[str, Customer]) -> None:
    vip = Tag.objects.create(channel=channel, name="VIP/골드")
    CustomerTag.objects.create(channel=channel, customer=crowd["kim"], tag=vip)
    spring = ImportTag.objects.create(channel=channel, name="봄 행사.csv")
    for person in (crowd["lee"], crowd["bob"]):
        CustomerImportTag.objects.create(
            channel=channel, customer=person, import_tag=spring, added_at=timezone.now()
        )
    assert names(channel, tag="VIP/골드") == {"김민준"}
    assert names(channel, importTag="봄 행사.csv") == {"이서연", "Bob Smith"}
    assert names(channel, importTag="봄 행사.csv", q="bob") == {"Bob Smith"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"unsubscribeEmail": "yes"}, {"김민준"}),
        ({"unsubscribeEmail": "no"}, {"이서연"}),
        ({"unsubscribeEmail": "unset"}, {"Alice Park", "Bob Smith"}),
        ({"unsubscribeTexting": "no"}, {"김민준"}),
        ({"unsubscribeTexting": "unset"}, {"이서연", "Alice Park", "Bob Smith"}),
    ],
)
def test_r1_4_filter_by_unsubscribe_flags(
    channel: Channel, crowd: dict[str, Customer], params: dict[str, str], expected: set[str]
) -> None:
    assert names(channel, **params) == expected


def test_r1_4_date_ranges_are_whole_days_in_the_channels_time_zone(channel: Channel) -> None:
    at = {
        "early": dt.datetime(2025, 5, 4, 0, 30, tzinfo=SEOUL),  # 2025-05-03 15:30 UTC
        "late": dt.datetime(2025, 5, 4, 23, 59, tzinfo=SEOUL),
        "next": dt.datetime(2025, 5, 5, 0, 0, tzinfo=SEOUL),
    }
    for name, when in at.items():
        person = make(channel, name, last_seen_at=when)
        Customer.objects.filter(pk=person.pk).update(created_at=when)
    make(channel, "never seen")
    day = {"From": "2025-05-04", "To": "2025-05-04"}
    assert names(channel, createdFrom=day["From"], createdTo=day["To"]) == {"early", "late"}
    assert names(channel, lastSeenFrom="2025-05-05") == {"next"}
    assert names(channel, lastSeenTo="2025-05-04") == {"early", "late"}


def test_r1_4_invalid_values_are_reported_and_ignored(
    channel: Channel, crowd: dict[str, Customer]
) -> None:
    f = CustomerFilter(
        {"createdFrom": "2025/05/04", "type": "vip"}, queryset=contacts(channel), channel=channel
    )
    assert set(f.errors) == {"createdFrom", "type"}
    assert f.qs.count() == 4
    assert not f.is_active


def test_r4_2_blocked_customers_are_never_found(
    channel: Channel, crowd: dict[str, Customer]
) -> None:
    Customer.objects.filter(pk=crowd["kim"].pk).update(blocked=True)
    assert names(channel, q="김민준") == set()
    assert names(channel, q="010-2020-3030") == set()
    assert names(channel, unsubscribeEmail="yes") == set()


def test_r8_2_tag_choices_are_the_channels_own(
    channel: Channel, other_channel: Channel, crowd: dict[str, Customer]
) -> None:
    Tag.objects.create(channel=other_channel, name="globex-tag")
    ImportTag.objects.create(channel=other_channel, name="globex.csv")
    mine = Tag.objects.create(channel=channel, name="acme-tag")
    f = CustomerFilter({}, queryset=contacts(channel), channel=channel)
    choices = [label for _, label in f.form.fields["tag"].choices]
    assert "acme-tag" in choices and "globex-tag" not in choices
    assert "globex.csv" not in [label for _, label in f.form.fields["importTag"].choices]
    # Another channel's tag name is not a valid value.
    f = CustomerFilter({"tag": "globex-tag"}, queryset=contacts(channel), channel=channel)
    assert "tag" in f.errors
    assert mine.name in [label for _, label in f.form.fields["tag"].choices]


# --- PostgreSQL: the search is served by indexes (R1.4, SPEC §10) ----------------------------


# The trigram index is asked for the fragment alone: its channel entry lists the whole channel.
_TRGM_CONDITION = re.compile(r"Bitmap Index Scan on customer_\w+_trgm .*\n\s+Index Cond: (.*)")


def _plans(filterset: CustomerFilter) -> list[str]:
    """EXPLAIN of the queries the contacts list runs: a page of rows, and the count."""
    with CaptureQueriesContext(connection) as captured:
        list(filterset.qs.order_by("-id")[:50])
        filterset.qs.count()
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN {query['sql']}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.postgres
def test_r1_4_search_uses_indexes_not_a_sequential_scan(
    channel: Channel, other_channel: Channel
) -> None:
    surnames = "김이박최정강조윤장임"
    given = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
    rows = []
    for i in range(6000):
        target = channel if i % 3 else other_channel
        rows.append(
            Customer(
                channel=target,
                name=f"{surnames[i % 10]}{given[(i // 10) % 10]}{i}" if i % 2 else f"Customer {i}",
                email=f"user{i}@example{i % 50}.com",
                mobile_number=f"+8210{20000000 + i * 7919 % 79999999:08d}",
                member_id=f"M{i}" if i % 4 == 0 else None,
                blocked=i % 97 == 0,
            )
        )
    Customer.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        # Rows just inserted wait in the GIN indexes' pending lists, which the planner prices
        # as a full read, until (auto)vacuum merges them; merge them now, as a table that has
        # lived a while has them merged, then refresh the statistics.
        for index in ("name", "email", "mobile"):
            cursor.execute(
                "SELECT gin_clean_pending_list(%s::regclass)", [f"customer_{index}_trgm"]
            )
        cursor.execute("ANALYZE crm_customer")

    for query in ("김민준12", "Customer 42", "user42@example", "example7.com", "010-2000-7919"):
        filterset = CustomerFilter({"q": query}, queryset=contacts(channel), channel=channel)
        plans = _plans(filterset)
        for plan in plans:
            assert "Seq Scan on crm_customer" not in plan, f"{query!r}:\n{plan}"
            assert "Index" in plan, f"{query!r}:\n{plan}"
            # The trigram index is asked for the fragment's trigrams, never the channel's entry
            # (issue 15: at 10,000,000 customers reading it cost 5-20 times the search).
            if "_trgm" in plan:
                condition = _TRGM_CONDITION.search(plan)
                assert condition and "channel_id" not in condition[1], f"{query!r}:\n{plan}"


@pytest.mark.postgres
@pytest.mark.parametrize("bound", ["lastSeenFrom", "lastSeenTo"])
def test_r1_4_last_seen_filters_read_the_index_of_customers_ever_seen(
    channel: Channel, bound: str
) -> None:
    """Issue 15 (crm 0022): the last-seen index holds only customers ever seen, since customers
    an import creates were never seen and cost it nothing; both bounds are ranges, which imply a
    value, so they are still served by it. Seen and never-seen customers are told apart."""
    now = timezone.now()
    Customer.objects.bulk_create(
        Customer(
            channel=channel,
            name=f"c{i}",
            last_seen_at=now - dt.timedelta(days=i % 400) if i % 50 == 0 else None,
        )
        for i in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer")
    day = (now - dt.timedelta(days=10)).date()
    filterset = CustomerFilter(
        {bound: day.isoformat()}, queryset=contacts(channel), channel=channel
    )

    plans = _plans(filterset)

    assert any("customer_seen_idx" in plan for plan in plans), plans
    expected = Customer.objects.filter(
        channel=channel,
        **(
            {"last_seen_at__date__gte": day}
            if bound == "lastSeenFrom"
            else {"last_seen_at__date__lte": day}
        ),
    ).count()
    assert filterset.qs.count() == expected > 0

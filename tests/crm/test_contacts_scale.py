"""Contacts at 10,000,000 customers (issue 15, R1.4, R1.5, SPEC §10): counts that never read the
channel, keyset pages, and every search and filter on an index made for it (EXPLAIN on
PostgreSQL, over a channel large enough for the planner to choose as it would in production)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from crm import selectors
from crm.admin.contacts import contacts_count_label
from crm.db import among
from crm.models import Channel, Customer, CustomerImportTag, CustomerTag, ImportTag, Tag
from crm.selectors import ContactsCount, contacts, contacts_page
from tests.conftest import User, make_user

LIST = "admin:crm_customer_changelist"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- keyset pages and bounded counts (any database) -------------------------------------------
def test_r1_4_keyset_pages_neither_skip_nor_repeat_while_customers_are_added(
    channel: Channel,
) -> None:
    Customer.objects.bulk_create(Customer(channel=channel, name=f"c{i}") for i in range(23))
    expected = list(contacts(channel).order_by("-id").values_list("pk", flat=True))
    seen: list[int] = []
    page = contacts_page(contacts(channel), size=5)
    while True:
        seen += [c.pk for c in page.rows]
        # Newcomers arrive between every two pages (an import running meanwhile).
        Customer.objects.bulk_create(Customer(channel=channel, name="new") for _ in range(3))
        if page.older is None:
            break
        page = contacts_page(contacts(channel), size=5, after=page.older)
    assert seen == expected  # every customer once, in order, none of the newcomers
    # Back up from the last page: the page above is the one shown before it.
    back = contacts_page(contacts(channel), size=5, before=page.rows[0].pk)
    assert [c.pk for c in back.rows] == expected[15:20]


def test_r1_4_contacts_list_pages_by_cursor_and_refuses_a_bad_one(
    owner: Any, channel: Channel
) -> None:
    Customer.objects.bulk_create(Customer(channel=channel, name=f"c{i:03}") for i in range(120))
    client = _client(owner)
    first = client.get(reverse(LIST), {"channel": channel.slug})
    older = first.context["cl"].older_url
    assert older and "after=" in older
    second = client.get(reverse(LIST) + older)
    firsts = {c.pk for c in first.context["cl"].result_list}
    seconds = {c.pk for c in second.context["cl"].result_list}
    assert len(firsts) == len(seconds) == 50 and not firsts & seconds
    assert max(seconds) < min(firsts)
    bad = client.get(reverse(LIST), {"channel": channel.slug, "after": "x' OR 1=1"})
    assert bad.status_code == 302 and "e=1" in bad["Location"]  # the admin's "bad parameters"


def test_r2_21_import_tag_pages_walk_the_tags_customers_neither_skip_nor_repeat(
    owner: Any, channel: Channel
) -> None:
    from django.utils import timezone

    spring = ImportTag.objects.create(channel=channel, name="spring")
    people = Customer.objects.bulk_create(
        Customer(channel=channel, name=f"c{i:03}", blocked=i % 20 == 0) for i in range(260)
    )
    CustomerImportTag.objects.bulk_create(
        CustomerImportTag(channel=channel, customer=c, import_tag=spring, added_at=timezone.now())
        for c in people[::2]
    )
    tagged = sorted((c.pk for c in people[::2] if not c.blocked), reverse=True)
    client = _client(owner)
    response = client.get(reverse(LIST), {"channel": channel.slug, "importTag": "spring"})
    assert response.context["cl"].count == ContactsCount(len(tagged), exact=True)
    seen: list[int] = []
    while True:
        cl = response.context["cl"]
        seen += [c.pk for c in cl.result_list]
        if cl.older_url is None:
            break
        response = client.get(reverse(LIST) + cl.older_url)
    assert seen == tagged
    back = client.get(reverse(LIST) + response.context["cl"].newer_url)
    assert [c.pk for c in back.context["cl"].result_list] == tagged[50:100]


def test_r1_4_filtered_count_stops_at_the_bound_and_says_so(
    owner: Any, channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "COUNT_BOUND", 5)
    # More than a page (50): a list that fits its first page is counted by it, exactly.
    Customer.objects.bulk_create(Customer(channel=channel, name=f"Kim {i}") for i in range(58))
    Customer.objects.create(channel=channel, name="Lee")
    client = _client(owner)
    page = client.get(reverse(LIST), {"channel": channel.slug, "q": "Kim"})
    cl = page.context["cl"]
    assert cl.count == ContactsCount(5, exact=False)
    assert "5+ customers" in page.content.decode()
    exact = client.get(reverse(LIST) + cl.exact_count_url)
    assert exact.context["cl"].count == ContactsCount(58, exact=True)
    # A one-letter search is counted along the page's walk, a longer one by its own index
    # (CustomerFilter.narrow): the same bound and wording either way.
    short = client.get(reverse(LIST), {"channel": channel.slug, "q": "K"}).context["cl"]
    assert short.count == ContactsCount(5, exact=False)
    one = client.get(reverse(LIST), {"channel": channel.slug, "q": "Lee"})
    assert "1 customer" in one.content.decode()
    # Unfiltered, the total is MU (59), exact however large.
    everyone = client.get(reverse(LIST), {"channel": channel.slug}).context["cl"]
    assert everyone.count == ContactsCount(59, exact=True) and everyone.mu == 59


def test_r1_4_a_tag_list_past_the_bound_is_counted_in_one_batch_of_its_links(
    owner: Any, channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tag's list counts its newest links' customers up to the bound; a blocked customer
    among them (not in contacts) does not cost the count a second batch for the last one."""
    monkeypatch.setattr(selectors, "COUNT_BOUND", 5)
    vip = Tag.objects.create(channel=channel, name="vip")
    tagged = Customer.objects.bulk_create(
        Customer(channel=channel, name=f"Kim {i}") for i in range(60)  # more than a page
    )
    CustomerTag.objects.bulk_create(
        CustomerTag(channel=channel, customer=c, tag=vip) for c in tagged
    )
    Customer.objects.filter(pk=max(c.pk for c in tagged)).update(blocked=True)
    with CaptureQueriesContext(connection) as queries:
        page = _client(owner).get(reverse(LIST), {"channel": channel.slug, "tag": "vip"})
    assert page.context["cl"].count == ContactsCount(5, exact=False)
    assert "5+ customers" in page.content.decode()
    counts = [
        q["sql"]
        for q in queries
        if q["sql"].upper().startswith("SELECT COUNT(") and "crm_customertag" in q["sql"]
    ]
    assert len(counts) == 1, counts
    # Each id the tag's links give carries the tag: the count reads the links once, with no
    # second probe of them per customer (CustomerFilter.beside_driver).
    assert counts[0].count('FROM "crm_customertag"') == 1, counts[0]
    assert [c.name for c in page.context["cl"].result_list] == [
        f"Kim {i}" for i in range(58, 8, -1)
    ]


def test_r1_4_a_search_whose_matches_fit_the_first_page_is_counted_by_that_page(
    owner: Any, channel: Channel
) -> None:
    """A list that fits its first page shows its exact number without counting again (the
    search runs once); a longer one is still counted."""
    Customer.objects.bulk_create(Customer(channel=channel, name=f"Kim {i}") for i in range(3))
    Customer.objects.bulk_create(Customer(channel=channel, name=f"Lee {i}") for i in range(60))
    client = _client(owner)

    def counts(text: str) -> tuple[Any, int]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse(LIST), {"channel": channel.slug, "q": text})
        return page, sum(q["sql"].upper().startswith("SELECT COUNT(") for q in queries)

    page, counted = counts("Kim")
    assert page.context["cl"].count == ContactsCount(3, exact=True)
    assert "3 customers" in page.content.decode()
    longer, counted_longer = counts("Lee")
    assert longer.context["cl"].count == ContactsCount(60, exact=True)
    assert len(longer.context["cl"].result_list) == 50
    assert counted == counted_longer - 1  # the page's other counts (unread messages) alike


def test_r1_4_r11_2_bounded_count_wording_in_both_languages() -> None:
    with translation.override("en"):
        assert contacts_count_label(ContactsCount(1, exact=True)) == "1 customer"
        assert contacts_count_label(ContactsCount(1234, exact=True)) == "1,234 customers"
        assert contacts_count_label(ContactsCount(10_000, exact=False)) == "10,000+ customers"
    with translation.override("ko"):
        assert contacts_count_label(ContactsCount(1, exact=True)) == "고객 1명"
        assert contacts_count_label(ContactsCount(1234, exact=True)) == "고객 1,234명"
        assert contacts_count_label(ContactsCount(10_000, exact=False)) == "고객 10,000명 이상"


def test_r1_4_whole_email_is_found_by_equality_and_fragments_still_match(channel: Channel) -> None:
    from crm.filters import search_contacts

    kim = Customer.objects.create(channel=channel, name="Kim", email="kim@example.com")
    Customer.objects.create(channel=channel, name="Jkim", email="jkim@example.com")
    found = search_contacts(contacts(channel), "KIM@example.com")
    assert list(found) == [kim]
    fragment = search_contacts(contacts(channel), "kim@example")
    assert fragment.count() == 2
    # A whole address nobody has is still searched as a fragment (it may be part of one).
    part = search_contacts(contacts(channel), "im@example.com")
    assert part.count() == 2


# --- PostgreSQL: plans at scale ---------------------------------------------------------------
_BIG_TABLES = (
    "crm_message",
    "crm_chat",
    "crm_customertag",
    "crm_customerimporttag",
    "importer_importjournal",
    "crm_customer",
)


@pytest.fixture(scope="module")
def _big_channel(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[int, int]]:
    """30,000 customers in a channel (imports of 7,500), 45,000 in another: the planner sees a
    channel that is part of a larger table, as in production. Built once for the module and
    committed (tests see it from their own transactions), removed at the end."""
    from crm.db.synthetic import build_channel
    from crm.services.channels import channel_create

    with django_db_blocker.unblock():
        boss = make_user("scale-owner")
        big = channel_create(slug="scale-big", name="Big", owner=boss).channel
        other = channel_create(slug="scale-other", name="Other", owner=boss).channel
        build_channel(other, customers=45_000, batch=45_000)
        build_channel(big, customers=30_000, batch=7_500)
        with connection.cursor() as cursor:
            # A table that has lived a while has its GIN pending lists merged (autovacuum).
            for index in ("name", "email", "mobile"):
                cursor.execute(
                    "SELECT gin_clean_pending_list(%s::regclass)", [f"customer_{index}_trgm"]
                )
        yield boss.pk, big.pk
        channels = [big.pk, other.pk]
        with connection.cursor() as cursor:
            for table in _BIG_TABLES:
                cursor.execute(
                    f"DELETE FROM {table} WHERE channel_id = ANY(%s::bigint[])", [channels]
                )
        Channel.objects.filter(pk__in=channels).delete()
        boss.delete()


@pytest.fixture
def big(_big_channel: tuple[int, int], db: None) -> Channel:
    return Channel.objects.get(pk=_big_channel[1])


@pytest.fixture
def boss(_big_channel: tuple[int, int], db: None) -> Any:
    return User.objects.get(pk=_big_channel[0])


def _explained(client: Client, params: dict[str, str]) -> tuple[Any, list[tuple[str, str]]]:
    """The contacts list's response for ``params``, and (SQL, plan) of each query it ran on
    the customer tables."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(LIST), params)
    assert response.status_code == 200, response
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if "crm_customer" not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN {sql}")
            plans.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return response, plans


def _no_scan_of_customers(plans: list[tuple[str, str]], what: str) -> None:
    for sql, plan in plans:
        for table in ("crm_customer", "crm_customerimporttag", "crm_customertag"):
            assert f"Seq Scan on {table} " not in plan + " ", f"{what}: {sql}\n{plan}"


@pytest.mark.postgres
def test_r1_5_unfiltered_list_counts_nothing_its_total_is_mu(boss: Any, big: Channel) -> None:
    response, plans = _explained(_client(boss), {"channel": big.slug})
    cl = response.context["cl"]
    assert cl.count.exact and cl.count.value == cl.mu == selectors.channel_mu_counted(big)
    _no_scan_of_customers(plans, "first page")
    counts = [sql for sql, _ in plans if re.search(r"COUNT\(", sql, re.IGNORECASE)]
    assert counts == [], counts  # no COUNT(*) over the channel: MU is the total
    # Newest first by walking an index backwards (contacts_list_idx, or the primary key where
    # the channel holds most of the newest rows), stopped after the page.
    assert "Index Scan Backward using" in "".join(p for _, p in plans)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({"importTag": "import-2"}, "customer_import_tag_filter_idx"),  # R2.21
        ({"q": "{email}"}, "customer_email_idx"),  # a whole email: equality first
        ({"q": "{mobile}"}, "customer_mobile_idx"),  # a whole E.164 mobile: equality first
        ({"q": "{email_part}"}, "customer_email_trgm"),
        ({"q": "김민"}, "customer_name_start"),  # 2 letters: their index, newest first
        ({"q": "황"}, "customer_name_start"),  # 1 letter
        ({"q": "James Park"}, "customer_name_trgm"),
        ({"q": "{mobile_last8}"}, "customer_mobile_trgm"),  # last digits of a mobile
        ({"q": "{mobile_national}"}, "customer_mobile_idx"),  # 010-…: whole, equality first
        # Half the customers: newest first along an index, stopped at the page and the bound.
        ({"type": "lead"}, "Index Scan Backward"),
        ({"tag": "vip"}, "customer_tag_filter_idx"),
    ],
)
def test_r1_4_each_search_and_filter_uses_an_index_made_for_it(
    boss: Any, big: Channel, params: dict[str, str], index: str
) -> None:
    client = _client(boss)
    someone = contacts(big).filter(email__isnull=False, mobile_number__isnull=False).last()
    assert someone is not None and someone.email and someone.mobile_number
    values = {
        "email": someone.email.upper(),
        "email_part": someone.email[1 : someone.email.index("@") + 3],
        "mobile": someone.mobile_number,
        "mobile_last8": someone.mobile_number[-8:],
        "mobile_national": f"010-{someone.mobile_number[-8:-4]}-{someone.mobile_number[-4:]}",
    }
    params = {k: v.format(**values) for k, v in params.items()}
    response, plans = _explained(client, {"channel": big.slug, **params})
    assert response.context["cl"].result_list, params  # the data has matches for each
    _no_scan_of_customers(plans, str(params))
    assert any(index in plan for _, plan in plans), "\n\n".join(p for _, p in plans)
    # The next page is a seek on the same index, not an OFFSET.
    older = response.context["cl"].older_url
    if older:
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse(LIST) + older)
        assert not any("OFFSET" in q["sql"] for q in captured.captured_queries)


@pytest.mark.postgres
def test_r2_21_import_tag_list_reads_the_tags_customers_only(boss: Any, big: Channel) -> None:
    response, plans = _explained(_client(boss), {"channel": big.slug, "importTag": "import-3"})
    _no_scan_of_customers(plans, "import tag")
    cl = response.context["cl"]
    tag = ImportTag.objects.get(channel=big, name="import-3")
    tagged = CustomerImportTag.objects.filter(import_tag=tag, customer__blocked=False)
    many = tagged.count()  # 7,500 minus the blocked: past the bound
    assert cl.count == ContactsCount(min(many, selectors.COUNT_BOUND), exact=False)
    exact = _client(boss).get(reverse(LIST) + cl.exact_count_url).context["cl"].count
    assert exact == ContactsCount(many, exact=True)
    newest = max(tagged.values_list("customer_id", flat=True))
    assert cl.result_list[0].pk == newest


@pytest.mark.postgres
def test_r2_21_an_older_imports_list_reads_that_imports_customers_only(
    boss: Any, big: Channel
) -> None:
    """The planner believes a tag's customers spread over the channel; the oldest import's are
    all at its start, so a join in id order would read every newer customer first."""
    _, plans = _explained(_client(boss), {"channel": big.slug, "importTag": "import-1"})
    tag_size = CustomerImportTag.objects.filter(import_tag__name="import-1", channel=big).count()
    with connection.cursor() as cursor:
        for sql, _plan in plans:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            (raw,) = cursor.fetchone()
            plan = json.loads(raw) if isinstance(raw, str) else raw
            read = sum(
                node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
                for node in _nodes(plan[0]["Plan"])
                if node.get("Relation Name") == "crm_customer"
            )
            assert read <= tag_size, f"{read} customers read for a tag of {tag_size}:\n{_plan}"


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.postgres
def test_r3_1_purge_sends_ids_as_bigint_arrays_and_reads_by_index(big: Channel) -> None:
    from crm.services.deletion import purge_customers

    ids = list(
        CustomerImportTag.objects.filter(import_tag__name="import-1", channel=big)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)[:500]
    )
    with CaptureQueriesContext(connection) as captured:
        assert purge_customers(channel_id=big.pk, ids=ids) == len(ids)
    arrays = [q["sql"] for q in captured.captured_queries if "ANY(" in q["sql"]]
    assert arrays and all(re.search(r"::(bigint|text)\[\]\)", sql) for sql in arrays), arrays
    assert not Customer.objects.filter(pk__in=ids).exists()
    # The link and journal deletions are index look-ups of the ids, on the statistics a fresh
    # import leaves (crm.db.synthetic refreshes them as the importer does).
    rest = list(
        CustomerImportTag.objects.filter(import_tag__name="import-1", channel=big)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)[:500]
    )
    with connection.cursor() as cursor:
        # The statements as the purge writes them (crm.db.among: the array and its span).
        for column, sql in (
            ("customer_id", "DELETE FROM crm_customerimporttag WHERE channel_id = %s AND {}"),
            (
                "j.customer_id",
                "DELETE FROM importer_importjournal j USING importer_importjob k"
                " WHERE k.channel_id = %s AND j.job_id = k.id AND {}",
            ),
        ):
            where, params = among(column, rest)
            cursor.execute("EXPLAIN " + sql.format(where), [big.pk, *params])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan on crm_customerimporttag" not in plan, plan
            assert "Seq Scan on importer_importjournal" not in plan, plan


@pytest.mark.postgres
@pytest.mark.parametrize(("param", "value"), [("tag", "vip"), ("importTag", "import-2")])
def test_issue_15_a_tag_list_reads_only_the_links_its_page_and_count_need(
    boss: Any, big: Channel, monkeypatch: pytest.MonkeyPatch, param: str, value: str
) -> None:
    """The bounded count of a tag's list finds the tag's newest ids and their customers in one
    statement, by index: it never reads the whole tag (a hash join over every link, as
    ``id IN (subquery)`` beside the tag's EXISTS plans it), however many the tag holds."""
    monkeypatch.setattr(selectors, "COUNT_BOUND", 100)
    _, plans = _explained(_client(boss), {"channel": big.slug, param: value})
    links = "crm_customertag" if param == "tag" else "crm_customerimporttag"
    model = CustomerTag if param == "tag" else CustomerImportTag
    lookup = "tag__name" if param == "tag" else "import_tag__name"
    tag_size = model.objects.filter(channel=big, **{lookup: value}).count()
    read = 0
    with connection.cursor() as cursor:
        for sql, _plan in plans:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            (raw,) = cursor.fetchone()
            plan = json.loads(raw) if isinstance(raw, str) else raw
            read += sum(
                node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
                for node in _nodes(plan[0]["Plan"])
                if node.get("Relation Name") == links
            )
    assert read < tag_size / 2, f"{read} links read for a tag of {tag_size}"


@pytest.mark.postgres
@pytest.mark.parametrize("text", ["김", "김민"])
def test_issue_15_a_short_name_is_counted_along_the_prefix_index_and_stops_at_the_bound(
    boss: Any, big: Channel, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No memberId is that short here, so the prefix index is read alone, in its order, and the
    count stops after bound + 1 matches: never a BitmapOr collecting every match first."""
    from crm.admin.contacts import CustomerAdmin

    # Pages of 2: the matches never fit the first page, which would count them itself.
    monkeypatch.setattr(CustomerAdmin, "list_per_page", 2)
    response, plans = _explained(_client(boss), {"channel": big.slug, "q": text})
    assert response.context["cl"].result_list
    counts = [plan for sql, plan in plans if re.search(r"COUNT\(", sql)]
    assert counts and all("BitmapOr" not in plan for plan in counts), counts
    assert any("customer_name_start" in plan for plan in counts), counts
    if len(text) == 2:  # the page too: the two letters' matches come newest first
        pages = [plan for sql, plan in plans if "ORDER BY" in sql and "LIMIT" in sql]
        assert any("Index Scan Backward using customer_name_start" in p for p in pages), pages

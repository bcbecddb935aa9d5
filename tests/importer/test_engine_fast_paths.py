"""The engine's fast paths give what the plain rules give: chunked column-by-column mapping,
new customers created without comparisons, COPY text built by hand, look-ups assembled by
PostgreSQL. Run on SQLite and on PostgreSQL (where the COPY writer is used)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.models import Channel, Customer
from crm.selectors import profile_keys_by_name
from importer.mapping import RowMapper, _Converter, build_plan
from importer.models import ImportFailure, ImportJob, ImportJournal
from importer.reading import Row
from tests.importer.conftest import run_import

MakeCsv = Callable[..., Path]

HEAD = [
    "email",
    "name",
    "points",
    "vip",
    "birthday",
    "interests",
    "grade",
    "unsubscribeEmail",
    "unsubscribeTexting",
]
# Cells each column may hold: good values, repeated values, bad values, empty and blank cells,
# a cell our failure logs neutralised ('=…).
CELLS = {
    "email": ["a@example.com", "B@Example.com", "not-an-email", "", " ", "c@example.com"],
    "name": ["김철수", "'=SUM(A1)", "", "x\ty"],
    "points": ["1", "1,234.5", "lots", "", "7"],
    "vip": ["true", "N", "maybe", ""],
    "birthday": ["2024-01-02", "2024.1.2", "2024-13-40", ""],
    "interests": ['["a","b"]', "a, b", "[", ""],
    "grade": ["gold", "", "silver"],
    "unsubscribeEmail": ["true", "false", "", "perhaps"],
    "unsubscribeTexting": ["false", "true", ""],
}


@pytest.fixture
def plan(keys: Channel) -> object:
    return build_plan(
        headers=HEAD,
        mapping={h: h for h in HEAD},
        keys=profile_keys_by_name(keys),
        kind="lead",
        identity="email",
    )


def _as_tuples(mapped: list[object]) -> list[tuple[object, ...]]:
    return [(m.number, m.identity, m.values, m.errors) for m in mapped]  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_r2_13_chunked_mapping_equals_mapping_each_row_alone(
    plan: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every cell kind, reader errors and short rows: a chunk mapped column by column (with the
    memo of repeated cells, switched off part-way) equals each row mapped on its own."""
    monkeypatch.setattr(_Converter, "_SAMPLE", 3)  # the memo decides early, drops columns
    choice = st.tuples(*(st.sampled_from(CELLS[h]) for h in HEAD))

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(choice, st.sampled_from([None, None, None, "short"])), max_size=40))
    def check(rows: list[tuple[tuple[str, ...], str | None]]) -> None:
        table = [
            Row(number, cells[:5] if error else cells, f"row {number} is short" if error else None)
            for number, (cells, error) in enumerate(rows, 2)
        ]
        chunked = RowMapper(plan)  # type: ignore[arg-type]
        got = [m for chunk in chunked.map_rows(table, 7) for m in chunk]
        alone = [RowMapper(plan).map(r.number, r.cells, r.error) for r in table]  # type: ignore[arg-type]
        assert _as_tuples(got) == _as_tuples(alone)

    check()


def test_r2_13_memo_forgets_a_column_of_unique_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Converter, "_SAMPLE", 10)
    converter = _Converter(str.upper, "string")
    values, failed = converter.column([f"v{i}" for i in range(30)])
    assert values == [f"V{i}" for i in range(30)] and failed == {}
    assert converter.cache is None
    repeating = _Converter(str.upper, "string")
    repeating.column(["a", "b"] * 20)
    assert repeating.cache == {"a": "A", "b": "B"}


def test_r2_13_tabs_newlines_backslashes_and_quotes_are_stored_exactly(
    keys: Channel, csv_file: MakeCsv
) -> None:
    """COPY's text format escapes: what a cell holds is what the customer has, new or updated."""
    head = ["email", "name", "grade", "interests", "unsubscribeEmail", "unsubscribeTexting"]
    name = 'Kim\t"Chul\\su"\nLee'
    grade = "back\\slash\r\n\\N"
    result = run_import(
        keys,
        csv_file([head, ["kim@example.com", name, grade, '["a\\\\b", "c\\td"]', "false", "true"]]),
        "--kind",
        "lead",
        "--identity",
        "email",
    )
    assert (result["created"], result["failed"]) == (1, 0)
    customer = Customer.objects.get(channel=keys)
    assert customer.name == name
    assert customer.profile["grade"] == grade
    assert customer.profile["interests"] == ["a\\b", "c\td"]

    renamed = "Park\\\tJi\nMin"
    result = run_import(
        keys,
        csv_file([["email", "name", "grade"], ["kim@example.com", renamed, "\\"]], name="u.csv"),
        "--kind",
        "lead",
        "--identity",
        "email",
    )
    assert (result["created"], result["updated"]) == (0, 1)
    customer.refresh_from_db()
    assert customer.name == renamed
    assert customer.profile["grade"] == "\\"
    journal = ImportJournal.objects.filter(created=False).get()
    assert journal.previous == {"name": name, "grade": grade}


def test_r1_3_a_row_too_big_for_a_profile_fails_with_the_limit(
    keys: Channel, csv_file: MakeCsv
) -> None:
    """The cheap bound from the row's length lets a normal row through unchecked; a row whose
    profile would pass 15 KB is measured and refused, naming the limit."""
    head = ["email", "interests", "segments", "unsubscribeEmail", "unsubscribeTexting"]
    items = json.dumps([f"{i:03d}" + "가" * 60 for i in range(60)], ensure_ascii=False)
    result = run_import(
        keys,
        csv_file(
            [
                head,
                ["big@example.com", items, items, "false", "false"],
                ["fits@example.com", items, "", "false", "false"],
            ]
        ),
        "--kind",
        "lead",
        "--identity",
        "email",
    )
    assert (result["created"], result["failed"]) == (1, 1)
    assert Customer.objects.get(channel=keys).email == "fits@example.com"
    failure = ImportFailure.objects.get()
    assert failure.row_number == 2
    assert "15 KB" in failure.reasons[0]


def test_r2_5_update_pass_sees_every_stored_value(keys: Channel, csv_file: MakeCsv) -> None:
    """The look-up hands the merge each customer's built-in columns and profile: an update
    pass of the same file changes nothing, and a changed cell is the only change journaled."""
    head = [
        "email",
        "name",
        "mobileNumber",
        "points",
        "vip",
        "birthday",
        "unsubscribeEmail",
        "unsubscribeTexting",
    ]
    row = [
        "kim@example.com",
        "김철수",
        "+82 010-1111-2222",
        "12.50",
        "Y",
        "2000-01-02",
        "false",
        "true",
    ]
    args = ("--kind", "lead", "--identity", "email")
    run_import(keys, csv_file([head, row]), *args)
    again = run_import(keys, csv_file([head, row], name="again.csv"), *args)
    assert (again["created"], again["updated"], again["failed"]) == (0, 1, 0), list(
        ImportFailure.objects.values_list("reasons", flat=True)
    )
    assert ImportJournal.objects.filter(created=False).get().previous == {}
    changed = run_import(keys, csv_file([head, [*row[:3], "13", *row[4:]]], name="c.csv"), *args)
    assert changed["updated"] == 1
    assert ImportJournal.objects.filter(created=False).latest("id").previous == {"points": 12.5}
    customer = Customer.objects.get(channel=keys)
    assert customer.profile == {"points": 13, "vip": True, "birthday": "2000-01-02"}
    assert (customer.unsubscribe_email, customer.unsubscribe_texting) == (False, True)


def test_r2_17_statistics_are_checked_each_time_the_import_doubles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A big import asks the planner's estimate at 20,000 rows and then at every doubling."""
    from importer import engine

    asked: list[int] = []
    monkeypatch.setattr(engine, "refresh_statistics", lambda _c, rows: asked.append(rows))
    statistics = engine._Statistics(channel_id=1)
    for _ in range(200):  # 1,000,000 rows in chunks of 5,000
        statistics.before(5000)
    assert asked == [20_000, 40_000, 80_000, 160_000, 320_000, 640_000]


@pytest.mark.postgres
def test_r2_17_stale_statistics_are_refreshed_so_look_ups_use_the_identity_index(
    channel: Channel,
) -> None:
    """A channel the planner believes empty gets ANALYZE once, and then not again."""
    from django.db import connection

    from importer.resolve import refresh_statistics

    Customer.objects.bulk_create(
        Customer(channel=channel, email=f"c{i}@example.com", verified=True) for i in range(4000)
    )

    def estimate() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (FORMAT JSON) SELECT 1 FROM crm_customer WHERE channel_id = %s",
                [channel.pk],
            )
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return int(plan[0]["Plan"]["Plan Rows"])

    with connection.cursor() as cursor:  # what the planner believes of a table never analysed
        cursor.execute(
            "UPDATE pg_class SET reltuples = 0, relpages = 0 WHERE relname = 'crm_customer'"
        )
    assert estimate() * 4 < 4000
    assert refresh_statistics(channel.pk, 4000) is True
    assert estimate() >= 1000
    assert refresh_statistics(channel.pk, 4000) is False


def test_the_garbage_collector_is_restored_after_an_import(
    keys: Channel, csv_file: MakeCsv
) -> None:
    """The chunk loop's collector settings do not outlive the import (a worker runs on)."""
    import gc

    before = gc.get_threshold(), gc.get_freeze_count()
    head = ["email", "unsubscribeEmail", "unsubscribeTexting"]
    result = run_import(
        keys,
        csv_file([head, ["a@example.com", "false", "false"]]),
        "--kind",
        "lead",
        "--identity",
        "email",
    )
    assert result["created"] == 1
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


@pytest.mark.postgres
def test_r2_21_an_import_leaves_fresh_statistics_for_its_tag_and_journal(
    keys: Channel, csv_file: MakeCsv
) -> None:
    """Issue 15: deleting an import's customers right after it (R2.21) is planned on the tables
    as the import left them, not as the planner last saw them (autovacuum may be behind or off)."""
    from django.db import connection

    tables = ("crm_customerimporttag", "importer_importjournal")

    def believed() -> dict[str, float]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", [list(tables)]
            )
            return {name: float(tuples) for name, tuples in cursor.fetchall()}

    with connection.cursor() as cursor:  # the planner believes them empty
        cursor.execute("UPDATE pg_class SET reltuples = 0 WHERE relname = ANY(%s)", [list(tables)])
    head = ["email", "unsubscribeEmail", "unsubscribeTexting"]
    rows = [[f"c{i}@example.com", "false", "false"] for i in range(400)]
    result = run_import(
        keys, csv_file([head, *rows]), "--kind", "lead", "--identity", "email", "--tag", "spring"
    )
    assert result["created"] == 400
    assert all(tuples >= 400 for tuples in believed().values()), believed()


@pytest.mark.postgres
def test_issue_15_an_import_merges_the_search_indexes_pending_entries(
    keys: Channel, csv_file: MakeCsv
) -> None:
    """An import leaves no entry waiting in the trigram indexes' pending lists, which every
    search reads whole until VACUUM merges them (autovacuum may be behind or off), even one too
    small against its table for ANALYZE."""
    from django.db import connection

    with connection.cursor() as cursor:  # a table far larger than this import: no ANALYZE
        cursor.execute("UPDATE pg_class SET reltuples = 10000000 WHERE relname = 'crm_customer'")
    head = ["email", "name", "unsubscribeEmail", "unsubscribeTexting"]
    rows = [[f"p{i}@example.com", f"김민{i}", "false", "false"] for i in range(400)]
    result = run_import(keys, csv_file([head, *rows]), "--kind", "lead", "--identity", "email")
    assert result["created"] == 400
    with connection.cursor() as cursor:
        for index in ("customer_name_trgm", "customer_email_trgm"):
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
            assert cursor.fetchone()[0] == 0, f"{index} had pending pages left by the import"


def _scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(node type, table) of every scan of a table in an EXPLAIN (FORMAT JSON) plan."""
    found = [(plan["Node Type"], plan["Relation Name"])] if "Relation Name" in plan else []
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


def _node_types(plan: dict[str, Any]) -> list[str]:
    return [plan["Node Type"], *(t for child in plan.get("Plans", []) for t in _node_types(child))]


def _explain(sql: str, params: list[object]) -> list[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return _scans(plan[0]["Plan"])


@pytest.mark.postgres
@pytest.mark.parametrize("column", ["email", "mobile_number", "member_id"])
def test_r2_17_identity_look_ups_probe_the_index_value_by_value(
    channel: Channel, column: str
) -> None:
    """Issue 15 ("no change may slow imports"): a chunk's look-up of its identity values reads
    the (channel, identity) index once per value. Written as ``= ANY(values)`` the planner read
    the whole channel instead whenever a chunk's values were a few per cent of it, fresh
    statistics or not (a parallel sequential scan per chunk: quadratic imports)."""
    from django.db import connection

    from importer.resolve import CANDIDATES_SQL, text_array

    Customer.objects.bulk_create(
        Customer(
            channel=channel,
            email=f"c{i}@example.com",
            mobile_number=f"+8210{i:08}",
            member_id=f"m{i}",
            verified=True,
        )
        for i in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer")
    wanted = [getattr(c, column) for c in Customer.objects.filter(channel=channel)[:2000]]

    scans = _explain(CANDIDATES_SQL.format(column=column), [text_array(wanted), channel.pk])

    customer_scans = [node for node, table in scans if table == "crm_customer"]
    assert customer_scans and all(node == "Index Scan" for node in customer_scans), scans


def _email_plan(channel: Channel) -> Any:
    """A lead import of one email column, email the identity."""
    return build_plan(
        headers=["email"],
        mapping={"email": "email"},
        keys=profile_keys_by_name(channel),
        kind="lead",
        identity="email",
    )


@pytest.mark.postgres
def test_r2_17_a_channel_with_few_customers_is_read_once_however_stale_its_statistics(
    channel: Channel,
) -> None:
    """Issue 15 ("no change may slow imports"): a new channel's first chunks are looked up in
    one read of its customers. Probed value by value while the planner believed the channel
    empty, PostgreSQL took another index that starts with the channel and read every customer
    for every value (2 s a chunk at 5,000 customers)."""
    from django.db import connection

    from importer.resolve import FEW_CANDIDATES_SQL, channel_has_few, text_array

    Customer.objects.bulk_create(
        Customer(channel=channel, email=f"c{i}@example.com", verified=True) for i in range(3000)
    )
    with connection.cursor() as cursor:  # what the planner believes of a table never analysed
        cursor.execute(
            "UPDATE pg_class SET reltuples = 0, relpages = 0 WHERE relname = 'crm_customer'"
        )
    wanted = [f"c{i}@example.com" for i in range(1000, 3000)]

    assert channel_has_few(channel.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) " + FEW_CANDIDATES_SQL.format(column="email"),
            [text_array(wanted), channel.pk],
        )
        plan = cursor.fetchone()[0]
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    assert [table for _, table in _scans(plan)] == ["crm_customer"], plan
    assert "Nested Loop" not in _node_types(plan), plan  # read once, not once per value


@pytest.mark.postgres
def test_r2_5_both_look_up_shapes_find_the_same_customers(channel: Channel) -> None:
    """The few-customers read and the value-by-value probe hand the same customers over, most
    recently seen first (R2.5), unverified leads left to the plan (R2.6)."""
    from django.utils import timezone

    from importer.resolve import find_existing

    plan = _email_plan(channel)
    Customer.objects.bulk_create(
        [
            Customer(channel=channel, email="a@example.com", verified=True),
            Customer(
                channel=channel, email="a@example.com", verified=True, last_seen_at=timezone.now()
            ),
            Customer(channel=channel, email="b@example.com", verified=False),
            Customer(channel=channel, email="c@example.com", verified=True, name="Cee"),
        ]
    )
    wanted = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]

    def found(few: bool) -> dict[object, tuple[int | None, dict[str, Any]]]:
        existing = find_existing(channel.pk, plan, wanted, few=few)
        return {identity: (t.id, t.values) for identity, t in existing.items()}

    seen = Customer.objects.get(channel=channel, last_seen_at__isnull=False)
    assert found(True) == found(False)
    assert set(found(True)) == {"a@example.com", "c@example.com"}
    assert found(True)["a@example.com"][0] == seen.pk


def test_r2_17_the_channel_is_counted_only_until_it_has_many_customers(
    channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk asks whether the channel still has few customers until it has many (an
    import only adds): then every later chunk probes value by value, uncounted."""
    from importer import apply, resolve
    from importer.apply import Merger
    from importer.mapping import MappedRow

    monkeypatch.setattr(resolve, "FEW_CUSTOMERS", 3)
    counted: list[bool] = []
    shapes: list[bool] = []
    real_count, real_find = apply.channel_has_few, apply.find_existing

    def has_few(channel_id: int) -> bool:
        counted.append(real_count(channel_id))
        return counted[-1]

    def find(*args: Any, few: bool = False) -> dict[object, Any]:
        shapes.append(few)
        return real_find(*args, few=few)

    monkeypatch.setattr(apply, "channel_has_few", has_few)
    monkeypatch.setattr(apply, "find_existing", find)
    plan = _email_plan(channel)
    merger = Merger(plan, empty_policy="keep")

    def chunk(first: int) -> list[MappedRow]:
        return [
            MappedRow(
                number=n,
                cells=(f"c{n}@example.com",),
                identity=f"c{n}@example.com",
                values={"email": f"c{n}@example.com"},
                errors=[],
            )
            for n in (first, first + 1)
        ]

    merger.apply_chunk(channel.pk, chunk(1))
    Customer.objects.bulk_create(
        Customer(channel=channel, email=f"x{i}@example.com") for i in range(3)
    )
    merger.apply_chunk(channel.pk, chunk(3))
    merger.apply_chunk(channel.pk, chunk(5))

    from django.db import connection

    if connection.vendor == "postgresql":
        assert (counted, shapes) == ([True, False], [True, False, False])
    else:  # one shape of look-up: never counted again
        assert (counted, shapes) == ([False], [False, False, False])


@pytest.mark.postgres
def test_r2_16_a_running_jobs_journal_is_probed_customer_by_customer(
    keys: Channel, csv_file: MakeCsv
) -> None:
    """Issue 15: which customers a running import journaled already is asked of the (job,
    customer) index per customer, even when the statistics predate the job's entries (as they
    do while it runs): not a read of all the job's entries per chunk."""
    from django.db import connection

    from importer.writers.pg_copy import JOURNALED_SQL

    run_import(
        keys,
        csv_file([["email"], ["a@example.com"]]),
        *("--kind", "lead", "--identity", "email"),
    )
    job = ImportJob.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE importer_importjournal")  # before the job's many entries
    customers = Customer.objects.bulk_create(
        Customer(channel=keys, email=f"c{i}@example.com") for i in range(3000)
    )
    ImportJournal.objects.bulk_create(
        ImportJournal(channel=keys, job=job, customer_id=c.pk, created=True) for c in customers
    )
    ids = "{" + ",".join(str(c.pk) for c in customers[:2000]) + "}"

    scans = _explain(JOURNALED_SQL, [ids, job.pk])

    journal_scans = [node for node, table in scans if table == "importer_importjournal"]
    assert journal_scans and all(node.startswith("Index") for node in journal_scans), scans

"""R2.25: an import writes only what its rows change, on the customer as the database has it
when the chunk is written; customers that are gone by then fail their rows, not the chunk.

Other writers act right after a chunk is looked up and applied (a hook on ``Merger.apply_chunk``
in the main thread), before the chunk is written: with the COPY writer in the write pipeline
(PostgreSQL, a writer thread on its own connection) and with the ORM writer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from crm.models import ActivityLog, Channel, ConsentChange, Customer, CustomerImportTag
from crm.services.api_users import api_user_upsert
from crm.services.customers import lead_add
from crm.services.deletion import customer_delete
from crm.services.profile_keys import profile_key_create
from crm.services.unification import unify_lead_into_member
from importer.apply import ChunkResult, Merger
from importer.models import ImportFailure, ImportJob, ImportJournal
from importer.writers.pg_copy import CopyWriter
from tests.importer.conftest import run_import

MakeCsv = Callable[..., Path]
AfterApply = Callable[[int], None]

WRITERS = [
    "orm",
    pytest.param(
        "copy", marks=[pytest.mark.postgres, pytest.mark.django_db(transaction=True)], id="copy"
    ),
]


@pytest.fixture(params=WRITERS)
def writer(request: pytest.FixtureRequest, settings: Any) -> str:
    """The ORM writer (every database), or COPY through the write pipeline (PostgreSQL)."""
    settings.IMPORT_USE_COPY = request.param == "copy"
    settings.IMPORT_CHUNK_ROWS = 2
    return str(request.param)


@pytest.fixture
def after_apply(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[AfterApply]]:
    """Callbacks run after each chunk is looked up and applied, before it is written; each is
    given the chunk's number (1, 2, …)."""
    hooks: list[AfterApply] = []
    original = Merger.apply_chunk
    chunks = iter(range(1, 1_000_000))

    def apply_chunk(self: Merger, *args: Any, **kwargs: Any) -> ChunkResult:
        result = original(self, *args, **kwargs)
        number = next(chunks)
        for hook in hooks:
            hook(number)
        return result

    monkeypatch.setattr(Merger, "apply_chunk", apply_chunk)
    yield hooks


def _member(channel: Channel, member_id: str) -> Customer:
    return Customer.objects.get(channel=channel, member_id=member_id)


def test_r2_25_changes_made_while_an_import_updates_a_customer_survive(
    channel: Channel, writer: str, csv_file: MakeCsv, after_apply: list[AfterApply]
) -> None:
    """Another writer keeps changing a key the file does not hold and an unsubscribe flag the
    file leaves empty while the import updates the same member in every chunk: each of its
    changes survives, and the file's own changes are written."""
    profile_key_create(channel=channel, key="grade", type="string")
    api_user_upsert(
        channel=channel,
        member_id="m1",
        profile={"name": "before", "grade": "g0"},
        unsubscribe_email=False,
        unsubscribe_texting=False,
    )
    head = ["memberId", "name", "unsubscribeEmail", "unsubscribeTexting"]
    rows = []
    for i in range(8):
        rows += [["m1", f"n{i}", "true", ""], [f"other{i}", "x", "false", "false"]]
    seen: list[tuple[str, bool]] = []

    def outside_write(chunk: int) -> None:
        grade, texting = f"g{chunk}", chunk % 2 == 0
        api_user_upsert(
            channel=channel, member_id="m1", profile={"grade": grade}, unsubscribe_texting=texting
        )
        seen.append((grade, texting))

    after_apply.append(outside_write)
    result = run_import(channel, csv_file([head, *rows]), "--kind", "member")

    assert (result["status"], result["created"], result["updated"]) == ("succeeded", 8, 1)
    assert len(seen) == 8
    m1 = _member(channel, "m1")
    assert m1.profile == {"grade": "g8"}  # the last outside write, after the last look-up
    assert (m1.unsubscribe_texting, m1.unsubscribe_email, m1.name) == (True, True, "n7")


@pytest.mark.parametrize("tag", ["spring", ""], ids=["tagged", "untagged"])
def test_r2_25_customers_gone_between_look_up_and_write_fail_their_rows(
    channel: Channel, writer: str, csv_file: MakeCsv, after_apply: list[AfterApply], tag: str
) -> None:
    """A lead deleted, and one unified into a member, after the chunk looked them up: their
    rows fail with a reason naming what happened; the rest of the chunk is written, and no
    import tag is left on a customer that is gone."""
    gone = lead_add(channel=channel, email="gone@example.com", name="Gone").customer
    moved = lead_add(channel=channel, email="moved@example.com", name="Moved").customer
    kept = lead_add(channel=channel, email="kept@example.com", name="Kept").customer
    member = api_user_upsert(
        channel=channel, member_id="m9", unsubscribe_email=False, unsubscribe_texting=False
    ).customer

    def delete_and_unify(chunk: int) -> None:
        if chunk == 1:
            customer_delete(channel=channel, customer=gone, by=None)
            unify_lead_into_member(
                channel=channel, lead=moved, member=member, via=ActivityLog.Via.HAND
            )

    after_apply.append(delete_and_unify)
    head = ["email", "name", "unsubscribeEmail", "unsubscribeTexting"]
    path = csv_file(
        [
            head,
            ["gone@example.com", "Gone again", "", ""],
            ["moved@example.com", "Moved", "", ""],  # changes nothing
            ["kept@example.com", "Kept again", "", ""],
            ["new@example.com", "New", "false", "false"],
        ],
        name="leads.csv",
    )
    result = run_import(channel, path, "--kind", "lead", "--identity", "email", "--tag", tag)

    assert (result["status"], result["created"], result["updated"], result["failed"]) == (
        "succeeded",
        1,
        1,
        2,
    )
    job = ImportJob.objects.get(channel=channel)
    failures = list(ImportFailure.objects.filter(job=job).values_list("row_number", "columns"))
    assert failures == [(2, ["email"]), (3, ["email"])]
    reasons = [f.reasons[0] for f in ImportFailure.objects.filter(job=job)]
    assert all("deleted, or unified into another customer" in r for r in reasons)
    assert not Customer.objects.filter(pk=gone.pk).exists()
    member.refresh_from_db()
    assert member.email == "moved@example.com"
    kept.refresh_from_db()
    assert kept.name == "Kept again"
    tagged = CustomerImportTag.objects.filter(customer__channel=channel)
    assert sorted(tagged.values_list("customer__email", flat=True)) == (
        ["kept@example.com", "new@example.com"] if tag else []
    )
    assert _orphan_links() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r2_25_a_member_keeps_what_a_lead_unified_in_chunk_n_gave_it_in_chunk_n_plus_1(
    channel: Channel,
    csv_file: MakeCsv,
    after_apply: list[AfterApply],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pipelined: chunk 2 is applied while chunk 1 (which creates m1 and unifies a lead into
    it) is not yet written, so chunk 2 sees m1 as chunk 1 left it in memory, without the lead's
    values; it writes only the key its row changes."""
    settings.IMPORT_CHUNK_ROWS = 2
    profile_key_create(channel=channel, key="grade", type="string")
    lead = lead_add(channel=channel, email="lee@example.com", name="Lee").customer
    chunk_two_applied = threading.Event()
    after_apply.append(lambda chunk: chunk_two_applied.set() if chunk == 2 else None)
    written: list[int] = []
    original = CopyWriter.write

    def write(self: CopyWriter, result: ChunkResult, lease: Any) -> None:
        written.append(result.last_row)
        if len(written) == 1:
            assert chunk_two_applied.wait(timeout=30), "chunk 2 was never applied"
        original(self, result, lease)

    monkeypatch.setattr(CopyWriter, "write", write)
    head = ["memberId", "name", "email", "grade", "unsubscribeEmail", "unsubscribeTexting"]
    path = csv_file(
        [
            head,
            ["m1", "", "lee@example.com", "", "false", "false"],
            ["m2", "Filler", "", "", "false", "false"],
            ["m1", "", "", "vip", "", ""],
        ]
    )
    result = run_import(channel, path, "--kind", "member")

    assert (result["status"], result["created"], result["failed"]) == ("succeeded", 2, 0)
    assert written == [3, 4]
    assert not Customer.objects.filter(pk=lead.pk).exists()  # unified in chunk 1
    m1 = _member(channel, "m1")
    assert (m1.name, m1.email, m1.profile) == ("Lee", "lee@example.com", {"grade": "vip"})


def test_r2_25_a_member_created_by_the_api_mid_import_fails_its_row_not_the_chunk(
    channel: Channel, writer: str, csv_file: MakeCsv, after_apply: list[AfterApply]
) -> None:
    """The closing note's "concurrent API create same memberId fails chunk": the Open API
    creates m2 after the import looked chunk 1 up (m2 new then) and before it is written. The
    import's insert meets the unique memberId: m2's row fails with a reason saying so (import
    it again to update the member), the API's member is left as the API wrote it, and the rest
    of the chunk and the import are written."""

    def api_creates_m2(chunk: int) -> None:
        if chunk == 1:
            api_user_upsert(
                channel=channel,
                member_id="m2",
                profile={"name": "from the API"},
                unsubscribe_email=True,
                unsubscribe_texting=True,
            )

    after_apply.append(api_creates_m2)
    head = ["memberId", "name", "unsubscribeEmail", "unsubscribeTexting"]
    rows = [[f"m{i}", f"n{i}", "false", "false"] for i in range(1, 5)]
    result = run_import(channel, csv_file([head, *rows]), "--kind", "member", "--tag", "t")

    assert (result["status"], result["created"], result["updated"], result["failed"]) == (
        "succeeded",
        3,
        0,
        1,
    )
    job = ImportJob.objects.get(channel=channel)
    (failure,) = ImportFailure.objects.filter(job=job)
    assert (failure.row_number, failure.columns) == (3, ["memberId"])
    assert "created by someone else while this import ran" in failure.reasons[0]
    m2 = _member(channel, "m2")
    assert (m2.name, m2.unsubscribe_email) == ("from the API", True)
    assert sorted(Customer.objects.filter(channel=channel).values_list("member_id", flat=True)) == [
        "m1",
        "m2",
        "m3",
        "m4",
    ]
    tagged = CustomerImportTag.objects.filter(customer__channel=channel)
    assert sorted(tagged.values_list("customer__member_id", flat=True)) == ["m1", "m3", "m4"]
    # R2.16b: m2's consent history is the API's alone (the import wrote no row for it); the
    # customers the import created have its entries (issue 15: prepared for the whole chunk).
    entries = ConsentChange.objects.filter(channel=channel)
    assert sorted(entries.values_list("customer__member_id", "source")) == sorted(
        [("m2", "api")] * 2 + [(m, "import") for m in ("m1", "m3", "m4") for _ in range(2)]
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r2_25_a_member_taken_mid_import_fails_its_later_rows_with_the_same_reason(
    channel: Channel,
    csv_file: MakeCsv,
    after_apply: list[AfterApply],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pipelined: chunk 2 meets m1 again while chunk 1, which creates it, is not written yet,
    and the Open API creates m1 in between. Chunk 1 cannot create it; chunk 2's row (an update
    of the m1 chunk 1 was to create) fails with the same reason, not as "deleted"."""
    settings.IMPORT_CHUNK_ROWS = 2
    chunk_two_applied = threading.Event()

    def api_then_release(chunk: int) -> None:
        if chunk == 1:
            api_user_upsert(
                channel=channel, member_id="m1", unsubscribe_email=True, unsubscribe_texting=True
            )
        if chunk == 2:
            chunk_two_applied.set()

    after_apply.append(api_then_release)
    written: list[int] = []
    original = CopyWriter.write

    def write(self: CopyWriter, result: ChunkResult, lease: Any) -> None:
        written.append(result.last_row)
        if len(written) == 1:
            assert chunk_two_applied.wait(timeout=30), "chunk 2 was never applied"
        original(self, result, lease)

    monkeypatch.setattr(CopyWriter, "write", write)
    head = ["memberId", "name", "unsubscribeEmail", "unsubscribeTexting"]
    path = csv_file(
        [head, ["m1", "a", "false", "false"], ["m2", "b", "false", "false"], ["m1", "c", "", ""]]
    )
    result = run_import(channel, path, "--kind", "member")

    assert (result["status"], result["created"], result["failed"]) == ("succeeded", 1, 2)
    job = ImportJob.objects.get(channel=channel)
    failures = ImportFailure.objects.filter(job=job).order_by("row_number")
    assert [(f.row_number, f.columns) for f in failures] == [(2, ["memberId"]), (4, ["memberId"])]
    assert all("created by someone else while this import ran" in f.reasons[0] for f in failures)
    assert _member(channel, "m1").unsubscribe_email is True  # as the API left it


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run ``work`` on its own thread (its own connection, its own transactions); the list
    gets what it returned or raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as error:
            outcome.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _orphan_links() -> list[int]:
    """Import-tag links whose customer is gone (the table has no foreign key, issue 15)."""
    return list(
        CustomerImportTag.objects.exclude(
            customer_id__in=Customer.objects.values("id")
        ).values_list("customer_id", flat=True)
    )


def _orphan_journal() -> list[int]:
    """Import journal entries (a customer's earlier values) whose customer is gone."""
    return list(
        ImportJournal.objects.exclude(customer_id__in=Customer.objects.values("id")).values_list(
            "customer_id", flat=True
        )
    )


def _delete_waiting_for(
    cursor: Any, channel: Channel, customer: Customer
) -> tuple[threading.Thread, list[object]]:
    """Start deleting the customer on another connection and return once that deletion waits
    for the transaction of ``cursor`` (which holds the customer)."""
    started = _in_thread(lambda: customer_delete(channel=channel, customer=customer, by=None))
    for _ in range(300):
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        if cursor.fetchone()[0]:
            return started
        time.sleep(0.1)
    pytest.fail("the deletion never waited for the import")


def _tagged_import(channel: Channel, csv_file: MakeCsv) -> dict[str, Any]:
    head = ["email", "name", "unsubscribeEmail", "unsubscribeTexting"]
    path = csv_file(
        [head, ["gone@example.com", "Gone", "", ""], ["kept@example.com", "Kept", "", ""]]
    )
    return run_import(channel, path, "--kind", "lead", "--identity", "email", "--tag", "spring")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r2_25_a_deletion_done_between_the_tag_and_the_hold_leaves_no_link_behind(
    channel: Channel, csv_file: MakeCsv, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15 (the link is not checked by the database): a manager deletes a customer after
    the import's chunk tagged it and before the chunk holds it. The deletion does not wait for
    the import; the import finds the customer gone, fails its row and takes its tag back."""
    settings.IMPORT_USE_COPY = True
    gone = lead_add(channel=channel, email="gone@example.com", name="Gone").customer
    lead_add(channel=channel, email="kept@example.com", name="Kept")
    original = CopyWriter._tag_existing
    deletions: list[list[object]] = []

    def tag_existing(self: CopyWriter, cursor: Any, ids: list[int], now: Any) -> list[int]:
        gained = original(self, cursor, ids, now)
        if gone.pk in gained and not deletions:
            thread, outcome = _in_thread(
                lambda: customer_delete(channel=channel, customer=gone, by=None)
            )
            deletions.append(outcome)
            thread.join(timeout=30)
            assert not thread.is_alive(), "the deletion waited for the import"
        return gained

    monkeypatch.setattr(CopyWriter, "_tag_existing", tag_existing)
    result = _tagged_import(channel, csv_file)

    assert deletions and not any(isinstance(o, Exception) for o in deletions[0])
    assert (result["status"], result["updated"], result["failed"]) == ("succeeded", 1, 1)
    failure = ImportFailure.objects.get(job__channel=channel)
    assert (failure.row_number, failure.columns) == (2, ["email"])
    assert "deleted, or unified into another customer" in failure.reasons[0]
    assert not Customer.objects.filter(pk=gone.pk).exists()
    assert _orphan_links() == []
    assert _orphan_journal() == []
    assert list(CustomerImportTag.objects.values_list("customer__email", flat=True)) == [
        "kept@example.com"
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r2_25_a_deletion_started_after_the_hold_waits_and_removes_the_new_link(
    channel: Channel, csv_file: MakeCsv, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: a manager deletes a customer the import's chunk has tagged and holds. The
    deletion waits for the chunk's commit, then deletes the customer and the link the import
    wrote: no link outlives its customer."""
    settings.IMPORT_USE_COPY = True
    gone = lead_add(channel=channel, email="gone@example.com", name="Gone").customer
    lead_add(channel=channel, email="kept@example.com", name="Kept")
    original = CopyWriter._hold
    deletions: list[tuple[threading.Thread, list[object]]] = []

    def hold(self: CopyWriter, cursor: Any, ids: list[int], now: Any) -> set[int]:
        gone_ids = original(self, cursor, ids, now)
        if gone.pk in ids and not deletions:
            deletions.append(_delete_waiting_for(cursor, channel, gone))
        return gone_ids

    monkeypatch.setattr(CopyWriter, "_hold", hold)
    result = _tagged_import(channel, csv_file)
    thread, outcome = deletions[0]
    thread.join(timeout=30)

    assert not thread.is_alive() and not any(isinstance(o, Exception) for o in outcome)
    assert (result["status"], result["updated"], result["failed"]) == ("succeeded", 2, 0)
    assert not Customer.objects.filter(pk=gone.pk).exists()
    assert _orphan_links() == []
    assert _orphan_journal() == []
    assert list(CustomerImportTag.objects.values_list("customer__email", flat=True)) == [
        "kept@example.com"
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r3_2_a_deletion_waiting_for_an_import_that_changes_the_customer_leaves_no_earlier_values(
    channel: Channel, csv_file: MakeCsv, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R3.2: an import's journal keeps a customer's earlier values (the undo's and consent
    history's base), which is the customer's data. A manager deletes a customer while an
    import's chunk is changing it: the deletion waits for the chunk, then takes the journal
    entry that chunk wrote along with the customer."""
    settings.IMPORT_USE_COPY = True
    gone = lead_add(channel=channel, email="gone@example.com", name="Old name").customer
    original = CopyWriter._apply_deltas
    deletions: list[tuple[threading.Thread, list[object]]] = []

    def apply_deltas(self: CopyWriter, cursor: Any, now: Any) -> list[int]:
        changed = original(self, cursor, now)
        if gone.pk in changed and not deletions:
            deletions.append(_delete_waiting_for(cursor, channel, gone))
        return changed

    monkeypatch.setattr(CopyWriter, "_apply_deltas", apply_deltas)
    path = csv_file([["email", "name"], ["gone@example.com", "New name"]])
    result = run_import(channel, path, "--kind", "lead", "--identity", "email")
    thread, outcome = deletions[0]
    thread.join(timeout=30)

    assert not thread.is_alive() and not any(isinstance(o, Exception) for o in outcome)
    assert (result["status"], result["updated"]) == ("succeeded", 1)
    assert not Customer.objects.filter(pk=gone.pk).exists()
    assert _orphan_journal() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r2_25_each_chunk_holds_its_channel_while_it_writes_customers_into_it(
    channel: Channel, csv_file: MakeCsv, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the customer table no longer checks a customer's channel, row by row at each
    commit (crm 0024): each chunk of an import holds its channel instead, so the channel cannot
    be taken away while the chunk writes customers into it, and is free again afterwards."""
    from django.db import OperationalError, connection, transaction

    settings.IMPORT_USE_COPY = True
    original = CopyWriter._create
    tries: list[list[object]] = []

    def lock_channel() -> bool:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM crm_channel WHERE id = %s FOR UPDATE NOWAIT", [channel.pk]
            )
        return True

    def create(self: CopyWriter, targets: Any, now: Any) -> list[Any]:
        taken = original(self, targets, now)
        thread, outcome = _in_thread(lock_channel)
        thread.join(timeout=30)
        tries.append(outcome)
        return taken

    monkeypatch.setattr(CopyWriter, "_create", create)
    head = ["email", "unsubscribeEmail", "unsubscribeTexting"]
    path = csv_file([head, ["a@example.com", "false", "false"]])
    result = run_import(channel, path, "--kind", "lead", "--identity", "email")

    assert result["created"] == 1
    assert len(tries) == 1 and isinstance(tries[0][0], OperationalError), tries
    assert "could not obtain lock" in str(tries[0][0])
    assert lock_channel() is True  # the import is over: nothing holds the channel


@pytest.mark.postgres
def test_r2_25_a_chunk_for_a_channel_that_is_gone_writes_nothing(channel: Channel) -> None:
    """The hold finds no channel (deleted meanwhile): the chunk stops before writing."""
    from django.db import transaction

    writer = CopyWriter(job=None, channel=Channel(pk=channel.pk + 1000), import_tag=None)  # type: ignore[arg-type]
    with pytest.raises(Channel.DoesNotExist), transaction.atomic():
        writer._begin()

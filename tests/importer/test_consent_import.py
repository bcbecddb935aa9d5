"""R2.16b consent history through imports and their undo, with both writers (the ORM's on every
database, COPY/UPDATE on PostgreSQL): a created customer's flags, a changed flag with the value
the row held when it was written, nothing for a flag written again, and undo's own entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crm.models import Channel, ConsentChange, Customer
from crm.services.api_users import api_user_upsert
from importer.models import ImportJob
from importer.undo import run_undo, undo_start
from tests.importer import test_engine_concurrent_writes
from tests.importer.conftest import run_import

MakeCsv = Callable[..., Path]
HEAD = ["memberId", "name", "unsubscribeEmail", "unsubscribeTexting"]

WRITERS = [
    "orm",
    pytest.param(
        "copy", marks=[pytest.mark.postgres, pytest.mark.django_db(transaction=True)], id="copy"
    ),
]

pytestmark = pytest.mark.django_db(transaction=True)

# Callbacks run after each chunk is applied, before it is written (a fixture of that module).
after_apply = test_engine_concurrent_writes.after_apply


@pytest.fixture(params=WRITERS)
def writer(request: pytest.FixtureRequest, settings: Any) -> str:
    settings.IMPORT_USE_COPY = request.param == "copy"
    settings.IMPORT_CHUNK_ROWS = 2  # several chunks, and the write pipeline between them
    return str(request.param)


def history(channel: Channel, member_id: str) -> list[tuple[str, Any, Any, str, Any]]:
    """Oldest first: (key, old, new, source, reference)."""
    customer = Customer.objects.get(channel=channel, member_id=member_id)
    return [
        (c.key, c.old, c.new, c.source, c.reference)
        for c in ConsentChange.objects.filter(customer=customer).order_by("at", "id")
    ]


def members(channel: Channel, csv_file: MakeCsv, rows: list[list[str]], tag: str) -> ImportJob:
    run_import(channel, csv_file([HEAD, *rows]), "--kind", "member", "--tag", tag)
    return ImportJob.objects.get(channel=channel, tag=tag)


def test_r2_16b_an_import_records_new_customers_and_real_changes_only(
    channel: Channel, csv_file: MakeCsv, writer: str
) -> None:
    first = members(
        channel,
        csv_file,
        [["m1", "Kim", "false", "false"], ["m2", "Lee", "true", "false"], ["m3", "Park", "0", "1"]],
        "first",
    )
    assert history(channel, "m1") == [
        ("unsubscribeEmail", None, False, "import", first.pk),
        ("unsubscribeTexting", None, False, "import", first.pk),
    ]
    assert ConsentChange.objects.filter(channel=channel).count() == 6
    second = members(
        channel,
        csv_file,
        [
            ["m1", "Kim", "true", ""],  # email changes; an empty cell keeps texting (R2.10)
            ["m2", "Lee B", "true", "false"],  # the same flags again: nothing to record
            ["m3", "Park", "", ""],
            ["m1", "Kim", "true", "true"],  # met again, a later chunk: texting changes now
        ],
        "second",
    )
    assert history(channel, "m1")[2:] == [
        ("unsubscribeEmail", False, True, "import", second.pk),
        ("unsubscribeTexting", False, True, "import", second.pk),
    ]
    assert len(history(channel, "m2")) == len(history(channel, "m3")) == 2
    assert ConsentChange.objects.filter(channel=channel).count() == 8


def test_r2_16b_the_old_value_is_the_rows_when_written_not_when_read(
    channel: Channel, csv_file: MakeCsv, writer: str, after_apply: list[Callable[[int], None]]
) -> None:
    """R2.25: an API call opts m1 out of email after the import looked m1 up, and of texts; the
    import's row opts m1 out of email too and leaves texts as it read them. Only the API's
    changes are real: the import wrote nothing new (and does not overwrite the texts flag)."""
    members(channel, csv_file, [["m1", "Kim", "false", "false"]], "first")

    def api_in_between(chunk: int) -> None:
        if not ConsentChange.objects.filter(source="api").exists():
            api_user_upsert(
                channel=channel, member_id="m1", unsubscribe_email=True, unsubscribe_texting=True
            )

    after_apply.append(api_in_between)
    members(channel, csv_file, [["m1", "Kim B", "true", "false"]], "second")
    assert history(channel, "m1")[2:] == [
        ("unsubscribeEmail", False, True, "api", None),
        ("unsubscribeTexting", False, True, "api", None),
    ]
    m1 = Customer.objects.get(member_id="m1")
    assert (m1.name, m1.unsubscribe_email, m1.unsubscribe_texting) == ("Kim B", True, True)


def test_r2_16b_an_import_then_its_undo_gives_two_entries(
    channel: Channel, csv_file: MakeCsv, writer: str
) -> None:
    members(channel, csv_file, [["m1", "Kim", "false", "false"]], "base")
    job = members(channel, csv_file, [["m1", "Kim", "true", ""], ["m9", "New", "1", "1"]], "oops")
    undo = run_undo(undo_start(job=job, by=None, dispatch=False).pk)
    assert undo.status == "succeeded"
    assert history(channel, "m1")[2:] == [
        ("unsubscribeEmail", False, True, "import", job.pk),
        ("unsubscribeEmail", True, False, "undo", job.pk),
    ]
    undo_entry = ConsentChange.objects.get(source="undo")
    assert undo_entry.label == str(undo.pk)  # which undo, beside which import
    # The customer the import created is gone, and its history with it (R3.2).
    assert not Customer.objects.filter(member_id="m9").exists()
    assert ConsentChange.objects.filter(channel=channel).count() == 4
    # A second undo changes nothing, so records nothing.
    with pytest.raises(Exception, match="already undone"):
        undo_start(job=job, by=None, dispatch=False)
    assert ConsentChange.objects.filter(channel=channel).count() == 4


def test_r2_16b_a_kept_later_value_is_not_undone_nor_recorded(
    channel: Channel, csv_file: MakeCsv, writer: str
) -> None:
    members(channel, csv_file, [["m1", "Kim", "false", "false"]], "base")
    job = members(channel, csv_file, [["m1", "Kim", "true", ""]], "oops")
    api_user_upsert(channel=channel, member_id="m1", unsubscribe_email=False)
    run_undo(undo_start(job=job, by=None, dispatch=False).pk)
    assert [entry[3] for entry in history(channel, "m1")] == ["import", "import", "import", "api"]


def test_r2_16b_a_new_customer_records_its_flags_since_its_creation(
    channel: Channel, csv_file: MakeCsv, writer: str
) -> None:
    """Issue 15 (import speed): the COPY writer records new customers' flags from the values it
    writes into their rows, not by reading the rows back; the history must stay the same: each
    entry says since when (the customer's creation) and through what (this import)."""
    job = members(channel, csv_file, [["m1", "Kim", "true", "false"]], "first")
    m1 = Customer.objects.get(channel=channel, member_id="m1")
    assert history(channel, "m1") == [
        ("unsubscribeEmail", None, True, "import", job.pk),
        ("unsubscribeTexting", None, False, "import", job.pk),
    ]
    job.refresh_from_db()
    assert job.started_at and job.finished_at
    for entry in ConsentChange.objects.filter(customer=m1):
        assert job.started_at <= entry.at <= job.finished_at
        if writer == "copy":  # the chunk's one time stamp
            assert entry.at == m1.created_at


def test_r2_16b_deleting_a_channel_erases_its_consent_history(
    channel: Channel, csv_file: MakeCsv, writer: str
) -> None:
    """The database no longer checks a history row's channel (issue 15: the check was a third of
    the rows' cost): the channel's deletion still takes its rows with it (R3.2)."""
    members(channel, csv_file, [["m1", "Kim", "false", "true"]], "first")
    assert ConsentChange.objects.filter(channel_id=channel.pk).count() == 2
    channel_id = channel.pk
    Channel.objects.filter(pk=channel_id).delete()
    assert not ConsentChange.objects.filter(channel_id=channel_id).exists()

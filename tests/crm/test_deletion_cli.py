"""``delete_customers`` (SPEC §9, R3.1, R2.21), driven as a script would."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.models import (
    ActivityLog,
    Channel,
    Chat,
    Customer,
    CustomerImportTag,
    DeletionJob,
    ImportTag,
    Message,
)
from tests.crm.test_deletion_admin import unbounded_counts


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("delete_customers", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def spring(channel: Channel) -> list[Customer]:
    tag = ImportTag.objects.create(channel=channel, name="봄 이벤트")
    people = [
        Customer.objects.create(channel=channel, verified=True, member_id=f"m{i}") for i in range(3)
    ]
    for person in people:
        CustomerImportTag.objects.create(
            channel=channel, customer=person, import_tag=tag, added_at=timezone.now()
        )
        chat = Chat.objects.create(channel=channel, customer=person)
        Message.objects.create(channel=channel, chat=chat, sender="customer", body="hi")
    return people


def test_r3_1_without_yes_nothing_is_deleted_and_the_exit_is_non_zero(
    channel: Channel, spring: list[Customer]
) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError, match="--yes"):
        call_command("delete_customers", channel.slug, "--import-tag", "봄 이벤트", stdout=out)
    assert "3 customers" in out.getvalue()
    assert Customer.objects.count() == 3


def test_r2_21_delete_by_import_tag_keeps_messages(
    channel: Channel, spring: list[Customer]
) -> None:
    assert "deleted 3 customers" in run(channel.slug, "--import-tag", "봄 이벤트", "--yes")
    assert not Customer.objects.exists() and Message.objects.count() == 3
    entry = ActivityLog.objects.get(action="customer.delete")
    assert (entry.via, entry.count, entry.actor) == ("command", 3, None)


def test_r3_1_delete_by_ids_and_member_ids(channel: Channel, spring: list[Customer]) -> None:
    assert "deleted 1 customer of" in run(channel.slug, "--id", str(spring[0].pk), "--yes")
    assert "deleted 2 customers" in run(channel.slug, "--member-id", "m1", "m2", "--yes")
    assert not Customer.objects.exists()


def test_r3_1_large_deletion_runs_in_process_in_chunks(
    channel: Channel, spring: list[Customer], settings: Any
) -> None:
    settings.DELETE_INLINE_MAX = 1
    settings.DELETE_CHUNK_ROWS = 2
    assert "deleted 3 customers" in run(channel.slug, "--import-tag", "봄 이벤트", "--yes")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "999999", "--yes"], "no customer with the id 999999"),
        (["--member-id", "m0", "nobody", "--yes"], "no customer with the memberId nobody"),
        (["--import-tag", "nope", "--yes"], "no import tag"),
    ],
)
def test_r3_1_unknown_targets_delete_nothing(
    channel: Channel, spring: list[Customer], args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run(channel.slug, *args)
    assert Customer.objects.count() == 3


def test_r3_1_one_way_to_choose_customers(channel: Channel) -> None:
    with pytest.raises(CommandError):
        run(channel.slug, "--yes")
    with pytest.raises(CommandError):
        run(channel.slug, "--id", "1", "--import-tag", "x")
    with pytest.raises(CommandError, match="no channel"):
        run("nope", "--id", "1")


def test_r8_2_another_channels_customers_are_never_deleted(
    channel: Channel, other_channel: Channel, spring: list[Customer]
) -> None:
    with pytest.raises(CommandError, match="no customer"):
        run(other_channel.slug, "--id", str(spring[0].pk), "--yes")
    with pytest.raises(CommandError, match="no customer"):
        run(other_channel.slug, "--member-id", "m0", "--yes")
    with pytest.raises(CommandError, match="no import tag"):
        run(other_channel.slug, "--import-tag", "봄 이벤트", "--yes")
    assert Customer.objects.count() == 3


def test_r3_1_delete_by_import_tag_counts_once_in_its_job(
    channel: Channel, spring: list[Customer], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: with --yes the command does not count before deleting (only up to a bound, 1
    here); the job counts what it deletes, once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.services import deletion

    monkeypatch.setattr(deletion, "COUNT_BOUND", 1)
    settings.DELETE_INLINE_MAX = 1
    settings.DELETE_CHUNK_ROWS = 2
    with CaptureQueriesContext(connection) as queries:
        assert "deleted 3 customers" in run(channel.slug, "--import-tag", "봄 이벤트", "--yes")
    counts = unbounded_counts(queries.captured_queries)
    assert len(counts) == 1, counts
    assert DeletionJob.objects.get().total == 3

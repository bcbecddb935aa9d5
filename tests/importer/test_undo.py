"""R2.16 undo of an import, and `undo_import` (SPEC §9): what comes back, what stays, and why."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
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
    ImportTag,
    InboxMessage,
)
from crm.selectors import channel_mu, channel_mu_counted
from crm.services.api_users import api_user_upsert
from crm.services.conversations import chat_open
from importer.jobs import ImportLocked
from importer.models import ImportJob, ImportJournal, ImportStatus
from importer.undo import UndoRefused, run_undo, undo_preview, undo_start
from tests.importer.conftest import run_import

MakeCsv = Callable[..., Path]
HEAD = ["memberId", "name", "email", "grade", "points", "unsubscribeEmail", "unsubscribeTexting"]

pytestmark = pytest.mark.django_db(transaction=True)


def undo_cmd(channel: Channel, job_id: int, *args: str) -> Any:
    out = io.StringIO()
    call_command("undo_import", channel.slug, str(job_id), *args, stdout=out)
    text = out.getvalue()
    return json.loads(text) if "--json" in args else text


def state(channel: Channel) -> dict[str, Any]:
    """Every customer as a manager sees them: values and import tags (oldest first)."""
    out = {}
    for c in Customer.objects.filter(channel=channel).order_by("id"):
        tags = [
            t.import_tag.name
            for t in CustomerImportTag.objects.filter(customer=c)
            .select_related("import_tag")
            .order_by("added_at", "id")
        ]
        out[c.member_id or f"lead:{c.email}"] = {
            "name": c.name,
            "email": c.email,
            "grade": c.profile.get("grade"),
            "points": c.profile.get("points"),
            "unsubscribeEmail": c.unsubscribe_email,
            "unsubscribeTexting": c.unsubscribe_texting,
            "importTags": tags,
        }
    return out


@pytest.fixture
def scenario(channel: Channel, csv_file: MakeCsv) -> dict[str, Any]:
    """Before: m1..m3 (m3 with 30 import tags) and a lead of m1's new email. Import A creates m5,
    m6, updates m1..m3 (several keys, unsubscribe flags, a 31st tag on m3) and unifies the lead
    into m1. Then the API changes m2's grade, a second import B changes m1's grade and m6, and m5
    chats."""
    from crm.services.profile_keys import profile_key_create

    profile_key_create(channel=channel, key="grade", type="string")
    profile_key_create(channel=channel, key="points", type="number")
    base = run_import(
        channel,
        csv_file(
            [
                HEAD,
                ["m1", "Kim", "", "bronze", "1", "false", "false"],
                ["m2", "Lee", "lee@example.com", "bronze", "10", "false", "false"],
                ["m3", "Park", "park@example.com", "", "", "false", "false"],
            ],
            name="base.csv",
        ),
        "--kind",
        "member",
        "--tag",
        "base",
    )
    assert base["created"] == 3
    lead = run_import(
        channel,
        csv_file(
            [
                ["email", "name", "unsubscribeEmail", "unsubscribeTexting"],
                ["kim@example.com", "Lead Kim", "false", "false"],
            ],
            name="lead.csv",
        ),
        "--kind",
        "lead",
        "--identity",
        "email",
    )
    assert lead["created"] == 1
    m3 = Customer.objects.get(channel=channel, member_id="m3")
    CustomerImportTag.objects.filter(customer=m3).delete()
    long_ago = timezone.now() - timedelta(days=60)
    for i in range(30):
        tag = ImportTag.objects.create(channel=channel, name=f"old-{i:02d}")
        CustomerImportTag.objects.create(
            channel=channel, customer=m3, import_tag=tag, added_at=long_ago + timedelta(hours=i)
        )
    before = state(channel)
    first = run_import(
        channel,
        csv_file(
            [
                HEAD,
                ["m1", "Kim A", "kim@example.com", "gold", "", "", ""],
                ["m2", "", "", "silver", "20", "true", ""],
                ["m3", "Park A", "", "", "", "", "true"],
                ["m5", "New Five", "five@example.com", "gold", "5", "false", "false"],
                ["m6", "New Six", "", "", "", "true", "true"],
            ],
            name="a.csv",
        ),
        "--kind",
        "member",
        "--tag",
        "fileA",
    )
    assert (first["created"], first["updated"]) == (2, 3)
    job_a = ImportJob.objects.get(tag="fileA")
    assert not Customer.objects.filter(channel=channel, member_id__isnull=True).exists()
    assert [t["importTags"][0] for t in [state(channel)["m3"]]] == ["old-01"]  # 31st dropped one
    api_user_upsert(channel=channel, member_id="m2", profile={"grade": "vip"})
    run_import(
        channel,
        csv_file(
            [["memberId", "name", "grade"], ["m1", "", "platinum"], ["m6", "Six B", ""]],
            name="b.csv",
        ),
        "--kind",
        "member",
        "--tag",
        "fileB",
    )
    m5 = Customer.objects.get(channel=channel, member_id="m5")
    chat = chat_open(channel=channel, customer=m5)
    return {"before": before, "job": job_a, "chat": chat}


def test_r2_16_dry_run_counts_what_undo_will_do(channel: Channel, scenario: dict[str, Any]) -> None:
    job = scenario["job"]
    preview = undo_preview(job)
    assert (preview.delete, preview.restore, preview.kept, preview.unifications) == (2, 3, 2, 1)
    assert preview.changed_since == 2  # m5 chatted, m6 was changed by import B
    kept = sorted((k.key, k.imported, k.today) for k in preview.kept_samples)
    assert kept == [("grade", "gold", "platinum"), ("grade", "silver", "vip")]
    assert preview.refusal is None
    # The command without --yes prints the same dry run and changes nothing.
    snapshot = state(channel)
    text = undo_cmd(channel, job.pk)
    assert "delete 2 customers" in text and "keep 2 values" in text and "--yes" in text
    assert undo_cmd(channel, job.pk, "--json")["restore"] == 3
    assert state(channel) == snapshot


def test_r2_16_undo_gives_back_the_channel_as_it_was_except_later_changes(
    channel: Channel, scenario: dict[str, Any]
) -> None:
    job, before = scenario["job"], scenario["before"]
    result = undo_cmd(channel, job.pk, "--yes", "--json")
    assert result == {"status": "succeeded", "deleted": 2, "restored": 3, "kept": 2, "failed": 0}
    after = state(channel)
    # Created customers are gone; the chat of one of them stays, from a deleted customer.
    assert set(after) == {"m1", "m2", "m3"}
    chat = Chat.objects.get(pk=scenario["chat"].pk)
    assert chat.customer_id is None
    # m1: its name comes back, the grade import B wrote after it stays; the lead stays unified.
    assert after["m1"]["name"] == "Kim"
    assert after["m1"]["grade"] == "platinum"
    assert after["m1"]["email"] is None
    # The unified lead's import tag stays with m1 (the unification stays); fileA comes off.
    assert after["m1"]["importTags"] == ["base", "lead", "fileB"]
    # m2: points and the unsubscribe flag come back, the API's grade stays.
    assert after["m2"] == {**before["m2"], "grade": "vip"}
    # m3: name and flag come back, and the tag the 30-limit dropped comes back in its place.
    assert after["m3"] == before["m3"]
    assert after["m3"]["importTags"][0] == "old-00" and len(after["m3"]["importTags"]) == 30
    assert channel_mu(channel) == channel_mu_counted(channel) == 3
    undo = ImportJob.objects.get(undoes=job)
    assert sorted((k["key"], k["imported"], k["today"]) for k in undo.kept_samples) == [
        ("grade", "gold", "platinum"),
        ("grade", "silver", "vip"),
    ]
    # Its own line in the activity log and a bot message.
    entry = ActivityLog.objects.get(channel=channel, action=ActivityLog.Action.IMPORT_UNDO)
    assert entry.detail["import"] == job.pk and entry.detail["deleted"] == 2
    assert InboxMessage.objects.filter(title__contains=f"#{job.pk}").exists()


def test_r2_16_a_second_undo_changes_nothing(channel: Channel, scenario: dict[str, Any]) -> None:
    job = scenario["job"]
    undo_cmd(channel, job.pk, "--yes", "--json")
    once = state(channel)
    again = undo_cmd(channel, job.pk, "--yes", "--json")
    assert again["status"] == "already_undone"
    assert state(channel) == once
    assert ImportJob.objects.filter(undoes=job).count() == 1
    with pytest.raises(UndoRefused, match="already undone"):
        undo_start(job=job, by=None)


def test_r2_16_undo_is_refused_while_another_import_runs(
    channel: Channel, scenario: dict[str, Any]
) -> None:
    job = scenario["job"]
    running = ImportJob.objects.create(
        channel=channel,
        filename="big.csv",
        kind="member",
        identity="memberId",
        status=ImportStatus.RUNNING,
        heartbeat_at=timezone.now(),
    )
    snapshot = state(channel)
    with pytest.raises(ImportLocked, match=f"import #{running.pk}"):
        undo_start(job=job, by=None)
    with pytest.raises(CommandError, match="one import runs at a time"):
        undo_cmd(channel, job.pk, "--yes")
    assert state(channel) == snapshot
    assert not ImportJob.objects.filter(undoes=job).exists()


def test_r2_16_undo_resumes_after_its_worker_died(
    channel: Channel, scenario: dict[str, Any], settings: Any
) -> None:
    """Chunk of one customer: the first chunk commits, then the worker 'dies' (its lease goes
    stale); the resumed undo finishes with the same state as one uninterrupted undo."""
    settings.IMPORT_CHUNK_ROWS = 1
    job = scenario["job"]
    undo = undo_start(job=job, by=None, dispatch=False)
    calls = []

    def die(current: ImportJob) -> None:
        calls.append(current.rows_done)
        raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        run_undo(undo.pk, progress=die)
    undo.refresh_from_db()
    assert undo.status == ImportStatus.RUNNING and undo.rows_done == 1
    ImportJob.objects.filter(pk=undo.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    finished = run_undo(undo.pk)
    assert (finished.status, finished.deleted, finished.restored, finished.kept) == (
        "succeeded",
        2,
        3,
        2,
    )
    assert set(state(channel)) == {"m1", "m2", "m3"}
    assert state(channel)["m3"] == scenario["before"]["m3"]


def test_r2_16_undo_is_possible_only_while_the_failure_log_is_kept(
    channel: Channel, scenario: dict[str, Any], settings: Any
) -> None:
    job = scenario["job"]
    ImportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.FAILURE_LOG_RETENTION_DAYS + 1)
    )
    job.refresh_from_db()
    assert "no longer" in (undo_preview(job).refusal or "")
    with pytest.raises(CommandError, match="can no longer be undone"):
        undo_cmd(channel, job.pk, "--yes")


def test_r2_16_journal_keeps_the_written_value_and_dropped_tags(
    channel: Channel, scenario: dict[str, Any]
) -> None:
    job = scenario["job"]
    m3 = Customer.objects.get(channel=channel, member_id="m3")
    entry = ImportJournal.objects.get(job=job, customer_id=m3.pk)
    assert entry.previous == {"name": "Park", "unsubscribeTexting": False}
    assert entry.written == {"name": "Park A", "unsubscribeTexting": True}
    assert [tag for tag, _ in entry.dropped_tags] == [
        ImportTag.objects.get(channel=channel, name="old-00").pk
    ]


def test_r2_16_older_journal_without_written_values_restores_only_untouched_customers(
    channel: Channel, scenario: dict[str, Any]
) -> None:
    """Journals written before undo existed have no written values: a customer updated after the
    import keeps every value the import changed (reported), the others are restored."""
    job = scenario["job"]
    ImportJournal.objects.filter(job=job).update(written=None)
    preview = undo_preview(job)
    # m1 (import B) and m2 (API) were updated after import A; m3 was not.
    assert preview.restore == 1
    assert {k.key for k in preview.kept_samples} == {
        "name",
        "grade",
        "email",
        "points",
        "unsubscribeEmail",
    }


# --- the import log in the browser ------------------------------------------------------------
def test_r2_16_undo_from_the_import_log_confirm_page_then_job(
    channel: Channel, scenario: dict[str, Any], owner: Any, eager_celery: None
) -> None:
    from tests.importer.wizard_support import client_for, url

    job = scenario["job"]
    client = client_for(owner)
    log = client.get(url("log", channel)).content.decode()
    assert url("undo", channel, job) in log
    confirm = client.get(url("undo", channel, job)).content.decode()
    assert 'data-count="delete">2<' in confirm and 'data-count="kept">2<' in confirm
    assert "their chats and messages stay" in confirm and "platinum" in confirm
    done = client.post(url("undo", channel, job))
    undo = ImportJob.objects.get(undoes=job)
    assert done.url == url("job", channel, undo)
    assert undo.status == ImportStatus.SUCCEEDED
    page = client.get(done.url).content.decode()
    assert 'data-count="deleted">2<' in page and 'data-count="restored">3<' in page
    log = client.get(url("log", channel)).content.decode()
    assert f"Undo of import #{job.pk}" in log and f"Undone (#{undo.pk})" in log
    # A second undo from the browser is refused with the reason; nothing changes.
    snapshot = state(channel)
    again = client.post(url("undo", channel, job))
    assert again.status_code == 409 and "already undone" in again.content.decode()
    assert state(channel) == snapshot


def test_r2_16_undo_needs_the_import_permission(
    channel: Channel, scenario: dict[str, Any], agent: Any
) -> None:
    from tests.importer.wizard_support import client_for, url

    job = scenario["job"]
    response = client_for(agent).post(url("undo", channel, job))
    assert response.status_code in (403, 404)
    assert not ImportJob.objects.filter(undoes=job).exists()
    with pytest.raises(UndoRefused, match="may not import"):
        undo_start(job=job, by=agent)


def test_r2_16_the_import_log_says_when_undo_is_no_longer_possible(
    channel: Channel, scenario: dict[str, Any], owner: Any, settings: Any
) -> None:
    from tests.importer.wizard_support import client_for, url

    job = scenario["job"]
    ImportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.FAILURE_LOG_RETENTION_DAYS + 1)
    )
    log = client_for(owner).get(url("log", channel)).content.decode()
    assert "No longer possible" in log and url("undo", channel, job) not in log

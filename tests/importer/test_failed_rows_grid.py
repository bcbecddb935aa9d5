"""Fixing failed rows in the browser (R2.16a): the grid of a check's and of a finished import's
failed rows, each edit checked by the import's parsers, the fixed rows imported (before the
start, and as a follow-up import that undo covers), tenancy and bad input.

Without REDIS_URL, Celery runs in-process: the check and the imports finish inside the request.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crm.models import Channel, Customer
from importer.failed_rows.grid import PAGE_ROWS
from importer.failed_rows.storage import edits_in_order, open_import_rows
from importer.models import ImportFailure, ImportJob, RowEdit
from tests.importer.wizard_support import (
    MEMBER_HEAD,
    client_for,
    csv_bytes,
    eager_tasks,
    latest_job,
    mapping_post,
    upload,
    url,
)

pytestmark = pytest.mark.django_db
__all__ = ["eager_tasks"]

ROWS = [
    MEMBER_HEAD,
    ["m1", "김철수", "kim@example.com", "false", "true"],
    ["m2", "이영희", "not-an-email", "false", "false"],  # row 3: bad email
    ["", "박민수", "park@example.com", "false", "false"],  # row 4: no memberId
    ["m4", "최지우", "choi@example.com", "maybe", "false"],  # row 5: bad boolean
]
EMAIL, UNSUB, MEMBER = 2, 3, 0  # file column indexes


@pytest.fixture
def client(owner: Any, channel: Channel) -> Client:
    return client_for(owner)


def checked(client: Client, channel: Channel, rows: list[list[object]] = ROWS) -> ImportJob:
    """A draft mapped one to one and checked (the check runs inside the request)."""
    assert upload(client, channel, csv_bytes(rows)).status_code == 302
    job = latest_job(channel)
    response = client.post(url("mapping", channel, job), mapping_post(job, {h: h for h in rows[0]}))
    assert response.status_code == 302, response.content.decode()[:2000]
    job.refresh_from_db()
    return job


def edit(client: Client, job: ImportJob, row: int, column: int, value: str) -> Any:
    return client.post(
        url("failed_rows_cell", job.channel, job), {"row": row, "column": column, "value": value}
    )


def imported(client: Client, channel: Channel, rows: list[list[object]] = ROWS) -> ImportJob:
    job = checked(client, channel, rows)
    client.post(url("settings", channel, job), {"empty_policy": "keep", "tag": "5월"})
    client.post(url("confirm", channel, job))
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return job


def test_r2_16a_the_check_keeps_every_failed_row_for_the_grid(
    client: Client, channel: Channel
) -> None:
    job = checked(client, channel)
    assert job.file_check.would_fail == 3
    assert list(ImportFailure.objects.filter(job=job).values_list("row_number", flat=True)) == [
        3,
        4,
        5,
    ]
    page = client.get(url("check", channel, job)).content.decode()
    assert url("failed_rows", channel, job) in page
    grid = client.get(url("failed_rows", channel, job)).content.decode()
    assert 'name="cell-3-2" value="not-an-email"' in grid
    assert "not-an-email" in grid and "email" in grid
    assert "memberId is empty" in grid  # the row without its identity, beside that cell


def test_r2_16a_an_edit_is_checked_at_once_by_the_import_parsers(
    client: Client, channel: Channel
) -> None:
    job = checked(client, channel)
    still_bad = edit(client, job, 3, EMAIL, "still not an email")
    assert still_bad.status_code == 200
    body = still_bad.json()
    assert body["ok"] is False and body["reasons"][str(EMAIL)]  # the parser's reason
    fixed = edit(client, job, 3, EMAIL, "lee@example.com").json()
    assert fixed == {
        "row": 3,
        "ok": True,
        "edited": True,
        "reasons": {"0": "", "1": "", "2": "", "3": "", "4": ""},
        "notes": [],
        "pending": "1 row edited.",
    }
    boolean = edit(client, job, 5, UNSUB, "yes please").json()
    assert boolean["ok"] is False and boolean["reasons"][str(UNSUB)]
    # Set back to the original text, a cell is no longer an edit.
    edit(client, job, 5, UNSUB, "maybe")
    assert list(edits_in_order(job.pk)) == [(3, {"2": "lee@example.com"})]


def test_r2_16a_the_form_saves_a_page_without_the_script(client: Client, channel: Channel) -> None:
    job = checked(client, channel)
    response = client.post(
        url("failed_rows", channel, job),
        {"page": "1", "cell-4-0": "m3", "cell-5-3": "true", "cell-3-2": "not-an-email"},
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert 'name="cell-4-0" value="m3"' in page
    assert list(edits_in_order(job.pk)) == [(4, {"0": "m3"}), (5, {"3": "true"})]


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        ({"row": 2, "column": EMAIL, "value": "x@example.com"}, 404, "not one of this import"),
        ({"row": 99, "column": EMAIL, "value": "x@example.com"}, 404, "not one of this import"),
        ({"row": 3, "column": 9, "value": "x"}, 400, "not imported"),
        ({"row": 3, "column": EMAIL, "value": "a\x00b"}, 400, "NUL"),
        ({"row": 3, "column": EMAIL, "value": "x" * 40_000}, 400, "at most 32,767"),
        ({"row": "three", "column": EMAIL, "value": "x"}, 400, "row, column and value"),
        ({"column": EMAIL, "value": "x"}, 400, "row, column and value"),
    ],
)
def test_r2_16a_bad_input_is_refused_with_its_reason_and_nothing_written(
    client: Client, channel: Channel, data: dict[str, object], status: int, reason: str
) -> None:
    job = checked(client, channel)
    response = client.post(url("failed_rows_cell", channel, job), data)
    assert response.status_code == status
    assert reason in str(response.json())  # a NUL is refused before the view (R8.3)
    assert not RowEdit.objects.exists()


def test_r2_16a_a_bad_cell_in_the_form_refuses_the_whole_page(
    client: Client, channel: Channel
) -> None:
    job = checked(client, channel)
    response = client.post(
        url("failed_rows", channel, job), {"page": "1", "cell-4-0": "m3", "cell-5-7": "x"}
    )
    assert response.status_code == 400 and "not imported" in response.content.decode()
    assert not RowEdit.objects.exists()


def test_r2_16a_before_the_start_fixed_rows_become_part_of_the_import(
    client: Client, channel: Channel
) -> None:
    job = checked(client, channel)
    edit(client, job, 3, EMAIL, "lee@example.com")
    edit(client, job, 4, MEMBER, "m3")
    response = client.post(url("failed_rows_import", channel, job))
    assert response.url == url("check", channel, job)  # the file is checked again with them
    job.refresh_from_db()
    assert (job.file_check.would_create, job.file_check.would_fail) == (3, 1)
    assert list(ImportFailure.objects.filter(job=job).values_list("row_number", flat=True)) == [5]
    client.post(url("settings", channel, job), {"empty_policy": "keep", "tag": "5월"})
    client.post(url("confirm", channel, job))
    job.refresh_from_db()
    assert (job.status, job.created, job.failed) == ("succeeded", 3, 1)
    assert Customer.objects.get(channel=channel, member_id="m2").email == "lee@example.com"
    assert Customer.objects.get(channel=channel, member_id="m3").name == "박민수"
    # The import's failure log has the row still failing, with its reason.
    failure = ImportFailure.objects.get(job=job)
    assert failure.row_number == 5 and "unsubscribeEmail" in failure.columns


def test_r2_16a_after_the_end_fixed_rows_run_as_a_follow_up_that_undo_covers(
    client: Client, channel: Channel
) -> None:
    job = imported(client, channel)
    assert job.failed == 3
    result = client.get(url("job", channel, job)).content.decode()
    assert url("failed_rows", channel, job) in result
    edit(client, job, 3, EMAIL, "lee@example.com")
    edit(client, job, 5, UNSUB, "still wrong")  # edited, still invalid: fails again
    response = client.post(url("failed_rows_import", channel, job))
    followup = latest_job(channel)
    assert response.url == url("job", channel, followup)
    assert followup.fixes_id == job.pk
    assert (followup.kind, followup.identity, followup.mapping, followup.tag) == (
        job.kind,
        job.identity,
        job.mapping,
        "5월",
    )
    assert (followup.status, followup.rows_total, followup.created, followup.failed) == (
        "succeeded",
        2,
        1,
        1,
    )
    lee = Customer.objects.get(channel=channel, member_id="m2")
    assert (
        lee.email == "lee@example.com"
        and lee.customer_import_tags.filter(import_tag__name="5월").exists()
    )
    again = ImportFailure.objects.get(job=followup)  # under its original row number
    assert again.row_number == 5 and again.values[UNSUB] == "still wrong"
    log = client.get(url("log", channel)).content.decode()
    assert f"Fixes of import #{job.pk}" in log
    # The original's grid shows the rows as taken by the follow-up, and refuses new edits.
    grid = client.get(url("failed_rows", channel, job)).content.decode()
    assert f"Imported again by #{followup.pk}" in grid
    assert edit(client, job, 3, EMAIL, "x@example.com").status_code == 409
    # Undo the follow-up like any import: the customer it created goes.
    client.post(url("undo", channel, followup))
    undo = latest_job(channel)
    assert (undo.undoes_id, undo.status, undo.deleted) == (followup.pk, "succeeded", 1)
    assert not Customer.objects.filter(channel=channel, member_id="m2").exists()
    assert Customer.objects.filter(channel=channel, member_id="m1").exists()


def test_r2_16a_nothing_edited_nothing_imported(client: Client, channel: Channel) -> None:
    job = imported(client, channel)
    response = client.post(url("failed_rows_import", channel, job))
    assert response.url == url("failed_rows", channel, job)
    assert "No row is edited yet" in client.get(response.url).content.decode()
    assert ImportJob.objects.filter(fixes=job).count() == 0


def test_r2_16a_r2_17_a_follow_up_waits_for_the_channel_lock(
    client: Client, channel: Channel
) -> None:
    job = imported(client, channel)
    edit(client, job, 3, EMAIL, "lee@example.com")
    ImportJob.objects.create(
        channel=channel, filename="other.csv", kind="member", identity="memberId", status="queued"
    )
    response = client.post(url("failed_rows_import", channel, job))
    assert response.url == url("failed_rows", channel, job)
    assert "one import runs at a time" in client.get(response.url).content.decode()
    assert not ImportJob.objects.filter(fixes=job).exists()
    assert RowEdit.objects.get(job=job).sent_to_id is None  # still to import


def test_r2_16a_r8_2_tenancy_and_permission(
    client: Client,
    channel: Channel,
    agent: Any,
    outsider: Any,
    owner: Any,
    other_channel: Channel,
) -> None:
    job = checked(client, channel)
    for name in ("failed_rows",):
        assert client_for(outsider).get(url(name, channel, job)).status_code == 404
        assert client_for(agent).get(url(name, channel, job)).status_code == 403
        # acme's job under another channel's slug (the owner of acme is no member there): 404
        assert client.get(f"/imports/{other_channel.slug}/{job.pk}/failed-rows/").status_code == 404
    for name in ("failed_rows_cell", "failed_rows_import"):
        data = {"row": 3, "column": EMAIL, "value": "x@example.com"}
        assert client_for(outsider).post(url(name, channel, job), data).status_code == 404
        assert client_for(agent).post(url(name, channel, job), data).status_code == 403
    assert not RowEdit.objects.exists()


def test_r2_16a_no_grid_for_an_unchecked_draft_an_undo_or_an_expired_log(
    client: Client, channel: Channel
) -> None:
    job = imported(client, channel)
    ImportJob.objects.filter(pk=job.pk).update(failure_log_expires_at=None)
    assert client.get(url("failed_rows", channel, job)).status_code == 404
    assert edit(client, job, 3, EMAIL, "lee@example.com").status_code == 409
    assert upload(client, channel, csv_bytes(ROWS)).status_code == 302
    draft = latest_job(channel)
    assert client.get(url("failed_rows", channel, draft)).url == url("check", channel, draft)


def test_r2_16a_the_grid_pages_thousands_of_rows(client: Client, channel: Channel) -> None:
    rows = [MEMBER_HEAD, *([f"m{i}", "이름", "bad-email", "false", "false"] for i in range(130))]
    job = checked(client, channel, rows)
    first = client.get(url("failed_rows", channel, job)).content.decode()
    assert first.count('name="cell-') == PAGE_ROWS * 5 and "Page 1 of 3" in first
    last = client.get(url("failed_rows", channel, job) + "?page=3").content.decode()
    assert 'name="cell-131-2"' in last and 'name="cell-2-2"' not in last


def test_r2_16a_edits_stream_over_the_file_in_row_order(client: Client, channel: Channel) -> None:
    job = checked(client, channel)
    edit(client, job, 5, UNSUB, "true")
    edit(client, job, 3, EMAIL, "lee@example.com")
    with open_import_rows(job) as table:
        cells = {row.number: row.cells for row in table.rows()}
    assert cells[3][EMAIL] == "lee@example.com" and cells[5][UNSUB] == "true"
    assert cells[2][EMAIL] == "kim@example.com" and cells[4][MEMBER] == ""

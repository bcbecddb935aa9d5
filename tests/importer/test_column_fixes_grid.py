"""Column-wide fixes in the grid of failed rows (R2.16a): offered with their count and
before/after samples on the grid of a check and of a finished import, applied to the stored
failed rows (as the grid's edits, page by page) only when the manager accepts, the fixed rows
judged again and imported as the grid allows; bad input, permissions and a closed grid.

Without REDIS_URL, Celery runs in-process: the check and the imports finish inside the request.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crm.models import Channel, Customer
from crm.services.profile_keys import profile_key_create
from importer.failed_rows.column_fixes import column_fix_run, column_fix_start, fix_offers
from importer.failed_rows.grid import GridRefused
from importer.failed_rows.storage import PAGE, edits_in_order
from importer.models import ImportJob, RowEdit
from tests.importer.test_failed_rows_grid import checked as checked_rows
from tests.importer.test_failed_rows_grid import imported as imported_rows
from tests.importer.wizard_support import MEMBER_HEAD, client_for, eager_tasks, latest_job, url

pytestmark = pytest.mark.django_db
__all__ = ["eager_tasks"]

HEAD = [*MEMBER_HEAD, "joined", "points"]
JOINED, POINTS, UNSUB = 5, 6, 3  # file column indexes
ROWS = [
    HEAD,
    ["m1", "김철수", "kim@example.com", "false", "false", "2025.05.04", "1,200"],
    ["m2", "이영희", "lee@example.com", "동의", "false", "2025.05.05", "300"],
    ["m3", "박민수", "park@example.com", "false", "false", "2025.05.06", "1,2,3"],
    ["m4", "최지우", "choi@example.com", "거부", "false", "2025-05-07", "4,500"],
    ["m5", "정수아", "jung@example.com", "false", "false", "2025-05-08", "5"],
    ["m6", "한지민", "not-an-email", "false", "false", "2025.13.45", "6"],
]


@pytest.fixture
def keys(channel: Channel) -> Channel:
    profile_key_create(channel=channel, key="joined", type="date")
    profile_key_create(channel=channel, key="points", type="number")
    return channel


@pytest.fixture
def client(owner: Any, keys: Channel) -> Client:
    return client_for(owner)


def checked(client: Client, channel: Channel, rows: list[list[object]] = ROWS) -> ImportJob:
    """A draft mapped one to one and checked (the check runs inside the request)."""
    return checked_rows(client, channel, rows)


def imported(client: Client, channel: Channel) -> ImportJob:
    """An import of ROWS that ended with its failed rows (tagged 5월)."""
    return imported_rows(client, channel, ROWS)


def apply(client: Client, job: ImportJob, key: str, fix: str) -> Any:
    return client.post(url("failed_rows_fix", job.channel, job), {"key": key, "fix": fix})


def summary(job: ImportJob) -> list[tuple[str, str, int]]:
    return [(o.key, o.fix, o.count) for o in fix_offers(job)]


def test_r2_16a_the_grid_offers_each_fix_with_its_count_and_samples(
    client: Client, keys: Channel
) -> None:
    job = checked(client, keys)
    assert job.file_check.would_fail == 5
    # 1,2,3 and 2025.13.45 are explained by no fix; 2025-05-07 did not fail.
    assert summary(job) == [
        ("joined", "date.dots", 3),
        ("points", "number.thousands", 2),
        ("unsubscribeEmail", "boolean.consent", 2),
    ]
    grid = client.get(url("failed_rows", keys, job)).content.decode()
    assert "Dates written with dots (2025.05.04)" in grid
    assert "3 cells in column “joined”" in grid and "2 cells in column “points”" in grid
    assert "<code>2025.05.04</code>" in grid and "<code>2025-05-04</code>" in grid
    assert "<code>동의</code>" in grid and "<code>false</code>" in grid
    assert 'name="fix" value="date.dots"' in grid
    assert "Apply to 3 cells" in grid and "Apply to 2 cells" in grid
    # Offering changes nothing.
    assert not RowEdit.objects.filter(job=job).exists()


def test_r2_16a_the_offers_read_in_korean(client: Client, keys: Channel, korean: None) -> None:
    job = checked(client, keys)
    grid = client.get(url("failed_rows", keys, job), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "점으로 쓴 날짜 (2025.05.04)" in grid
    assert "“joined” 열의 셀 3개" in grid
    assert "셀 3개에 적용" in grid


def test_r2_16a_before_the_start_an_accepted_fix_becomes_part_of_the_import(
    client: Client, keys: Channel
) -> None:
    job = checked(client, keys)
    response = apply(client, job, "joined", "date.dots")
    fixing = job.fix_jobs.get()
    assert response.url == url("failed_rows", keys, job) + f"?fix={fixing.pk}"
    page = client.get(response.url).content.decode()
    assert "Fixed 3 cells in column “joined”." in page
    assert "0 of their rows now pass every check." in page  # their other cells still fail
    assert list(edits_in_order(job.pk)) == [
        (2, {str(JOINED): "2025-05-04"}),
        (3, {str(JOINED): "2025-05-05"}),
        (4, {str(JOINED): "2025-05-06"}),
    ]
    assert [o.fix for o in fix_offers(job)] == ["number.thousands", "boolean.consent"]
    apply(client, job, "points", "number.thousands")
    assert summary(job) == [("unsubscribeEmail", "boolean.consent", 2)]
    # Rows 3 and 5 already hold edits: the offers still see the new ones (not a stale count).
    apply(client, job, "unsubscribeEmail", "boolean.consent")
    assert list(edits_in_order(job.pk)) == [
        (2, {str(JOINED): "2025-05-04", str(POINTS): "1200"}),
        (3, {str(JOINED): "2025-05-05", str(UNSUB): "false"}),
        (4, {str(JOINED): "2025-05-06"}),
        (5, {str(POINTS): "4500", str(UNSUB): "true"}),
    ]
    assert summary(job) == []  # nothing left that a fix explains
    grid = client.get(url("failed_rows", keys, job)).content.decode()
    assert 'name="cell-2-5" value="2025-05-04"' in grid
    assert "column-fixes" not in grid
    # "Import these rows": the file is checked again with the fixes over it.
    client.post(url("failed_rows_import", keys, job))
    job.refresh_from_db()
    assert job.file_check.would_fail == 2  # row 4's 1,2,3 and row 7
    client.post(url("settings", keys, job), {"empty_policy": "keep", "tag": ""})
    client.post(url("confirm", keys, job))
    job.refresh_from_db()
    assert (job.status, job.created, job.failed) == ("succeeded", 4, 2)
    customers = {c.member_id: c for c in Customer.objects.filter(channel=keys)}
    assert customers["m1"].profile == {"joined": "2025-05-04", "points": 1200}
    assert customers["m2"].unsubscribe_email is False  # 동의: agreed
    assert customers["m4"].unsubscribe_email is True  # 거부
    assert customers["m4"].profile["points"] == 4500


def test_r2_16a_after_the_end_fixed_rows_run_as_a_follow_up_that_undo_covers(
    client: Client, keys: Channel
) -> None:
    job = imported(client, keys)
    assert job.failed == 5
    for key, fix in summary_pairs(job):
        apply(client, job, key, fix)
    response = client.post(url("failed_rows_import", keys, job))
    followup = latest_job(keys)
    assert response.url == url("job", keys, followup)
    assert (followup.fixes_id, followup.status, followup.created, followup.failed) == (
        job.pk,
        "succeeded",
        3,
        1,  # row 4: 1,2,3 (row 7, not edited, was not sent)
    )
    assert Customer.objects.get(channel=keys, member_id="m1").profile["points"] == 1200
    client.post(url("undo", keys, followup))
    undo = latest_job(keys)
    assert (undo.undoes_id, undo.status, undo.deleted) == (followup.pk, "succeeded", 3)
    assert not Customer.objects.filter(channel=keys, member_id="m1").exists()


def summary_pairs(job: ImportJob) -> list[tuple[str, str]]:
    return [(o.key, o.fix) for o in fix_offers(job)]


def test_r2_16a_offers_follow_the_managers_edits_and_skip_rows_already_imported(
    client: Client, keys: Channel
) -> None:
    job = imported(client, keys)
    assert ("joined", "date.dots", 3) in summary(job)
    # Row 2 fixed by hand: two dotted dates left.
    client.post(
        url("failed_rows_cell", keys, job), {"row": 2, "column": JOINED, "value": "2025-05-04"}
    )
    assert ("joined", "date.dots", 2) in summary(job)
    # Row 7's impossible date typed again in a fixable form: counted too.
    client.post(
        url("failed_rows_cell", keys, job), {"row": 7, "column": JOINED, "value": "2025.05.09"}
    )
    assert ("joined", "date.dots", 3) in summary(job)
    # Rows taken by a follow-up import (the edited rows 2 and 7) are no longer the grid's to fix:
    # row 5's 4,500 is the only thousands left, under the offer's threshold.
    client.post(url("failed_rows_import", keys, job))
    assert summary(job) == [
        ("joined", "date.dots", 2),
        ("unsubscribeEmail", "boolean.consent", 2),
    ]
    before = RowEdit.objects.get(job=job, row_number=2).cells
    apply(client, job, "joined", "date.dots")
    assert RowEdit.objects.get(job=job, row_number=2).cells == before


def test_r2_16a_a_fix_is_refused_with_its_reason_and_nothing_written(
    client: Client, keys: Channel
) -> None:
    job = checked(client, keys)
    for key, fix in [
        ("joined", "number.thousands"),  # not a fix of that column
        ("note", "date.dots"),  # no such column
        ("joined", "date.everything"),
        ("", ""),
    ]:
        response = apply(client, job, key, fix)
        assert response.url == url("failed_rows", keys, job)
        assert (
            "This fix does not apply to that column." in client.get(response.url).content.decode()
        )
    assert not RowEdit.objects.filter(job=job).exists()


def test_r2_16a_r8_2_fixes_need_the_import_permission(
    client: Client, keys: Channel, agent: Any, outsider: Any
) -> None:
    job = checked(client, keys)
    data = {"key": "joined", "fix": "date.dots"}
    assert client_for(outsider).post(url("failed_rows_fix", keys, job), data).status_code == 404
    assert client_for(agent).post(url("failed_rows_fix", keys, job), data).status_code == 403
    assert client.get(url("failed_rows_fix", keys, job)).status_code == 405
    with pytest.raises(GridRefused):
        column_fix_start(job=job, by=agent, key="joined", fix="date.dots")
    assert not RowEdit.objects.exists()


def test_r2_16a_no_fix_once_the_import_is_undone(client: Client, keys: Channel) -> None:
    job = imported(client, keys)
    client.post(url("undo", keys, job))
    response = apply(client, job, "joined", "date.dots")
    assert response.url == url("job", keys, job)
    assert "This import was undone" in client.get(response.url).content.decode()
    assert not RowEdit.objects.filter(job=job).exists()


def test_r2_16a_a_fix_streams_over_pages_of_failed_rows(client: Client, keys: Channel) -> None:
    """More failed rows than one page of storage: every one is fixed, each page written on its
    own (memory bounded by PAGE rows)."""
    total = PAGE + 500
    rows = [HEAD] + [
        [f"m{n}", "", "", "false", "false", f"2025/{n % 12 + 1:02d}/01", "7"] for n in range(total)
    ]
    job = checked(client, keys, rows)
    assert job.file_check.would_fail == total
    (offer,) = fix_offers(job)
    assert (offer.key, offer.fix, offer.count, len(offer.samples)) == (
        "joined",
        "date.slashes",
        total,
        5,
    )
    fixing = column_fix_start(job=job, by=None, key="joined", fix="date.slashes", dispatch=False)
    applied = column_fix_run(fixing.pk)
    assert (applied.status, applied.after_row, applied.cells, applied.rows_ok) == (
        "succeeded",
        total + 1,
        total,
        total,
    )
    assert RowEdit.objects.filter(job=job).count() == total
    assert fix_offers(job) == []


def test_r2_16a_past_many_failed_rows_a_hand_edit_does_not_recount_the_offers(
    client: Client, keys: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A count costs seconds at 100,000 failed rows: beyond RECOUNT_ON_EDIT only an applied fix
    (or a follow-up, a new check) recounts; applying still reads the rows as they are."""
    monkeypatch.setattr("importer.failed_rows.column_fixes.RECOUNT_ON_EDIT", 2)
    job = imported(client, keys)
    assert ("joined", "date.dots", 3) in summary(job)
    client.post(
        url("failed_rows_cell", keys, job), {"row": 2, "column": JOINED, "value": "2025-05-04"}
    )
    assert ("joined", "date.dots", 3) in summary(job)  # not recounted
    response = apply(client, job, "joined", "date.dots")
    assert "Fixed 2 cells in column “joined”." in client.get(response.url).content.decode()
    assert ("joined", "date.dots", 3) not in summary(job)  # recounted after the fix
    assert [o.fix for o in fix_offers(job)] == ["number.thousands", "boolean.consent"]

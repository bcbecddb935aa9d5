"""A column-wide fix runs as a background job (R2.16a): the manager's click returns at once to
the grid, which says the fix is being applied and then what it changed; a second click, the
import, its check and a follow-up wait for it; a job that dies half-way resumes after its last
committed page, losing and doubling nothing. Bad input gets a 4xx or a clear message.

Jobs are dispatched on commit; these tests catch the dispatch (``queued`` below) to see the page
while the fix waits for a worker, then run the job as a worker would (``column_fix_run``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from crm import jobs as runtime
from crm.models import Channel, ManagerSettings
from importer.failed_rows.column_fixes import column_fix_run, column_fix_start, fix_offers
from importer.failed_rows.grid import GridRefused
from importer.failed_rows.storage import edits_in_order
from importer.jobs import FixApplying
from importer.models import ColumnFixJob, ImportJob, RowEdit
from importer.services import import_start
from tests.importer.test_column_fixes_grid import JOINED, POINTS, ROWS, apply, checked, imported
from tests.importer.test_column_fixes_grid import client as client
from tests.importer.test_column_fixes_grid import keys as keys
from tests.importer.wizard_support import client_for, eager_tasks, latest_job, mapping_post, url

pytestmark = pytest.mark.django_db
__all__ = ["eager_tasks"]

DATES = [(2, "2025-05-04"), (3, "2025-05-05"), (4, "2025-05-06")]  # the dotted dates, fixed


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Fix jobs dispatched, not run: no worker has picked them up yet."""
    sent: list[int] = []
    monkeypatch.setattr(
        "importer.failed_rows.column_fixes.queue_on_commit", lambda name, pk: sent.append(pk)
    )
    return sent


def dates_fixed(job: ImportJob) -> list[tuple[int, str]]:
    return [(n, cells[str(JOINED)]) for n, cells in edits_in_order(job.pk) if str(JOINED) in cells]


def test_r2_16a_the_click_returns_at_once_and_the_grid_says_the_fix_is_being_applied(
    client: Client, keys: Channel, queued: list[int]
) -> None:
    job = checked(client, keys)
    response = apply(client, job, "joined", "date.dots")
    (fixing,) = ColumnFixJob.objects.filter(job=job)
    assert queued == [fixing.pk]
    assert response.status_code == 302
    assert response.url == url("failed_rows", keys, job) + f"?fix={fixing.pk}"
    assert not RowEdit.objects.filter(job=job).exists()  # nothing applied in the request
    grid = client.get(response.url).content.decode()
    assert "Applying the fix to column “joined”…" in grid
    assert "Waiting for a worker…" in grid
    status_url = url("failed_rows_fix_status", keys, job) + f"?fix={fixing.pk}"
    assert f'data-poll-url="{status_url}"' in grid.replace("&amp;", "&")
    assert "column-fixes" not in grid  # the offers wait for the fix
    assert 'id="grid-import" disabled' in grid
    # Anyone opening the grid sees it too (no ?fix=).
    assert "Applying the fix" in client.get(url("failed_rows", keys, job)).content.decode()
    # The worker runs it; the polled part says it ended, and the page (reloaded) what it did.
    column_fix_run(fixing.pk)
    fragment = client.get(status_url).content.decode()
    assert "data-poll-done" in fragment and "Fixed 3 cells in column “joined”." in fragment
    grid = client.get(response.url).content.decode()
    assert "Fixed 3 cells in column “joined”." in grid
    assert "0 of their rows now pass every check." in grid
    assert "Applying the fix" not in grid and "column-fixes" in grid
    assert dates_fixed(job) == DATES
    assert [o.fix for o in fix_offers(job)] == ["number.thousands", "boolean.consent"]


def test_r2_16a_the_job_counts_the_offers_left_so_the_grid_reloads_without_counting(
    client: Client, keys: Channel, queued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A count costs seconds at 100,000 failed rows: the job makes it before it ends, and the
    grid's reload reads it from the cache."""
    monkeypatch.setattr("importer.failed_rows.column_fixes.RECOUNT_ON_EDIT", 2)  # a big grid
    job = checked(client, keys)
    response = apply(client, job, "joined", "date.dots")
    column_fix_run(queued[0])

    def no_count(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the grid's request counted the offers")

    monkeypatch.setattr("importer.failed_rows.column_fixes.FixFinder", no_count)
    grid = client.get(response.url).content.decode()
    assert 'data-fix="number.thousands"' in grid and 'data-fix="date.dots"' not in grid


def test_r2_16a_the_fix_being_applied_reads_in_korean(
    client: Client, keys: Channel, queued: list[int], korean: None
) -> None:
    job = checked(client, keys)
    response = apply(client, job, "joined", "date.dots")
    grid = client.get(response.url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "“joined” 열에 수정을 적용하고 있습니다…" in grid
    assert "작업자를 기다리는 중…" in grid
    column_fix_run(queued[0])
    grid = client.get(response.url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "“joined” 열에서 셀 3개를 고쳤습니다." in grid


def test_r2_16a_a_second_click_while_a_fix_runs_is_refused_and_starts_no_job(
    client: Client, keys: Channel, queued: list[int]
) -> None:
    job = checked(client, keys)
    apply(client, job, "joined", "date.dots")
    for key, fix in [("joined", "date.dots"), ("points", "number.thousands")]:
        response = apply(client, job, key, fix)
        assert response.url == url("failed_rows", keys, job)
        page = client.get(response.url).content.decode()
        assert "A fix is already being applied to these failed rows" in page
    assert ColumnFixJob.objects.filter(job=job).count() == 1 and len(queued) == 1
    with pytest.raises(GridRefused) as refused:
        column_fix_start(job=job, by=None, key="points", fix="number.thousands")
    assert refused.value.status == 409
    column_fix_run(queued[0])
    apply(client, job, "points", "number.thousands")  # once it ended, the next one goes
    assert ColumnFixJob.objects.filter(job=job).count() == 2


def test_r2_16a_a_draft_neither_checks_again_nor_starts_while_a_fix_runs(
    client: Client, keys: Channel, queued: list[int]
) -> None:
    """docs/decisions.md: the import, its check and a follow-up are refused (not queued behind
    the fix) with a message saying why; nothing of theirs starts."""
    job = checked(client, keys)
    client.post(url("failed_rows_cell", keys, job), {"row": 7, "column": POINTS, "value": "7"})
    check_token = job.file_check.token
    apply(client, job, "joined", "date.dots")
    why = "A fix is being applied to column “joined” of the failed rows"
    response = client.post(url("failed_rows_import", keys, job))
    assert why in client.get(response.url).content.decode()
    response = client.post(url("check", keys, job))  # the check run again by hand
    assert why in client.get(response.url).content.decode()
    response = client.post(url("mapping", keys, job), mapping_post(job, {h: h for h in ROWS[0]}))
    assert why in response.content.decode()
    client.post(url("settings", keys, job), {"empty_policy": "keep", "tag": ""})
    assert why in client.post(url("confirm", keys, job)).content.decode()
    job.refresh_from_db()
    assert job.status == "draft" and job.file_check.token == check_token
    column_fix_run(queued[0])
    response = client.post(url("confirm", keys, job))
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_r2_16a_after_the_end_no_follow_up_while_a_fix_runs(
    client: Client, keys: Channel, queued: list[int]
) -> None:
    job = imported(client, keys)
    client.post(url("failed_rows_cell", keys, job), {"row": 7, "column": POINTS, "value": "7"})
    apply(client, job, "joined", "date.dots")
    response = client.post(url("failed_rows_import", keys, job))
    assert "A fix is being applied" in client.get(response.url).content.decode()
    assert latest_job(keys) == job  # no follow-up import
    assert not RowEdit.objects.filter(job=job, sent_to__isnull=False).exists()
    column_fix_run(queued[0])
    client.post(url("failed_rows_import", keys, job))
    followup = latest_job(keys)
    assert followup.fixes_id == job.pk and followup.status == "succeeded"
    assert RowEdit.objects.filter(job=job, sent_to=followup).count() == 4  # 2, 3, 4 and 7


def test_r2_16a_a_fix_that_dies_mid_way_resumes_after_its_last_page_losing_nothing(
    client: Client, keys: Channel, queued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of two rows; the worker dies inside the second page's transaction, after its edits
    were written: that page rolls back whole, and the job taken over resumes after the first."""
    monkeypatch.setattr("importer.failed_rows.column_fixes.PAGE", 2)
    job = checked(client, keys)
    apply(client, job, "joined", "date.dots")
    (fix_id,) = queued
    fence = runtime.fence
    calls: list[int] = []

    def dies_on_the_second_page(lease: Any, **updates: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        fence(lease, **updates)

    monkeypatch.setattr("crm.jobs.fence", dies_on_the_second_page)
    with pytest.raises(SystemExit):
        column_fix_run(fix_id)
    fixing = ColumnFixJob.objects.get(pk=fix_id)
    assert (fixing.status, fixing.after_row, fixing.cells, fixing.attempts) == ("running", 3, 2, 1)
    assert dates_fixed(job) == DATES[:2]  # row 4's edit rolled back with its page
    monkeypatch.setattr("crm.jobs.fence", fence)
    assert column_fix_run(fix_id).status == "running"  # its lease is still fresh: left alone
    ColumnFixJob.objects.filter(pk=fix_id).update(
        heartbeat_at=F("heartbeat_at") - timedelta(hours=1)
    )
    fixing = column_fix_run(fix_id)  # taken over, as the reaper's redelivery does
    assert (fixing.status, fixing.attempts, fixing.cells) == ("succeeded", 2, 3)
    assert dates_fixed(job) == DATES


def test_r2_16a_bad_input_gets_a_4xx_or_a_clear_message_and_writes_nothing(
    client: Client, keys: Channel, outsider: Any, queued: list[int]
) -> None:
    job = checked(client, keys)
    response = apply(client, job, "joined", "date.dots")
    fixing = ColumnFixJob.objects.get(job=job)
    status = url("failed_rows_fix_status", keys, job)
    assert client.get(f"{status}?fix=0").status_code == 200  # the running one, whatever asked
    column_fix_run(fixing.pk)
    for bad in ("0", "999999", "x", ""):
        assert client.get(f"{status}?fix={bad}").status_code == 404
    assert client.post(f"{status}?fix={fixing.pk}").status_code == 405
    # Another channel's import, its fix, or this fix shown on another import: not found.
    assert client_for(outsider).get(f"{status}?fix={fixing.pk}").status_code == 404
    other = checked(client, keys)
    other_status = url("failed_rows_fix_status", keys, other)
    assert client.get(f"{other_status}?fix={fixing.pk}").status_code == 404
    grid = client.get(url("failed_rows", keys, other) + f"?fix={fixing.pk}").content.decode()
    assert "Fixed 3 cells" not in grid and "fix-status" not in grid
    # A stale offer (this fix was applied since): a job that changes nothing, and says so.
    before = list(edits_in_order(job.pk))
    response = apply(client, job, "joined", "date.dots")
    column_fix_run(queued[-1])
    assert "No cell needs this fix any more." in client.get(response.url).content.decode()
    assert list(edits_in_order(job.pk)) == before


def test_r2_16a_a_fix_queued_before_its_rows_closed_ends_failed_writing_nothing(
    client: Client, keys: Channel, queued: list[int]
) -> None:
    """The check cannot start beside a fix; but a fix queued on an import whose failed rows
    expired meanwhile ends with the reason, not half-applied."""
    job = imported(client, keys)
    apply(client, job, "joined", "date.dots")
    ImportJob.objects.filter(pk=job.pk).update(failure_log_expires_at=timezone.now())
    fixing = column_fix_run(queued[0])
    assert fixing.status == "failed" and "kept for 30 days" in fixing.error
    assert not RowEdit.objects.filter(job=job).exists()


def test_r2_16a_a_fix_job_runs_in_the_language_of_who_started_it(
    client: Client, keys: Channel, queued: list[int], owner: Any
) -> None:
    ManagerSettings.objects.update_or_create(user=owner, defaults={"language": "ko"})
    job = imported(client, keys)
    apply(client, job, "joined", "date.dots")
    ImportJob.objects.filter(pk=job.pk).update(failure_log_expires_at=timezone.now())
    fixing = column_fix_run(queued[0])
    assert "30일" in fixing.error  # R11.1: its reason is the starter's to read


def test_r2_16a_import_start_refuses_while_a_fix_runs(
    client: Client, keys: Channel, queued: list[int]
) -> None:
    job = checked(client, keys)
    apply(client, job, "joined", "date.dots")
    with pytest.raises(FixApplying):
        import_start(job=job, dispatch=False)
    job.refresh_from_db()
    assert job.status == "draft"

"""R2.16a on PostgreSQL + Redis + real Celery workers: a column-wide fix over more failed rows
than one page runs in a worker; while it runs a second fix and the import of the rows are
refused; its worker SIGKILLed after the first page, another worker's reaper resumes it after
that page, and every failed cell ends fixed once (no page lost, none written twice)."""

from __future__ import annotations

import signal
from typing import Any

import pytest
from django.test import Client

from config.celery import app
from crm.models import Channel
from crm.services.profile_keys import profile_key_create
from importer.failed_rows.column_fixes import column_fix_start
from importer.failed_rows.grid import GridRefused
from importer.failed_rows.services import fixed_rows_import
from importer.failed_rows.storage import PAGE, edits_in_order
from importer.jobs import FixApplying
from importer.models import ColumnFixJob
from tests.conftest import stop_worker
from tests.importer.test_column_fixes_grid import HEAD, JOINED
from tests.importer.test_engine_runtime import stale, wait_for, worker
from tests.importer.test_failed_rows_grid import checked
from tests.importer.wizard_support import client_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker_queue"),
]
__all__ = ["stale"]  # the fixture

TOTAL = PAGE + 500  # two pages of failed rows


def fix_of(pk: int) -> ColumnFixJob:
    return ColumnFixJob.objects.get(pk=pk)


def test_r2_16a_a_sigkilled_fix_resumes_after_its_last_page_fixing_every_cell_once(
    owner: Any, channel: Channel, settings: Any, stale: int
) -> None:
    profile_key_create(channel=channel, key="joined", type="date")
    profile_key_create(channel=channel, key="points", type="number")
    rows: list[list[object]] = [HEAD] + [
        [f"m{n}", "", "", "false", "false", f"2025/{n % 12 + 1:02d}/01", "7"] for n in range(TOTAL)
    ]
    client: Client = client_for(owner)
    before, app.conf.task_always_eager = app.conf.task_always_eager, True
    try:
        job = checked(client, channel, rows)  # the check in-process; the fix in the workers
    finally:
        app.conf.task_always_eager = before
    assert job.file_check.would_fail == TOTAL
    doomed = worker(settings, "doomed", SLOW_CHUNK_SECONDS="2")
    rescuer = None
    try:
        fixing = column_fix_start(job=job, by=owner, key="joined", fix="date.slashes")
        with pytest.raises(GridRefused):  # a second click
            column_fix_start(job=job, by=owner, key="joined", fix="date.slashes")
        wait_for(lambda: fix_of(fixing.pk).after_row > 0)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        killed = fix_of(fixing.pk)
        assert (killed.status, killed.cells, killed.attempts) == ("running", PAGE, 1)
        assert killed.after_row == PAGE + 1  # rows 2 to PAGE + 1: the first page
        with pytest.raises(FixApplying):  # "import these rows" waits for the fix's end
            fixed_rows_import(job=job, by=owner, dispatch=False)
        rescuer = worker(settings, "rescuer")  # its own reaper resumes the fix
        wait_for(lambda: fix_of(fixing.pk).status == "succeeded", timeout=120)
    finally:
        if doomed.poll() is None:
            doomed.kill()
        if rescuer is not None:
            stop_worker(rescuer)
    done = fix_of(fixing.pk)
    assert (done.attempts, done.cells, done.rows_ok, done.after_row) == (2, TOTAL, TOTAL, TOTAL + 1)
    edits = list(edits_in_order(job.pk))
    assert [n for n, _ in edits] == list(range(2, TOTAL + 2))
    assert all(cells == {str(JOINED): rows[n - 1][JOINED].replace("/", "-")} for n, cells in edits)
    fixed_rows_import(job=job, by=owner, dispatch=False)  # once it ended, the rows go

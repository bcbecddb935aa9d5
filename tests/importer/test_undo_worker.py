"""R2.16 on PostgreSQL + Redis + real Celery workers: an undo whose worker is SIGKILLed mid-way is
resumed by another worker's reaper and ends in the same state as an undo that ran through."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from crm.models import Channel
from crm.selectors import channel_mu, channel_mu_counted
from importer.engine import run_import
from importer.models import ImportJob
from importer.services import import_start
from importer.undo import run_undo, undo_start
from tests.conftest import stop_worker
from tests.importer.conftest import write_csv
from tests.importer.test_engine_resilience import HEAD, draft, snapshot
from tests.importer.test_engine_runtime import job_of, stale, wait_for, worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker_queue"),
]
__all__ = ["stale"]  # the fixture


def imported(channel: Channel, folder: Path, rows: int) -> ImportJob:
    """A base import of ``rows`` members, then the import to undo: every base member renamed and
    re-flagged, as many new members."""
    base = [[f"m{i}", f"고객{i}", f"c{i}@example.com", "false", "false"] for i in range(rows)]
    again = [[f"m{i}", f"바뀐{i}", "", "true", "true"] for i in range(2 * rows)]
    for name, body in (("base.csv", base), ("again.csv", again)):
        folder.mkdir(parents=True, exist_ok=True)
        job = draft(channel, write_csv(folder / name, [HEAD, *body]))
        import_start(job=job, dispatch=False)
        job = run_import(job.pk)
        assert job.status == "succeeded", job.error
    return job


def test_r2_16_sigkilled_undo_resumes_to_the_same_state(
    two_channels: Any, tmp_path: Path, settings: Any, stale: int
) -> None:
    crashy, steady = two_channels
    job = imported(crashy, tmp_path / "crashy", 1500)
    clean_job = imported(steady, tmp_path / "steady", 1500)
    doomed = worker(settings, "doomed", IMPORT_CHUNK_ROWS="100", SLOW_CHUNK_SECONDS="1")
    rescuer = None
    try:
        undo = undo_start(job=job, by=None)
        wait_for(lambda: job_of(undo.pk).rows_done >= 300)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        assert job_of(undo.pk).status == "running"  # killed mid-way: nobody holds it now
        assert job_of(undo.pk).rows_done < 3000
        rescuer = worker(settings, "rescuer")  # its own reaper resumes the undo
        wait_for(lambda: job_of(undo.pk).attempts == 2, timeout=60)
        wait_for(lambda: job_of(undo.pk).status == "succeeded", timeout=120)
    finally:
        if doomed.poll() is None:
            doomed.kill()
        if rescuer is not None:
            stop_worker(rescuer)
    clean = undo_start(job=clean_job, by=None, dispatch=False)
    clean = run_undo(clean.pk)
    undo = job_of(undo.pk)
    assert (
        (undo.deleted, undo.restored, undo.kept, undo.rows_done)
        == (
            clean.deleted,
            clean.restored,
            clean.kept,
            clean.rows_done,
        )
        == (1500, 1500, 0, 3000)
    )
    assert snapshot(crashy) == snapshot(steady)
    assert snapshot(crashy)[0][1:] == ("고객0", "c0@example.com", False, False)
    assert channel_mu(crashy) == channel_mu_counted(crashy) == 1500

"""R2.24 on PostgreSQL + Redis + real Celery workers, without Celery beat: the lease outlives a
long first pass, a SIGKILLed worker's import is resumed by another worker's own reaper, a
cancelled import stops with what committed, a SIGTERMed worker hands its deletion back within
seconds. The jobs are slowed by the test (``tests.slow_worker``), not by the machine."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections

from crm import jobs
from crm.models import Customer, CustomerImportTag, DeletionJob
from crm.services.deletion import customers_delete
from importer.engine import run_import
from importer.models import ImportJob
from importer.services import import_start
from tests.conftest import make_user, start_worker, stop_worker
from tests.importer.test_engine_resilience import big_file, draft, snapshot

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker_queue"),
]

STALE = 3  # seconds: IMPORT_STALE_SECONDS / DELETE_STALE_SECONDS of the workers and this test


@pytest.fixture
def stale(settings: Any) -> int:
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    settings.IMPORT_STALE_SECONDS = settings.DELETE_STALE_SECONDS = STALE
    return STALE


def wait_for(predicate: Callable[[], bool], timeout: float = 90) -> float:
    """Seconds until the predicate held."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError("timed out")


def worker(settings: Any, name: str, pool: str = "solo", **env: str) -> Any:
    return start_worker(
        settings,
        name,
        module="tests.slow_worker",
        pool=pool,
        IMPORT_STALE_SECONDS=str(STALE),
        DELETE_STALE_SECONDS=str(STALE),
        **env,
    )


def job_of(pk: int) -> ImportJob:
    return ImportJob.objects.get(pk=pk)


def test_r2_24_a_first_pass_several_times_the_stale_time_keeps_its_lease(
    two_channels: Any, tmp_path: Path, settings: Any, stale: int
) -> None:
    channel, _ = two_channels
    slow = worker(settings, "counting", SLOW_COUNT_SECONDS=str(4 * stale))
    reaped: list[dict[str, list[int]]] = []
    done = threading.Event()

    def reaper_elsewhere() -> None:  # another process's reaper, as well as the worker's own
        while not done.is_set():
            reaped.append(jobs.reap_all())
            time.sleep(0.5)
        connections.close_all()

    other = threading.Thread(target=reaper_elsewhere)
    try:
        job = draft(channel, big_file(tmp_path, 300))
        import_start(job=job)
        other.start()
        wait_for(lambda: job_of(job.pk).status == "running")
        counting = wait_for(lambda: job_of(job.pk).status == "succeeded", timeout=120)
    finally:
        done.set()
        if other.is_alive():
            other.join()
        stop_worker(slow)
    assert counting > 3 * stale  # the pass really outlasted the stale time
    job.refresh_from_db()
    assert (job.attempts, job.created, job.failed) == (1, 300, 1)  # never taken over
    assert all(not r["import"] for r in reaped)


def test_r2_24_a_sigkilled_worker_is_resumed_by_another_worker_without_beat(
    two_channels: Any, tmp_path: Path, settings: Any, stale: int
) -> None:
    crashy, steady = two_channels
    path = big_file(tmp_path, 6000)
    doomed = worker(settings, "doomed", IMPORT_CHUNK_ROWS="100", SLOW_CHUNK_SECONDS="0.3")
    rescuer = None
    try:
        job = draft(crashy, path)
        import_start(job=job)
        wait_for(lambda: job_of(job.pk).position > 300)
        rescuer = worker(settings, "rescuer")  # reads the same queue, reaps every second
        assert job_of(job.pk).position < 6003  # still running on the doomed worker
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        resumed_after = wait_for(lambda: job_of(job.pk).attempts == 2, timeout=60)
        wait_for(lambda: job_of(job.pk).status == "succeeded", timeout=120)
    finally:
        if doomed.poll() is None:
            doomed.kill()
        if rescuer is not None:
            stop_worker(rescuer)
    assert resumed_after < stale + 5
    clean = draft(steady, path)
    import_start(job=clean, dispatch=False)
    clean = run_import(clean.pk)
    job.refresh_from_db()
    assert (job.created, job.updated, job.failed, job.rows_done) == (
        clean.created,
        clean.updated,
        clean.failed,
        clean.rows_done,
    )
    assert snapshot(crashy) == snapshot(steady)


def test_r2_24_cancel_mid_import_on_a_worker(
    two_channels: Any, tmp_path: Path, settings: Any, stale: int
) -> None:
    channel, _ = two_channels
    slow = worker(settings, "cancelled", IMPORT_CHUNK_ROWS="100", SLOW_CHUNK_SECONDS="0.3")
    try:
        job = draft(channel, big_file(tmp_path, 3000))
        import_start(job=job)
        wait_for(lambda: job_of(job.pk).position > 300)
        call_command("cancel_import", channel.slug, str(job.pk), "--wait", "30")
        job.refresh_from_db()
    finally:
        stop_worker(slow)
    assert job.status == "cancelled" and not job.active
    assert 300 <= job.rows_done < 3002
    committed = Customer.objects.filter(channel=channel).count()
    assert job.created == committed == CustomerImportTag.objects.filter(channel=channel).count()
    nxt = draft(channel, big_file(tmp_path / "next", 5))
    assert import_start(job=nxt, dispatch=False).status == "queued"  # the channel is free


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_r2_24_sigterm_mid_deletion_hands_back_and_another_worker_finishes(
    two_channels: Any, settings: Any, stale: int, pool: str
) -> None:
    channel, _ = two_channels
    Customer.objects.bulk_create(
        Customer(channel=channel, member_id=f"m{i}", name=f"고객{i}") for i in range(3000)
    )
    owner = make_user("deleter")
    stopping = worker(
        settings, "stopping", pool=pool, DELETE_CHUNK_ROWS="30", SLOW_CHUNK_SECONDS="0.3"
    )
    finisher = None
    try:
        deletion = customers_delete(
            channel=channel,
            by=owner,
            via="bulk",
            ids=list(Customer.objects.filter(channel=channel).values_list("id", flat=True)),
        )
        wait_for(lambda: DeletionJob.objects.get(pk=deletion.pk).deleted > 0)
        finisher = worker(settings, "finisher")
        assert DeletionJob.objects.get(pk=deletion.pk).status == "running"
        stopping.send_signal(signal.SIGTERM)
        exited_after = wait_for(lambda: stopping.poll() is not None, timeout=60)
        wait_for(lambda: DeletionJob.objects.get(pk=deletion.pk).status == "succeeded")
    finally:
        if stopping.poll() is None:
            stopping.kill()
        if finisher is not None:
            stop_worker(finisher)
    assert exited_after < 10
    deletion.refresh_from_db()
    assert (deletion.deleted, deletion.attempts) == (3000, 1)  # the hand-back gave it back
    assert not Customer.objects.filter(channel=channel).exists()

"""A queued deletion delivered more than once (R2.24, the closing note's "queued jobs dispatched
repeatedly"): Celery's late acks redeliver, the reaper re-dispatches a job it thinks waiting, a
hand-back dispatches again. The lease makes one delivery do the work; the others write nothing.
Real threads on PostgreSQL, each with its own connection."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from crm import jobs
from crm.models import ActivityLog, Channel, Customer, DeletionJob
from crm.services.deletion import customers_delete, deletion_job_run
from tests.crm.test_deletion import mu, tagged

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queued(channel: Channel, owner: Any, settings: Any) -> DeletionJob:
    settings.DELETE_INLINE_MAX = 1
    settings.DELETE_CHUNK_ROWS = 2
    tagged(channel, "spring", 9)
    return customers_delete(
        channel=channel, by=owner, via="bulk", filter={"importTag": "spring"}, background=False
    )


def in_thread(work: Any) -> Any:
    """Run ``work`` on a thread of its own (its own database connection); its result."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return out[0]


def assert_deleted_once(channel: Channel, job: DeletionJob) -> None:
    job.refresh_from_db()
    assert (job.status, job.deleted, job.total, job.attempts) == ("succeeded", 9, 9, 1)
    assert not Customer.objects.filter(channel=channel).exists()
    (entry,) = ActivityLog.objects.filter(channel=channel, action="customer.delete")
    assert entry.count == 9  # one entry, the job's own count (R3.6)
    assert mu(channel) == 0


def test_r2_24_four_deliveries_at_once_run_the_deletion_once(
    channel: Channel, queued: DeletionJob
) -> None:
    barrier = threading.Barrier(4, timeout=30)
    worked: list[int] = []
    lock = threading.Lock()

    def progress(job: DeletionJob) -> None:
        with lock:
            worked.append(threading.get_ident())

    def deliver() -> None:
        try:
            barrier.wait()
            deletion_job_run(queued.pk, progress=progress)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(worked) == 5 and len(set(worked)) == 1  # five chunks, all by one delivery
    assert_deleted_once(channel, queued)


def test_r2_24_a_delivery_and_the_reaper_while_it_runs_do_nothing(
    channel: Channel, queued: DeletionJob
) -> None:
    """After the first chunk commits, the job is delivered again and every reaper pass runs,
    on other connections: the running job is left alone (its heartbeat is fresh), nothing is
    re-dispatched, and a delivery after the end does nothing either."""
    seen: list[tuple[str, int, dict[str, list[int]]]] = []

    def progress(job: DeletionJob) -> None:
        if job.deleted == 2:
            again = in_thread(lambda: deletion_job_run(queued.pk))
            reaped = in_thread(jobs.reap_all)
            seen.append((again.status, again.deleted, reaped))

    deletion_job_run(queued.pk, progress=progress)
    assert seen == [("running", 2, {k.name: [] for k in jobs.kinds()})]
    assert in_thread(lambda: deletion_job_run(queued.pk)).status == "succeeded"
    assert_deleted_once(channel, queued)

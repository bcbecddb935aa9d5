"""The job runtime (crm.jobs, R2.17, R2.24): claim with a capped attempt count, fencing, the
reaper, cancellation and hand-back, on any job model (here deletion jobs, whose kind is copied
with its dispatch and end recorded instead of sent)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from crm import jobs
from crm.jobs import heartbeat
from crm.models import Channel, DeletionJob
from crm.services.deletion import DELETIONS

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - timedelta(hours=1)


@dataclasses.dataclass
class Recorded:
    kind: jobs.JobKind
    dispatched: list[int]
    ended: list[tuple[int, str]]


@pytest.fixture
def kind() -> Recorded:
    dispatched: list[int] = []
    ended: list[tuple[int, str]] = []
    copy = dataclasses.replace(
        DELETIONS,
        name="test",
        dispatch=dispatched.append,
        ended=lambda job: ended.append((job.pk, job.status)),
    )
    return Recorded(copy, dispatched, ended)


@pytest.fixture(autouse=True)
def not_stopping() -> Iterator[None]:
    yield
    heartbeat._stopping.clear()


def new_job(channel: Channel, **fields: Any) -> DeletionJob:
    return DeletionJob.objects.create(
        channel=channel, via="bulk", criteria={"ids": [1]}, total=1, **fields
    )


def test_r2_24_a_claim_is_one_conditional_update_and_attempts_are_capped(
    channel: Channel, kind: Recorded
) -> None:
    job = new_job(channel)
    lease = jobs.claim(kind.kind, job.pk)
    assert lease is not None
    assert jobs.claim(kind.kind, job.pk) is None  # held, heartbeat fresh
    DeletionJob.objects.filter(pk=job.pk).update(heartbeat_at=LONG_AGO)
    second = jobs.claim(kind.kind, job.pk)  # its worker went silent: taken over
    assert second is not None and second.token != lease.token
    job.refresh_from_db()
    assert (job.status, job.attempts, job.lease_token) == ("running", 2, second.token)
    out_of_attempts = new_job(channel, attempts=3)
    assert jobs.claim(kind.kind, out_of_attempts.pk) is None
    assert DeletionJob.objects.get(pk=out_of_attempts.pk).status == "queued"


def test_r2_24_a_worker_that_lost_its_lease_writes_nothing(
    channel: Channel, kind: Recorded
) -> None:
    job = new_job(channel)
    lease = jobs.claim(kind.kind, job.pk)
    assert lease is not None
    DeletionJob.objects.filter(pk=job.pk).update(heartbeat_at=LONG_AGO)
    assert jobs.claim(kind.kind, job.pk) is not None
    with pytest.raises(jobs.LeaseLost), transaction.atomic():
        DeletionJob.objects.filter(pk=job.pk).update(description="written by the old worker")
        jobs.fence(lease, deleted=1)
    job.refresh_from_db()
    assert (job.description, job.deleted) == ("", 0)
    assert not jobs.release(lease, status="succeeded")


def test_r2_24_the_reaper_resumes_a_dead_job_once_fails_it_out_of_attempts_or_cancels_it(
    channel: Channel, kind: Recorded
) -> None:
    dead = new_job(channel, status="running", attempts=1, heartbeat_at=LONG_AGO)
    spent = new_job(channel, status="running", attempts=3, heartbeat_at=LONG_AGO)
    asked = new_job(
        channel, status="running", attempts=1, heartbeat_at=LONG_AGO, cancel_requested=True
    )
    alive = new_job(channel, status="running", attempts=1, heartbeat_at=timezone.now())
    assert jobs.reap(kind.kind) == [dead.pk]
    assert jobs.reap(kind.kind) == []  # another worker's reaper: nothing left to do
    assert kind.dispatched == [dead.pk]
    states = dict(DeletionJob.objects.values_list("pk", "status"))
    assert states == {
        dead.pk: "queued",
        spent.pk: "failed",
        asked.pk: "cancelled",
        alive.pk: "running",
    }
    assert "stopped 3 times" in DeletionJob.objects.get(pk=spent.pk).error
    assert sorted(kind.ended) == [(spent.pk, "failed"), (asked.pk, "cancelled")]
    # A queued job nobody picked up (its message was lost) is dispatched again.
    DeletionJob.objects.filter(pk=dead.pk).update(heartbeat_at=LONG_AGO)
    assert jobs.reap(kind.kind) == [dead.pk]


def test_r2_24_cancelling_a_queued_or_dead_job_ends_it_now_a_running_one_at_its_checkpoint(
    channel: Channel, kind: Recorded
) -> None:
    queued = new_job(channel)
    assert jobs.cancel(kind.kind, queued.pk, error="Cancelled by owner.") == "cancelled"
    assert DeletionJob.objects.get(pk=queued.pk).status == "cancelled"
    assert kind.ended == [(queued.pk, "cancelled")]
    assert jobs.cancel(kind.kind, queued.pk, error="again") == "over"

    running = new_job(channel)
    lease = jobs.claim(kind.kind, running.pk)
    assert lease is not None
    with jobs.Held(lease) as held:  # inside the test's transaction: the checkpoint beats
        held.checkpoint()
        assert jobs.cancel(kind.kind, running.pk, error="Cancelled by owner.") == "requested"
        with pytest.raises(jobs.JobCancelled):
            held.checkpoint()
    assert jobs.release(lease, status="cancelled")
    running.refresh_from_db()
    assert (running.status, running.error) == ("cancelled", "Cancelled by owner.")


def test_r2_24_a_worker_asked_to_stop_hands_its_job_back_with_its_attempt(
    channel: Channel, kind: Recorded
) -> None:
    job = new_job(channel)
    lease = jobs.claim(kind.kind, job.pk)
    assert lease is not None
    chunks = 0
    with jobs.holding(lease) as held:
        for _ in range(5):
            held.checkpoint()
            chunks += 1
            if chunks == 2:
                jobs.request_stop()  # what the worker's SIGTERM handler does
    assert chunks == 2
    job.refresh_from_db()
    assert (job.status, job.attempts, job.lease_token) == ("queued", 0, None)
    assert kind.dispatched == [job.pk]  # any worker takes it again at once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r2_24_a_pass_over_a_file_reads_the_cancel_flag_at_most_every_so_often_a_chunk_every_time(
    channel: Channel, kind: Recorded
) -> None:
    """With a heartbeat thread (PostgreSQL, outside a transaction), a checkpoint inside a pass
    over a file's rows (``peek_every``) does not read the flag again within that time; the next
    chunk's checkpoint does, and stops the job there."""
    job = new_job(channel)
    lease = jobs.claim(kind.kind, job.pk)
    assert lease is not None
    with jobs.Held(lease) as held:
        held.checkpoint(peek_every=60)
        assert jobs.cancel(kind.kind, job.pk, error="Cancelled by owner.") == "requested"
        held.checkpoint(peek_every=60)  # read a moment ago: the pass goes on
        with pytest.raises(jobs.JobCancelled):
            held.checkpoint()
    assert jobs.release(lease, status="cancelled")

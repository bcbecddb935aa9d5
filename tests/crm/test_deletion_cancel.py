"""Cancelling a deletion from its page (R2.24, R3.1): a running one stops between two chunks,
says how many customers it deleted, and leaves no customer half-deleted; a queued one ends at
once. In English and in Korean. Runs on SQLite and on PostgreSQL (where a heartbeat thread
beats: the cancel is still seen at the next chunk)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import ActivityLog, Channel, Customer, CustomerImportTag, DeletionJob
from crm.services.deletion import customers_delete, deletion_job_run
from tests.crm.test_deletion import tagged

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def job(channel: Channel, owner: Any, settings: Any) -> DeletionJob:
    settings.DELETE_INLINE_MAX = 1
    settings.DELETE_CHUNK_ROWS = 2
    tagged(channel, "spring", 7)
    return customers_delete(
        channel=channel, by=owner, via="bulk", filter={"importTag": "spring"}, background=False
    )


def page(client: Client, job: DeletionJob) -> str:
    response = client.get(reverse("admin:crm_deletion", args=[job.pk]))
    assert response.status_code == 200
    return response.content.decode()


def cancel(client: Client, job: DeletionJob) -> Any:
    return client.post(reverse("admin:crm_deletion_cancel", args=[job.pk]), follow=True)


def run_cancelled_after_first_chunk(client: Client, job: DeletionJob) -> tuple[str, str]:
    """Run the job; after its first chunk the manager presses "Cancel deletion". Returns the
    page as it was while cancelling, and the message the cancel answered."""
    seen: list[tuple[str, str]] = []

    def progress(j: DeletionJob) -> None:
        if not seen:
            answer = cancel(client, job)
            note = " ".join(str(m) for m in answer.context["messages"])
            seen.append((answer.content.decode(), note))

    deletion_job_run(job.pk, progress=progress)
    return seen[0]


def test_r3_1_a_running_deletion_cancelled_from_its_page_stops_between_chunks(
    channel: Channel, owner: Any, job: DeletionJob
) -> None:
    client = logged_in(owner)
    assert "Cancel deletion" in page(client, job)
    during, note = run_cancelled_after_first_chunk(client, job)
    assert "stops once the customers it is deleting now are deleted" in note
    assert "Cancelling…" in during and "Cancel deletion" not in during

    job.refresh_from_db()
    assert (job.status, job.deleted, job.total) == ("cancelled", 2, 7)
    assert job.error == "Cancelled by owner."
    # Whole chunks only: the first two customers are gone with every row of theirs, the other
    # five are whole, import tag included.
    left = Customer.objects.filter(channel=channel)
    assert left.count() == 5
    assert CustomerImportTag.objects.filter(channel=channel).count() == 5
    assert set(CustomerImportTag.objects.values_list("customer_id", flat=True)) == set(
        left.values_list("id", flat=True)
    )
    (entry,) = ActivityLog.objects.filter(channel=channel, action="customer.delete")
    assert (entry.count, entry.detail["status"]) == (2, "cancelled")
    after = page(client, job)
    assert "Cancelled: 2 customers were deleted before it stopped; the others are kept." in after
    assert "Cancel deletion" not in after
    assert deletion_job_run(job.pk).deleted == 2  # delivered again: nothing more


def test_r3_1_a_queued_deletion_cancelled_ends_at_once_deleting_nothing(
    channel: Channel, owner: Any, job: DeletionJob
) -> None:
    client = logged_in(owner)
    answer = cancel(client, job)
    assert [str(m) for m in answer.context["messages"]] == [
        "The deletion is cancelled: 0 customers were deleted before it stopped."
    ]
    job.refresh_from_db()
    assert (job.status, job.deleted) == ("cancelled", 0)
    assert Customer.objects.filter(channel=channel).count() == 7
    assert ActivityLog.objects.get(action="customer.delete").count == 0
    assert deletion_job_run(job.pk).status == "cancelled"  # a late delivery deletes nothing
    again = cancel(client, job)
    assert [str(m) for m in again.context["messages"]] == ["The deletion had already ended."]


def test_r3_1_cancel_needs_a_post_and_the_delete_grant(
    channel: Channel, owner: Any, agent: Any, outsider: Any, job: DeletionJob
) -> None:
    url = reverse("admin:crm_deletion_cancel", args=[job.pk])
    assert logged_in(owner).get(url).status_code == 405
    for user in (agent, outsider):
        assert logged_in(user).post(url).status_code == 404, user
    assert (
        logged_in(owner).post(reverse("admin:crm_deletion_cancel", args=[999999])).status_code
        == 404
    )
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == ("queued", False)


@pytest.mark.usefixtures("korean")
def test_r11_1_cancelling_a_deletion_reads_in_korean(
    channel: Channel, owner: Any, job: DeletionJob
) -> None:
    client = logged_in(owner)
    assert "삭제 취소" in page(client, job)
    during, note = run_cancelled_after_first_chunk(client, job)
    assert "지금 삭제 중인 고객까지 삭제한 뒤 멈춥니다" in note
    assert "취소하는 중…" in during
    after = page(client, job)
    assert (
        "취소됨: 멈추기 전에 고객 2명을 삭제했습니다. 나머지 고객은 그대로 남아 있습니다." in after
    )

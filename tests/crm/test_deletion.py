"""Deleting customers (R3.1 to R3.3, R3.6) through the services: what goes, what stays, jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.test import Client
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm

from crm import jobs
from crm.models import (
    ActivityLog,
    BlockFollow,
    Call,
    Campaign,
    CampaignTarget,
    Channel,
    Chat,
    ConsentChange,
    Customer,
    CustomerImportTag,
    CustomerTag,
    DeletionJob,
    ImportTag,
    Message,
    PendingUnification,
    Tag,
)
from crm.selectors import channel_mu, channel_mu_counted
from crm.services import deletion
from crm.services.deletion import (
    DELETIONS,
    customer_delete,
    customers_delete,
    deletion_job_run,
    deletion_preview,
)
from importer.models import ImportJob, ImportJournal

NOW = timezone.now()


def mu(channel: Channel) -> int:
    value = channel_mu(channel)
    assert value == channel_mu_counted(channel)
    return value


def person(channel: Channel, n: int = 0, **fields: Any) -> Customer:
    return Customer.objects.create(
        channel=channel, verified=True, email=f"p{n}@example.com", **fields
    )


def tagged(channel: Channel, name: str, count: int, start: int = 0) -> list[Customer]:
    tag, _ = ImportTag.objects.get_or_create(channel=channel, name=name)
    people = [person(channel, start + i) for i in range(count)]
    CustomerImportTag.objects.bulk_create(
        CustomerImportTag(channel=channel, customer=p, import_tag=tag, added_at=NOW) for p in people
    )
    return people


def everything_of(channel: Channel, customer: Customer, owner: Any) -> dict[str, Any]:
    """A customer with a row in every table that points at customers."""
    chat = Chat.objects.create(channel=channel, customer=customer)
    for body in ("hi", "hello", "bye"):
        Message.objects.create(channel=channel, chat=chat, sender="customer", body=body)
    Call.objects.create(channel=channel, customer=customer, direction="inbound", status="missed")
    tag = Tag.objects.create(channel=channel, name="vip")
    CustomerTag.objects.create(channel=channel, customer=customer, tag=tag)
    itag = ImportTag.objects.create(channel=channel, name="spring")
    CustomerImportTag.objects.create(
        channel=channel, customer=customer, import_tag=itag, added_at=NOW
    )
    campaign = Campaign.objects.create(channel=channel, name="c", body="b")
    CampaignTarget.objects.create(channel=channel, campaign=campaign, customer=customer)
    other = Customer.objects.create(channel=channel, member_id="mx", verified=True)
    PendingUnification.objects.create(channel=channel, lead=customer, member=other)
    PendingUnification.objects.create(channel=channel, lead=other, member=customer)
    BlockFollow.objects.create(channel=channel, source=customer, follower=other)
    BlockFollow.objects.create(channel=channel, source=other, follower=customer)
    ConsentChange.objects.create(
        channel=channel,
        customer=customer,
        key="unsubscribeEmail",
        old=False,
        new=True,
        at=NOW,
        source="manager",
    )
    assign_perm("crm.view_customer", owner, customer)
    group = Group.objects.create(name="g")
    assign_perm("crm.view_customer", group, customer)
    job = ImportJob.objects.create(channel=channel, kind="lead", filename="f.csv")
    ImportJournal.objects.create(
        channel=channel, job=job, customer_id=customer.pk, created=False, previous={"name": "x"}
    )
    return {"chat": chat, "other": other}


def test_r3_2_every_row_of_the_customer_goes_but_chats_messages_and_calls_stay(
    channel: Channel, owner: Any
) -> None:
    doomed = person(channel, name="Gone")
    rows = everything_of(channel, doomed, owner)
    customer_delete(channel=channel, customer=doomed, by=owner)
    assert not Customer.objects.filter(pk=doomed.pk).exists()
    chat = Chat.objects.get()
    assert chat.customer_id is None and chat.from_deleted_customer
    assert chat.messages.count() == 3
    assert Call.objects.get().customer_id is None
    for model in (CustomerTag, CustomerImportTag, CampaignTarget, PendingUnification):
        assert not model.objects.exists(), model
    assert not UserObjectPermission.objects.filter(object_pk=str(doomed.pk)).exists()
    assert not GroupObjectPermission.objects.filter(object_pk=str(doomed.pk)).exists()
    assert not ImportJournal.objects.filter(customer_id=doomed.pk).exists()
    assert Customer.objects.filter(pk=rows["other"].pk).exists()
    # Every table pointing at customers, whether or not the database checks it (issue 15: most
    # do not, the deletion keeps them right): no row left naming the deleted customer.
    for rel in deletion._relations():
        rows_left = rel.related_model._base_manager.filter(**{rel.field.attname: doomed.pk})
        assert not rows_left.exists(), rel
    assert Tag.objects.exists() and ImportTag.objects.exists() and Campaign.objects.exists()


def test_r3_2_every_relation_to_customers_is_handled_by_the_deletion() -> None:
    """A new table pointing at customers must say what a deletion does to it."""
    relations = deletion._relations()
    assert {(r.related_model.__name__, r.field.name) for r in relations} >= {
        ("Chat", "customer"),
        ("Call", "customer"),
        ("CustomerTag", "customer"),
        ("CustomerImportTag", "customer"),
        ("CampaignTarget", "customer"),
        ("PendingUnification", "lead"),
        ("PendingUnification", "member"),
    }
    for rel in relations:
        assert rel.on_delete in (models.CASCADE, models.SET_NULL), rel
        if rel.related_model in (Chat, Call):
            assert rel.on_delete is models.SET_NULL  # conversation history stays (R3.2)


def test_r3_6_single_deletion_is_logged_with_who_how_and_how_many(
    channel: Channel, owner: Any
) -> None:
    doomed = person(channel)
    customer_delete(channel=channel, customer=doomed, by=owner)
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CUSTOMER_DELETE)
    assert (entry.actor, entry.via, entry.count, entry.customer_id) == (
        owner,
        "hand",
        1,
        doomed.pk,
    )
    with pytest.raises(ValidationError, match="no longer exists"):
        customer_delete(channel=channel, customer=doomed, by=owner)


def test_r8_2_another_channels_customer_is_never_deleted(
    channel: Channel, other_channel: Channel, outsider: Any
) -> None:
    mine = person(channel)
    with pytest.raises(ValidationError, match="another channel"):
        customer_delete(channel=other_channel, customer=mine, by=outsider)
    with pytest.raises(ValidationError, match="no customer with the id"):
        customers_delete(channel=other_channel, by=outsider, via="bulk", ids=[mine.pk])
    tagged(channel, "spring", 2, start=10)
    ImportTag.objects.create(channel=other_channel, name="spring")
    job = customers_delete(
        channel=other_channel, by=outsider, via="bulk", filter={"importTag": "spring"}
    )
    assert job.deleted == 0
    assert Customer.objects.filter(channel=channel).count() == 3


def test_r3_3_a_deleted_customer_who_boots_again_is_new(channel: Channel, owner: Any) -> None:
    from crm.services.boot import customer_boot

    first = customer_boot(channel=channel, member_id="m1", veil_id="veil-person-1").customer
    chat = Chat.objects.create(channel=channel, customer=first)
    customer_delete(channel=channel, customer=first, by=owner)
    again = customer_boot(channel=channel, member_id="m1", veil_id="veil-person-1")
    assert again.created and again.customer.pk != first.pk
    chat.refresh_from_db()
    assert chat.customer_id is None  # the old history is not handed to the new customer
    anon = customer_boot(channel=channel, veil_id="veil-person-2").customer
    customer_delete(channel=channel, customer=anon, by=owner)
    assert customer_boot(channel=channel, veil_id="veil-person-2").customer.pk != anon.pk


# --- many at once ------------------------------------------------------------------------------
def test_r3_1_selection_is_deleted_now_and_logged_once(channel: Channel, owner: Any) -> None:
    people = [person(channel, i) for i in range(3)]
    keep = person(channel, 9)
    job = customers_delete(
        channel=channel, by=owner, via="bulk", ids=[p.pk for p in people], expected=3
    )
    assert (job.status, job.total, job.deleted) == ("succeeded", 3, 3)
    assert list(Customer.objects.all()) == [keep]
    entry = ActivityLog.objects.get(action=ActivityLog.Action.CUSTOMER_DELETE)
    assert (entry.actor, entry.via, entry.count, entry.detail["job"]) == (owner, "bulk", 3, job.pk)
    assert mu(channel) == 1


def test_r2_21_everything_with_one_import_tag_is_deleted(channel: Channel, owner: Any) -> None:
    spring = tagged(channel, "spring", 4)
    autumn = tagged(channel, "autumn", 2, start=10)
    blocked = spring[0]
    Customer.objects.filter(pk=blocked.pk).update(blocked=True)
    count, top = deletion_preview(channel=channel, filter={"importTag": "spring"})
    assert (count, top) == (3, spring[-1].pk)  # blocked customers are not in contacts
    job = customers_delete(
        channel=channel,
        by=owner,
        via="bulk",
        filter={"importTag": "spring"},
        expected=3,
        max_id=top,
        description="import tag spring",
    )
    assert job.deleted == 3
    assert set(Customer.objects.all()) == {blocked, *autumn}
    assert mu(channel) == 2


def test_r3_1_a_changed_selection_is_confirmed_again_and_later_customers_are_kept(
    channel: Channel, owner: Any
) -> None:
    tagged(channel, "spring", 2)
    count, top = deletion_preview(channel=channel, filter={"importTag": "spring"})
    later = tagged(channel, "spring", 1, start=50)[0]  # imported after the confirm page
    with pytest.raises(ValidationError, match="selection changed"):
        customers_delete(
            channel=channel, by=owner, via="bulk", filter={"importTag": "spring"}, expected=1
        )
    assert Customer.objects.count() == 3
    customers_delete(
        channel=channel,
        by=owner,
        via="bulk",
        filter={"importTag": "spring"},
        expected=count,
        max_id=top,
    )
    assert list(Customer.objects.all()) == [later]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"ids": [1], "filter": {"q": "x"}},
        {"filter": {}},
        {"filter": {"q": ""}},
        {"filter": {"importTag": "no such tag"}},
        {"filter": {"createdFrom": "2025.05.04"}},
    ],
)
def test_r3_1_bad_requests_delete_nothing(
    channel: Channel, owner: Any, kwargs: dict[str, Any]
) -> None:
    person(channel)
    with pytest.raises(ValidationError):
        customers_delete(channel=channel, by=owner, via="bulk", **kwargs)
    assert Customer.objects.count() == 1 and not DeletionJob.objects.exists()


def test_r3_1_large_deletion_is_a_background_job_with_progress(
    channel: Channel, owner: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.DELETE_INLINE_MAX = 3
    settings.DELETE_CHUNK_ROWS = 2
    people = tagged(channel, "spring", 7)
    for p in people:
        chat = Chat.objects.create(channel=channel, customer=p)
        Message.objects.create(channel=channel, chat=chat, sender="customer", body="hi")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = customers_delete(
            channel=channel, by=owner, via="bulk", filter={"importTag": "spring"}, expected=7
        )
    assert (job.status, job.total, job.deleted) == ("queued", 7, 0)
    assert len(callbacks) == 1  # the Celery task, sent once the request commits
    seen: list[int] = []
    done = deletion_job_run(job.pk, progress=lambda j: seen.append(j.deleted))
    assert seen == [2, 4, 6, 7]
    assert (done.status, done.deleted, done.percent, done.attempts) == ("succeeded", 7, 100, 1)
    assert not Customer.objects.exists()
    assert Message.objects.count() == 7 and not Chat.objects.filter(customer__isnull=False)
    assert ActivityLog.objects.get(action="customer.delete").count == 7
    # Running a finished job again does nothing.
    assert deletion_job_run(job.pk).attempts == 1


@pytest.mark.usefixtures("eager_celery")
def test_r3_1_a_job_whose_worker_died_is_resumed_and_counts_stay_exact(
    channel: Channel, owner: Any, settings: Any
) -> None:
    settings.DELETE_INLINE_MAX = 1
    settings.DELETE_CHUNK_ROWS = 2
    tagged(channel, "spring", 5)
    job = customers_delete(
        channel=channel,
        by=owner,
        via="command",
        filter={"importTag": "spring"},
        background=False,
    )

    class Died(Exception):
        pass

    def die(j: DeletionJob) -> None:
        raise Died

    with pytest.raises(Died):
        deletion_job_run(job.pk, progress=die)  # one chunk committed, then the worker "dies"
    job.refresh_from_db()
    assert (job.status, job.deleted) == ("running", 2)
    assert deletion_job_run(job.pk).status == "running"  # still leased: left alone
    DeletionJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert jobs.reap(DELETIONS) == [job.pk]  # eager Celery: resumed here
    job.refresh_from_db()
    assert (job.status, job.deleted, job.attempts) == ("succeeded", 5, 2)
    assert ActivityLog.objects.filter(action="customer.delete").count() == 1
    assert mu(channel) == 0


def test_r3_1_a_job_that_keeps_dying_is_failed_and_logged(
    channel: Channel, owner: Any, settings: Any
) -> None:
    settings.DELETE_INLINE_MAX = 0
    tagged(channel, "spring", 2)
    job = customers_delete(
        channel=channel, by=owner, via="bulk", filter={"importTag": "spring"}, background=False
    )
    DeletionJob.objects.filter(pk=job.pk).update(
        status="running", attempts=3, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert jobs.reap(DELETIONS) == []
    job.refresh_from_db()
    assert job.status == "failed" and "3 times" in job.error
    assert ActivityLog.objects.get(action="customer.delete").detail["status"] == "failed"


def test_r3_1_a_job_whose_filter_went_invalid_fails_cleanly(
    channel: Channel, owner: Any, settings: Any
) -> None:
    settings.DELETE_INLINE_MAX = 0
    tagged(channel, "spring", 2)
    job = customers_delete(
        channel=channel, by=owner, via="bulk", filter={"importTag": "spring"}, background=False
    )
    ImportTag.objects.all().delete()
    done = deletion_job_run(job.pk)
    assert done.status == "failed" and "importTag" in done.error


def test_r3_1_job_progress_page_needs_the_delete_grant(
    channel: Channel, owner: Any, agent: Any, outsider: Any, settings: Any
) -> None:
    settings.DELETE_INLINE_MAX = 0
    tagged(channel, "spring", 2)
    job = customers_delete(
        channel=channel, by=owner, via="bulk", filter={"importTag": "spring"}, background=False
    )
    url = f"/admin/crm/customer/deletions/{job.pk}/"
    for user, status in ((owner, 200), (agent, 404), (outsider, 404)):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == status, user
    client = Client()
    client.force_login(owner)
    assert client.get(url, {"format": "json"}).json() == {
        "status": "queued",
        "total": 2,
        "deleted": 0,
        "percent": 0,
        "error": "",
    }
    assert "0 of 2" in client.get(url).content.decode()

"""Deleting in the back-office (R3.1, R3.6): the customer page, a selection, everything matching
a filter, each behind a confirmation page that states the count and that it cannot be undone."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import (
    ActivityLog,
    Channel,
    Chat,
    Customer,
    CustomerImportTag,
    DeletionJob,
    ImportTag,
    Message,
)
from crm.services.customers import lead_add

LIST = reverse("admin:crm_customer_changelist")


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def people(channel: Channel, count: int, tag: str = "") -> list[Customer]:
    made = [
        lead_add(channel=channel, email=f"p{i}-{tag}@example.com", name=f"P{i}").customer
        for i in range(count)
    ]
    if tag:
        import_tag, _ = ImportTag.objects.get_or_create(channel=channel, name=tag)
        for person in made:
            CustomerImportTag.objects.create(
                channel=channel, customer=person, import_tag=import_tag, added_at=timezone.now()
            )
    return made


def test_r3_1_delete_from_the_customer_page_after_a_confirmation(
    channel: Channel, owner: Any
) -> None:
    (person,) = people(channel, 1)
    chat = Chat.objects.create(channel=channel, customer=person)
    Message.objects.create(channel=channel, chat=chat, sender="customer", body="hi")
    client = logged_in(owner)
    page = client.get(reverse("admin:crm_customer_change", args=[person.pk])).content.decode()
    url = reverse("admin:crm_customer_delete_customer", args=[person.pk])
    assert url in page
    confirm = client.get(url).content.decode()
    assert "cannot be undone" in confirm and "Yes, delete 1 customer" in confirm
    assert Customer.objects.filter(pk=person.pk).exists()  # a GET deletes nothing
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith(LIST)
    assert not Customer.objects.filter(pk=person.pk).exists()
    assert Message.objects.count() == 1
    chat_page = client.get(reverse("admin:crm_chat_change", args=[chat.pk])).content.decode()
    assert "Deleted customer" in chat_page and "hi" in chat_page
    entry = ActivityLog.objects.get(action="customer.delete")
    assert (entry.actor, entry.via, entry.count) == (owner, "hand", 1)


def test_r3_1_only_managers_with_the_delete_grant_delete(
    channel: Channel, agent: Any, outsider: Any
) -> None:
    (person,) = people(channel, 1)
    url = reverse("admin:crm_customer_delete_customer", args=[person.pk])
    page = logged_in(agent).get(reverse("admin:crm_customer_change", args=[person.pk]))
    assert url not in page.content.decode()
    assert logged_in(agent).post(url).status_code == 403
    assert logged_in(outsider).post(url).status_code == 404  # R8.2
    assert "delete_selected_customers" not in logged_in(agent).get(LIST).content.decode()
    response = logged_in(agent).post(
        LIST,
        {
            "action": "delete_selected_customers",
            "_selected_action": [person.pk],
            "post": "yes",
            "expected": "1",
        },
    )
    assert response.status_code in (200, 302)
    assert Customer.objects.filter(pk=person.pk).exists()


def test_r3_1_delete_a_selection(channel: Channel, admin_manager: Any) -> None:
    chosen = people(channel, 3)
    client = logged_in(admin_manager)
    ids = [p.pk for p in chosen[:2]]
    confirm = client.post(
        LIST, {"action": "delete_selected_customers", "_selected_action": ids, "index": 0}
    )
    html = confirm.content.decode()
    assert "Delete 2 customers" in html and "cannot be undone" in html
    done = client.post(
        LIST,
        {
            "action": "delete_selected_customers",
            "_selected_action": ids,
            "select_across": "0",
            "expected": "2",
            "post": "yes",
        },
    )
    assert done.status_code == 302
    assert list(Customer.objects.all()) == [chosen[2]]
    assert ActivityLog.objects.get(action="customer.delete").count == 2


@pytest.mark.usefixtures("eager_celery")
def test_r2_21_delete_everything_matching_an_import_tag(
    channel: Channel, owner: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.DELETE_INLINE_MAX = 2  # larger: a background job (eager Celery here)
    spring = people(channel, 4, tag="spring")
    keep = people(channel, 2, tag="autumn")
    client = logged_in(owner)
    url = f"{LIST}?channel={channel.slug}&importTag=spring"
    confirm = client.post(
        url,
        {
            "action": "delete_selected_customers",
            "_selected_action": [spring[0].pk],
            "select_across": "1",
            "index": 0,
        },
    )
    html = confirm.content.decode()
    assert "Delete 4 customers matching import tag “spring”" in html
    assert 'name="max_id"' in html
    max_id = max(p.pk for p in spring)
    with django_capture_on_commit_callbacks(execute=True):  # the task, eager without Redis
        done = client.post(
            url,
            {
                "action": "delete_selected_customers",
                "_selected_action": [spring[0].pk],
                "select_across": "1",
                "expected": "4",
                "max_id": str(max_id),
                "post": "yes",
            },
        )
    job = DeletionJob.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "admin:crm_deletion", args=[job.pk]
    )
    assert set(Customer.objects.all()) == set(keep)
    job.refresh_from_db()
    assert (job.status, job.deleted, job.via) == ("succeeded", 4, "bulk")
    assert "4 of 4" in client.get(done["Location"]).content.decode()


def test_r3_1_delete_everything_needs_a_filter(channel: Channel, owner: Any) -> None:
    chosen = people(channel, 2)
    response = logged_in(owner).post(
        f"{LIST}?channel={channel.slug}",
        {
            "action": "delete_selected_customers",
            "_selected_action": [chosen[0].pk],
            "select_across": "1",
            "index": 0,
        },
        follow=True,
    )
    assert "not offered" in response.content.decode()
    assert Customer.objects.count() == 2


def test_r3_1_a_selection_that_changed_since_the_confirm_page_is_not_deleted(
    channel: Channel, owner: Any
) -> None:
    chosen = people(channel, 2, tag="spring")
    url = f"{LIST}?channel={channel.slug}&importTag=spring"
    response = logged_in(owner).post(
        url,
        {
            "action": "delete_selected_customers",
            "_selected_action": [chosen[0].pk],
            "select_across": "1",
            "expected": "5",
            "post": "yes",
        },
        follow=True,
    )
    assert "selection changed" in response.content.decode()
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("bad", ["x", ""])
def test_r3_1_a_tampered_confirmation_deletes_nothing(
    channel: Channel, owner: Any, bad: str
) -> None:
    chosen = people(channel, 1)
    logged_in(owner).post(
        LIST,
        {
            "action": "delete_selected_customers",
            "_selected_action": [chosen[0].pk],
            "expected": bad,
            "post": "yes",
        },
    )
    assert Customer.objects.count() == 1


def unbounded_counts(queries: Any) -> list[str]:
    """The counts of customers that neither a ``LIMIT`` subquery nor a list of ids bounds."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT COUNT(")
        and "crm_customer" in q["sql"]
        and "FROM (SELECT" not in q["sql"]
        and '"crm_customer"."id" IN (' not in q["sql"]
        and '"crm_customer"."id" = ANY(' not in q["sql"]
    ]


@pytest.mark.usefixtures("eager_celery")
@pytest.mark.parametrize(
    ("language", "title", "button"),
    [
        ("en", "Delete 3+ customers matching import tag “spring”?", "Yes, delete them all"),
        (
            "ko",
            "가져오기 태그 “spring”에 해당하는 고객 3명 이상을 삭제할까요?",
            "네, 모두 삭제합니다",
        ),
    ],
)
def test_r3_1_select_all_past_the_bound_is_counted_by_its_job_not_the_page(
    channel: Channel,
    owner: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    language: str,
    title: str,
    button: str,
) -> None:
    """Issue 15 / R3.1 / R2.21: "all matching" shows a bounded count ("3+" here, "1,000+" in
    production) without counting the channel, and the job counts what it deletes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.admin import customer_actions
    from crm.models import ManagerSettings

    ManagerSettings.objects.create(user=owner, language=language)
    monkeypatch.setattr(customer_actions, "COUNT_BOUND", 3)
    settings.DELETE_INLINE_MAX = 2
    spring = people(channel, 4, tag="spring")
    keep = people(channel, 1, tag="autumn")
    client = logged_in(owner)
    url = f"{LIST}?channel={channel.slug}&importTag=spring"
    with CaptureQueriesContext(connection) as queries:
        confirm = client.post(
            url,
            {
                "action": "delete_selected_customers",
                "_selected_action": [spring[0].pk],
                "select_across": "1",
                "index": 0,
            },
        )
    html = confirm.content.decode()
    assert title in html and button in html
    assert 'name="expected"' not in html and 'name="max_id"' in html
    assert unbounded_counts(queries.captured_queries) == []
    # Added after the page: not part of the deletion.
    later = lead_add(channel=channel, email="later@example.com", name="Later").customer
    CustomerImportTag.objects.create(
        channel=channel,
        customer=later,
        import_tag=ImportTag.objects.get(name="spring"),
        added_at=timezone.now(),
    )
    max_id = max(p.pk for p in spring)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            url,
            {
                "action": "delete_selected_customers",
                "_selected_action": [spring[0].pk],
                "select_across": "1",
                "max_id": str(max_id),
                "post": "yes",
            },
        )
    assert done.status_code == 302
    job = DeletionJob.objects.get()
    assert (job.status, job.total, job.deleted) == ("succeeded", 4, 4)
    assert set(Customer.objects.all()) == {*keep, later}

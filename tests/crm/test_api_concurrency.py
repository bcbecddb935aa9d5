"""R6.2 under concurrency (the closing note's "concurrent API create same memberId"): two Open
API requests creating the same new member at the same moment, on two real connections. One
creates it (201), the other updates what the first made (200); never a 500, never two members.
The race itself on PostgreSQL only: SQLite serialises writers on its file lock."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from crm.models import ActivityLog, Channel, Customer
from crm.services.channels import NewChannel
from tests.crm.test_api_support import NEW, Api


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r6_2_two_creates_of_one_new_member_at_once_make_one_member(
    new_channel: NewChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel: Channel = new_channel.channel
    # Both requests have looked the member up (and found nothing) before either inserts it:
    # each waits for the other at its first save.
    both_looked = threading.Barrier(2, timeout=30)
    waited: set[int] = set()
    original_save = Customer.save

    def save(self: Customer, *args: Any, **kwargs: Any) -> None:
        me = threading.get_ident()
        if self.pk is None and me not in waited:
            waited.add(me)
            both_looked.wait()
        original_save(self, *args, **kwargs)

    monkeypatch.setattr(Customer, "save", save)
    answers: list[tuple[int, Any]] = []

    def put(name: str) -> None:
        try:
            api = Api.of(channel, new_channel.access_secret)
            answer = api.put_member("m-race", {"profile": {"name": name}, **NEW})
            answers.append((answer.status, answer.body))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=put, args=(name,)) for name in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(status for status, _ in answers) == [200, 201], answers
    assert sorted(body["created"] for _, body in answers) == [False, True]
    (member,) = Customer.objects.filter(channel=channel, member_id="m-race")
    updated = next(body for status, body in answers if status == 200)
    assert member.name == updated["user"]["name"]  # the later write is the one kept
    actions = ActivityLog.objects.filter(channel=channel, via="api").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["customer.create", "customer.edit"]


@pytest.mark.django_db
def test_r6_2_a_create_that_keeps_colliding_is_a_409_with_a_reason(
    new_channel: NewChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the member still colliding on the second attempt (created, then taken away, then
    created again by others), the request is refused cleanly: 409 and a reason, nothing
    written, never a 500."""
    from django.db import IntegrityError

    def collide(*args: Any) -> Any:
        raise IntegrityError('duplicate key value violates unique constraint "x"')

    monkeypatch.setattr("crm.services.api_users._upsert", collide)
    api = Api.of(new_channel.channel, new_channel.access_secret)
    answer = api.put_member("m-race", {"profile": {"name": "x"}, **NEW})
    assert answer.status == 409
    assert "another request at the same time" in answer.body["errors"]["user"]
    assert not Customer.objects.filter(channel=new_channel.channel).exists()

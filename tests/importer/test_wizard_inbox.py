"""R2.18 in the browser: the import bot's messages in the managers' inbox, with the unread count
in every back-office page's header."""

from __future__ import annotations

from typing import Any

import pytest

from crm.models import Channel, InboxMessage
from tests.importer.wizard_support import client_for

pytestmark = pytest.mark.django_db


def message(
    channel: Channel, user: Any, title: str = "Import of 고객.csv finished"
) -> InboxMessage:
    return InboxMessage.objects.create(
        channel=channel,
        recipient=user,
        title=title,
        body="3 created, 0 updated, 1 failed (4 rows).",
        link=f"/imports/{channel.slug}/1/",
    )


def test_r2_18_header_shows_the_unread_count_on_every_back_office_page(
    owner: Any, channel: Channel
) -> None:
    message(channel, owner)
    message(channel, owner, "Import of b.csv failed")
    client = client_for(owner)
    for path in ("/admin/", "/admin/crm/customer/", "/imports/acme/", "/inbox/"):
        page = client.get(path).content.decode()
        assert 'aria-label="Inbox, 2 unread"' in page, path
        assert '<span class="inbox-badge">2</span>' in page


def test_r2_18_inbox_lists_own_messages_and_opening_one_marks_it_read(
    owner: Any, admin_manager: Any, channel: Channel
) -> None:
    mine = message(channel, owner)
    theirs = message(channel, admin_manager, "Import of theirs.csv finished")
    client = client_for(owner)
    page = client.get("/inbox/").content.decode()
    assert "Import of 고객.csv finished" in page and "theirs.csv" not in page
    assert "1 unread." in page and "Acme 상점" in page
    response = client.post(f"/inbox/{mine.pk}/open/")
    assert response.status_code == 302 and response.url == "/imports/acme/1/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert '<span class="inbox-badge">' not in client.get("/inbox/").content.decode()
    assert client.post(f"/inbox/{theirs.pk}/open/").status_code == 404
    assert client.get(f"/inbox/{mine.pk}/open/").status_code == 405


def test_r2_18_mark_all_read(owner: Any, channel: Channel) -> None:
    for _ in range(3):
        message(channel, owner)
    client = client_for(owner)
    assert client.post("/inbox/read/").url == "/inbox/"
    assert not InboxMessage.objects.filter(read_at__isnull=True).exists()


def test_the_imports_link_is_shown_only_to_managers_who_may_import(
    owner: Any, agent: Any, channel: Channel
) -> None:
    assert 'href="/imports/"' in client_for(owner).get("/admin/").content.decode()
    assert 'href="/imports/"' not in client_for(agent).get("/admin/").content.decode()

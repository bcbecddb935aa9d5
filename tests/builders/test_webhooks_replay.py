"""Replays are recognised by what the signature covers, or for builders that sign nothing by
what the event means (R5.2): varying an unsigned header or field, re-spacing or reordering the
JSON, never makes a delivery act twice; an event whose builder time is older than the replay
window is refused; receipts that alone recognise a deletion's replay are never purged."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from builders.models import BuilderInstallation, WebhookReceipt
from builders.webhooks import receipts_purge
from crm.models import Channel, Customer
from tests.builders.conftest import SECRETS, Install, member, payload, post

pytestmark = pytest.mark.django_db


def respaced(body: bytes, **changes: Any) -> bytes:
    """The same event as a replayer could resend it: keys reordered, spacing changed, and
    fields the signature (there is none) would not have covered changed or added."""
    data = json.loads(body)
    data.update(changes)
    return json.dumps(dict(reversed(list(data.items()))), separators=(", ", " : ")).encode()


VARIANTS = {
    "cafe24": ({"x-api-key": SECRETS["cafe24"]}, {"event_shop_no": "2", "trace": "x"}),
    "imweb": ({}, {"eventId": "evt_replayed_9999"}),
    "makeshop": ({}, {"request_id": "r-2"}),
    "shopby": ({}, {"memberName": "someone", "extra": 1}),
}
FIXTURES = {
    "cafe24": ("member_withdrawal.json", "kim123"),
    "imweb": ("member_withdraw.json", "m20250905abc"),
    "makeshop": ("member_withdrawal.json", "makeshop_kim"),
    "shopby": ("member_withdraw.json", "shopby_kim"),
}


@pytest.mark.parametrize("platform", sorted(VARIANTS))
def test_r5_2_a_replay_with_changed_unsigned_parts_acts_once(
    channel: Channel, install: Install, platform: str
) -> None:
    site = install(channel, platform)
    fixture, member_id = FIXTURES[platform]
    headers, changes = VARIANTS[platform]
    body = payload(platform, fixture)
    member(channel, member_id)
    assert post(site, body, headers)[1]["outcome"] == "deleted"
    again = member(channel, member_id)  # signed up again since
    assert post(site, respaced(body, **changes), headers)[1]["outcome"] == "duplicate"
    assert Customer.objects.filter(pk=again.pk).exists()
    assert WebhookReceipt.objects.filter(installation=site).count() == 1


@pytest.mark.parametrize("platform", ["cafe24", "imweb", "makeshop"])
def test_r5_2_a_later_withdrawal_of_the_same_member_is_a_new_event(
    channel: Channel, install: Install, platform: str
) -> None:
    """Builders that send the event's time: the member left, came back and left again."""
    site = install(channel, platform)
    fixture, member_id = FIXTURES[platform]
    headers, _ = VARIANTS[platform]
    member(channel, member_id)
    first = payload(platform, fixture, sent_at=timezone.now() - timedelta(days=2))
    assert post(site, first, headers)[1]["outcome"] == "deleted"
    back = member(channel, member_id)
    assert post(site, payload(platform, fixture), headers)[1]["outcome"] == "deleted"
    assert not Customer.objects.filter(pk=back.pk).exists()


@pytest.mark.parametrize("platform", ["cafe24", "imweb", "makeshop"])
def test_r5_2_an_event_older_than_the_replay_window_is_refused(
    channel: Channel, install: Install, platform: str, settings: Any
) -> None:
    settings.BUILDER_WEBHOOK_RECEIPT_DAYS = 30
    site = install(channel, platform)
    fixture, member_id = FIXTURES[platform]
    headers, _ = VARIANTS[platform]
    kept = member(channel, member_id)
    old = payload(platform, fixture, sent_at=timezone.now() - timedelta(days=31))
    assert post(site, old, headers) == (200, {"outcome": "stale", "deleted": 0})
    assert Customer.objects.filter(pk=kept.pk).exists()
    assert not WebhookReceipt.objects.exists()


def test_r5_2_receipts_that_alone_recognise_a_deletion_are_kept(
    channel: Channel, install: Install
) -> None:
    shopby = install(channel, "shopby")
    cafe24 = install(channel, "cafe24")
    member(channel, "shopby_kim")
    post(shopby, payload("shopby", "member_withdraw.json"))  # no builder time: kept
    post(shopby, payload("shopby", "member_info_changed.json"))  # changed nothing: purged
    post(cafe24, payload("cafe24", "member_withdrawal.json"), {"x-api-key": SECRETS["cafe24"]})
    WebhookReceipt.objects.update(received_at=timezone.now() - timedelta(days=400))
    assert receipts_purge(older_than=timedelta(days=30)) == 2
    kept = WebhookReceipt.objects.get()
    assert (kept.installation, kept.outcome) == (shopby, "deleted")
    # Its replay, a year on, still deletes nothing.
    back = member(channel, "shopby_kim")
    assert post(shopby, payload("shopby", "member_withdraw.json"))[1]["outcome"] == "duplicate"
    assert Customer.objects.filter(pk=back.pk).exists()


def test_r5_2_receipt_keeps_the_builders_time(channel: Channel, install: Install) -> None:
    site: BuilderInstallation = install(channel, "imweb")
    post(site, payload("imweb", "member_withdraw.json"))
    assert "sentAt" in WebhookReceipt.objects.get(installation=site).detail

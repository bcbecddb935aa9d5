"""Processing a builder's webhook (R3.5, R5.2): verify, parse, then act once per event.

Nothing changes unless the request is verified (signature where the builder documents one, the
installation's secret URL token always), the event is about the installation's own site, its
builder time (where it sends one) is within the replay window, and its replay key (what the
signature covers, or what the event means: ``WebhookEvent.event_id``) was not processed before. A member who left the site is deleted through the deletion
service (via "builder", in the activity log); conversation history stays (R3.2).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from builders.base import Action, WebhookEvent
from builders.installations import normalized_shop
from builders.models import BuilderInstallation, WebhookReceipt
from builders.registry import builder_for
from crm.models import ActivityLog, Customer
from crm.services.deletion import customer_delete

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    # deleted, not_found, recorded, disconnected, ignored, other_shop, duplicate, stale
    outcome: str
    event: WebhookEvent
    deleted: int = 0


def webhook_receive(
    *, installation: BuilderInstallation, headers: Mapping[str, str], body: bytes
) -> Received:
    """Raises WebhookRefused (401) or WebhookMalformed (400); then nothing has changed."""
    builder = builder_for(installation.platform)
    builder.verify_webhook(installation, headers, body)
    event = builder.parse_webhook(headers, body)
    if event.shop_id is not None and normalized_shop(
        installation.platform, event.shop_id
    ) != normalized_shop(installation.platform, installation.shop_id):
        log.warning(
            "%s webhook for shop %r reached the installation of %r: ignored",
            installation.platform,
            event.shop_id,
            installation.shop_id,
        )
        return Received("other_shop", event)
    if event.sent_at is not None and event.sent_at < timezone.now() - replay_window():
        # Older than the receipts we keep: a replay we could no longer recognise (R5.2).
        log.warning("%s webhook of %s refused as stale", installation.platform, event.sent_at)
        return Received("stale", event)
    try:
        with transaction.atomic():
            receipt = WebhookReceipt.objects.create(
                channel_id=installation.channel_id,
                installation=installation,
                event_id=event.event_id[:255],
                topic=event.topic[:64],
                outcome="processing",
            )
            received = _apply(installation, event)
            receipt.outcome = received.outcome
            receipt.detail = {**event.detail, "deleted": received.deleted}
            if event.sent_at is not None:
                receipt.detail["sentAt"] = event.sent_at.isoformat()
            receipt.save(update_fields=["outcome", "detail"])
            return received
    except IntegrityError:
        # The unique (installation, event id) receipt: a replay, or a concurrent delivery of
        # the same event that committed first. Either way it was processed once.
        if WebhookReceipt.objects.filter(
            installation=installation, event_id=event.event_id[:255]
        ).exists():
            return Received("duplicate", event)
        raise


def _apply(installation: BuilderInstallation, event: WebhookEvent) -> Received:
    if not installation.active:
        return Received("disconnected", event)
    if event.action in (Action.DELETE, Action.REDACT):
        return _delete(installation, event)
    if event.action == Action.DATA_REQUEST:
        # We hold what the merchant's own contacts show; the request is kept in the webhook
        # log (its receipt) for the merchant to answer from there (docs/builders.md).
        return Received("recorded", event)
    if event.action == Action.SHOP_REDACT:
        BuilderInstallation.objects.filter(pk=installation.pk).update(active=False, access_token="")
        return Received("disconnected", event)
    return Received("ignored", event)


def _delete(installation: BuilderInstallation, event: WebhookEvent) -> Received:
    channel = installation.channel
    match = Q(member_id=event.member_id) if event.member_id else Q(pk__in=[])
    found = list(Customer.objects.filter(match, channel=channel))
    if not found and event.action == Action.REDACT and event.email:
        # An erasure request that names only an e-mail: every customer of the channel with it.
        found = list(Customer.objects.filter(channel=channel, email=event.email.strip().lower()))
    for customer in found:
        customer_delete(channel=channel, customer=customer, by=None, via=ActivityLog.Via.BUILDER)
    return Received("deleted" if found else "not_found", event, deleted=len(found))


def replay_window() -> timedelta:
    return timedelta(days=settings.BUILDER_WEBHOOK_RECEIPT_DAYS)


def receipts_purge(*, older_than: timedelta) -> int:
    """Forget receipts past the replay window, except those of deletions whose event carries
    no builder time (Shopify, Shopby): nothing else would recognise their replay, and a member
    who signed up again must never be deleted by an old delivery (R5.2)."""
    cutoff = timezone.now() - older_than
    remembered = Q(outcome__in=("deleted", "not_found")) & ~Q(detail__has_key="sentAt")
    deleted, _ = WebhookReceipt.objects.filter(received_at__lt=cutoff).exclude(remembered).delete()
    return deleted

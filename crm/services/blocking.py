"""Blocking and unblocking customers (R4.1 to R4.4).

A block is a flag on the customer; its effects are enforced where they happen: contacts and
search leave blocked customers out (crm.selectors.contacts), MU does not count them (the
database's MU triggers), boot answers hidden (crm.services.boot), chats, messages, calls and
campaigns refuse them (crm.services.conversations), and a block takes the customer off every
campaign target list not yet sent. Only these services change the flag: an import, an API
upsert or a webhook never unblocks anyone.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from crm import display
from crm.models import ActivityLog, BlockFollow, Campaign, CampaignTarget, Channel, Customer
from crm.services.activity import activity_record
from crm.types import Actor, manager_or_none
from crm.values import MAX_STRING

# An activity entry of a bulk action names at most this many customers.
_LOGGED_IDS = 100
_CHUNK = 5000  # ids per statement (SQLite caps a statement's parameters)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_STRING:
        raise ValidationError(
            {
                "reason": gettext("%(length)s characters: a reason holds at most %(max)s")
                % {"length": display.count(len(reason)), "max": display.count(MAX_STRING)}
            }
        )
    return reason


def _off_campaigns(channel: Channel, ids: list[int]) -> None:
    """R4.3: off every target list of a campaign not sent yet."""
    CampaignTarget.objects.filter(
        channel=channel, customer_id__in=ids, campaign__status=Campaign.Status.DRAFT
    ).delete()


def _ids(channel: Channel, customers: Iterable[Customer | int], *, blocked: bool) -> list[int]:
    """The ids among ``customers`` that belong to ``channel`` and are (not) blocked, locked."""
    wanted = sorted({c if isinstance(c, int) else c.pk for c in customers})
    found: list[int] = []
    for start in range(0, len(wanted), _CHUNK):
        rows = Customer.objects.select_for_update().filter(
            channel=channel, pk__in=wanted[start : start + _CHUNK], blocked=blocked
        )
        found.extend(rows.order_by("pk").values_list("pk", flat=True))
    return found


def _with_followed(channel: Channel, customers: Iterable[Customer | int]) -> set[int]:
    """``customers`` and those whose block followed theirs, or whose block theirs followed."""
    ids = {c if isinstance(c, int) else c.pk for c in customers}
    wanted = sorted(ids)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        links = BlockFollow.objects.filter(channel=channel).filter(
            Q(source_id__in=chunk) | Q(follower_id__in=chunk)
        )
        for source, follower in links.values_list("source_id", "follower_id"):
            ids.update((source, follower))
    return ids


def _update(ids: list[int], **values: object) -> None:
    for start in range(0, len(ids), _CHUNK):
        Customer.objects.filter(pk__in=ids[start : start + _CHUNK]).update(**values)


@transaction.atomic
def customer_block(
    *,
    channel: Channel,
    customer: Customer,
    by: Actor,
    reason: str = "",
    via: str = ActivityLog.Via.HAND,
) -> Customer:
    """Block one customer from its page (R4.1); the reason is optional."""
    if customer.channel_id != channel.pk:
        raise ValidationError(gettext("the customer belongs to another channel"))
    reason = _reason(reason)
    if not _ids(channel, [customer], blocked=False):
        raise ValidationError(gettext("“%(customer)s” is already blocked") % {"customer": customer})
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        blocked=True,
        blocked_at=now,
        blocked_by=manager_or_none(by),
        blocked_reason=reason,
        updated_at=now,
    )
    _off_campaigns(channel, [customer.pk])
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CUSTOMER_BLOCK,
        via=via,
        customer_id=customer.pk,
        detail={"reason": reason},
    )
    customer.refresh_from_db()
    return customer


@transaction.atomic
def customers_block(
    *,
    channel: Channel,
    customers: Iterable[Customer | int],
    by: Actor,
    reason: str = "",
    via: str = ActivityLog.Via.BULK,
) -> int:
    """Block many customers at once (a selection); those already blocked are left as they are.
    Returns how many were blocked."""
    reason = _reason(reason)
    ids = _ids(channel, customers, blocked=False)
    if not ids:
        return 0
    now = timezone.now()
    _update(
        ids,
        blocked=True,
        blocked_at=now,
        blocked_by=manager_or_none(by),
        blocked_reason=reason,
        updated_at=now,
    )
    for start in range(0, len(ids), _CHUNK):
        _off_campaigns(channel, ids[start : start + _CHUNK])
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CUSTOMER_BLOCK,
        via=via,
        count=len(ids),
        customer_id=ids[0] if len(ids) == 1 else None,
        detail={"reason": reason, "ids": ids[:_LOGGED_IDS]},
    )
    return len(ids)


@transaction.atomic
def customers_unblock(
    *,
    channel: Channel,
    customers: Iterable[Customer | int],
    by: Actor,
    via: str = ActivityLog.Via.HAND,
) -> int:
    """Unblock customers from "Blocked customers" (R4.1): they are back in contacts and MU.
    A block that followed the person (R4.5) is lifted on both sides, whichever is unblocked.
    Returns how many were unblocked (those not blocked are left as they are)."""
    ids = _ids(channel, _with_followed(channel, customers), blocked=True)
    if not ids:
        return 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        BlockFollow.objects.filter(channel=channel, source_id__in=chunk).delete()
        BlockFollow.objects.filter(channel=channel, follower_id__in=chunk).delete()
    _update(
        ids,
        blocked=False,
        blocked_at=None,
        blocked_by=None,
        blocked_reason="",
        updated_at=timezone.now(),
    )
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CUSTOMER_UNBLOCK,
        via=via,
        count=len(ids),
        customer_id=ids[0] if len(ids) == 1 else None,
        detail={"ids": ids[:_LOGGED_IDS]},
    )
    return len(ids)


def customer_unblock(
    *, channel: Channel, customer: Customer, by: Actor, via: str = ActivityLog.Via.HAND
) -> Customer:
    """Unblock one customer; refused when it is not blocked."""
    if customer.channel_id != channel.pk:
        raise ValidationError(gettext("the customer belongs to another channel"))
    if not customers_unblock(channel=channel, customers=[customer], by=by, via=via):
        raise ValidationError(gettext("“%(customer)s” is not blocked") % {"customer": customer})
    customer.refresh_from_db()
    return customer

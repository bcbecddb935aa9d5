"""Unification (R2.7, R2.7a): a verified lead and a member sharing a contact become the member.

One service for every path that meets such a pair: import, add-lead, Open API and boot.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from crm.models import (
    ActivityLog,
    Channel,
    Customer,
    CustomerImportTag,
    CustomerTag,
    PendingUnification,
)
from crm.services.activity import activity_record
from crm.types import Actor

# Built-in columns merged by "a filled value beats an empty one; the member's wins" (R2.7a).
_MERGED_FIELDS = (
    "name",
    "email",
    "mobile_number",
    "landline_number",
    "unsubscribe_email",
    "unsubscribe_texting",
)


def _empty(value: object) -> bool:
    return value is None or value == "" or value == []


def _merge_into(member: Customer, lead: Customer) -> list[str]:
    """Fill the member's empty values from the lead; the member's own values win."""
    filled: list[str] = []
    for field in _MERGED_FIELDS:
        if _empty(getattr(member, field)) and not _empty(getattr(lead, field)):
            setattr(member, field, getattr(lead, field))
            filled.append(field)
    for key, value in lead.profile.items():
        if _empty(member.profile.get(key)) and not _empty(value):
            member.profile[key] = value
            filled.append(key)
    if lead.first_boot_at and (
        not member.first_boot_at or lead.first_boot_at < member.first_boot_at
    ):
        member.first_boot_at = lead.first_boot_at
    if lead.last_seen_at and (not member.last_seen_at or lead.last_seen_at > member.last_seen_at):
        member.last_seen_at = lead.last_seen_at
    member.verified = True
    return filled


def _move_tags(member: Customer, lead: Customer) -> None:
    have = set(CustomerTag.objects.filter(customer=member).values_list("tag_id", flat=True))
    CustomerTag.objects.filter(customer=lead).exclude(tag_id__in=have).update(customer=member)
    # Import tags: the member keeps the newest 30 of both (R2.12).
    mine = {t.import_tag_id: t for t in CustomerImportTag.objects.filter(customer=member)}
    for theirs in CustomerImportTag.objects.filter(customer=lead):
        own = mine.get(theirs.import_tag_id)
        if own is None:
            theirs.customer = member
            theirs.save(update_fields=["customer"])
        elif theirs.added_at > own.added_at:
            own.added_at = theirs.added_at
            own.save(update_fields=["added_at"])
    keep = CustomerImportTag.objects.filter(customer=member).order_by("-added_at", "-id")
    stale = list(keep.values_list("id", flat=True)[CustomerImportTag.MAX_PER_CUSTOMER :])
    if stale:
        CustomerImportTag.objects.filter(id__in=stale).delete()


@transaction.atomic
def unify_lead_into_member(
    *,
    channel: Channel,
    lead: Customer,
    member: Customer,
    via: str,
    by: Actor = None,
) -> Customer:
    """Merge ``lead`` into ``member`` now and delete the lead (MU drops by one)."""
    if lead.member_id or not member.member_id:
        raise ValueError("unification merges a lead into a member")
    if lead.channel_id != channel.pk or member.channel_id != channel.pk:
        raise ValueError("both customers must belong to the channel")
    filled = _merge_into(member, lead)
    _move_tags(member, lead)
    lead_id = lead.pk
    lead.delete()
    member.save()
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CUSTOMER_UNIFY,
        via=via,
        customer_id=member.pk,
        detail={"lead": lead_id, "filled": filled},
    )
    return member


def unify_member_with_leads(
    *,
    channel: Channel,
    members: Iterable[Customer],
    via: str,
    by: Actor = None,
) -> tuple[int, int]:
    """Find verified leads sharing a member's email or mobile (R2.7): a lead that never booted
    is unified now, one that has booted waits for the member's boot. Returns (now, deferred)."""
    members = [m for m in members if m.member_id and (m.email or m.mobile_number)]
    if not members:
        return 0, 0
    emails = {m.email for m in members if m.email}
    mobiles = {m.mobile_number for m in members if m.mobile_number}
    leads = Customer.objects.filter(
        Q(email__in=emails) | Q(mobile_number__in=mobiles),
        channel=channel,
        member_id__isnull=True,
        verified=True,
        blocked=False,
    )
    by_email = {m.email: m for m in members if m.email}
    by_mobile = {m.mobile_number: m for m in members if m.mobile_number}
    now = deferred = 0
    for lead in leads:
        member = by_email.get(lead.email) if lead.email else None
        member = member or (by_mobile.get(lead.mobile_number) if lead.mobile_number else None)
        if member is None:
            continue
        if lead.first_boot_at is None:
            unify_lead_into_member(channel=channel, lead=lead, member=member, via=via, by=by)
            now += 1
        else:
            _, made = PendingUnification.objects.get_or_create(
                channel=channel, lead=lead, member=member
            )
            deferred += int(made)
    return now, deferred

"""Unification (R2.7, R2.7a): a lead and a member that are one person become the member.

One engine for every path that meets such a pair: import (``unify_member_with_leads``), the
Open API, and boot (``unify_at_member_boot``: pending unifications, contact matches and the
anonymous visitor who logs in). Add-lead never meets one: a lead whose contact exists is not
added (R1.1).

What unifies: a verified lead sharing a member's email or mobile number, or the anonymous (or
lead) customer of the browser that boots as the member. Never member ↔ member or lead ↔ lead,
and never a blocked customer on either side (a block is not lifted by merging it away).
What wins (``merged_values``): a filled value beats an empty one; where both are filled,
verified beats unverified, then member beats lead, then the newer data. What moves: chats (with
their messages), calls, campaign targets, tags, and import tags within the newest 30.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from crm.hooks import lead_unified
from crm.models import (
    ActivityLog,
    Call,
    CampaignTarget,
    Channel,
    Chat,
    ConsentChange,
    Customer,
    CustomerImportTag,
    CustomerTag,
    PendingUnification,
)
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.selectors import customer_profile
from crm.services.activity import activity_record
from crm.services.consent import ConsentSource, consent_record, consent_values
from crm.services.deletion import purge_customers
from crm.types import Actor
from crm.values import InvalidValue, check_profile

# (verified, member, data time): where both customers have a value, the higher rank's wins.
Rank = tuple[bool, bool, datetime | None]
_MIN_TIME = datetime.min


def _empty(value: object) -> bool:
    return value is None or value == "" or value == []


def rank(customer: Customer) -> Rank:
    """R2.7a's order: verified beats unverified, member beats lead, then the newer data.
    Members are verified: their memberId comes from the business's own site."""
    member = bool(customer.member_id)
    return (customer.verified or member, member, customer.updated_at)


def _key(r: Rank) -> tuple[bool, bool, datetime]:
    return (r[0], r[1], r[2] or _MIN_TIME)


def merged_values(
    a: Mapping[str, Any], a_rank: Rank, b: Mapping[str, Any], b_rank: Rank
) -> dict[str, Any]:
    """Each profile key's surviving value (R2.7a): a filled value beats an empty one; where both
    are filled, the value of the higher rank wins (``rank``). Pure: the rules' one home."""
    first, second = (a, b) if _key(a_rank) >= _key(b_rank) else (b, a)
    merged: dict[str, Any] = {}
    for key in [*a, *(k for k in b if k not in a)]:
        value = first.get(key)
        if _empty(value):
            value = second.get(key)
        if not _empty(value):
            merged[key] = value
    return merged


def unifiable(lead: Customer, member: Customer, *, anonymous: bool = False) -> str | None:
    """Why ``lead`` cannot be unified into ``member`` (None: it can). ``anonymous``: the pair met
    at a boot (the visitor logs in), where an unverified lead unifies too."""
    if lead.pk == member.pk:
        return "a customer cannot be unified with itself"
    if lead.member_id:
        return "member ↔ member never unify"
    if not member.member_id:
        return "lead ↔ lead never unify"
    if lead.channel_id != member.channel_id:
        return "both customers must belong to the same channel"
    if lead.blocked or member.blocked:
        return "a blocked customer is never unified"
    if not (lead.verified or anonymous):
        return "an unverified lead unifies only when its visitor logs in"
    return None


def _apply_profile(member: Customer, lead: Customer) -> list[str]:
    """Put the merged profile on ``member``; returns the keys whose value came from the lead."""
    mine = customer_profile(member)
    theirs = customer_profile(lead)
    merged = merged_values(mine, rank(member), theirs, rank(lead))
    try:
        check_profile(merged)
    except InvalidValue:
        # Both profiles fit R1.3 alone but not together: the member keeps its own custom keys
        # and takes only the built-in values it lacks.
        merged = {k: v for k, v in merged.items() if k in BUILTIN_FIELDS or k in mine}
    merged["memberId"] = member.member_id
    taken = [k for k, v in merged.items() if mine.get(k) != v]
    for key, field in BUILTIN_FIELDS.items():
        value = merged.get(key)
        setattr(member, field, "" if field == "name" and value is None else value)
    member.profile = {k: v for k, v in merged.items() if k not in BUILTIN_FIELDS}
    return taken


def _move_rows(member: Customer, lead: Customer) -> None:
    """Conversation history, tags and campaign targets move to the survivor (R2.7a)."""
    # The channel in every filter: the (channel, customer) indexes serve these look-ups.
    channel_id = member.channel_id
    Chat.objects.filter(channel_id=channel_id, customer=lead).update(customer=member)
    Call.objects.filter(channel_id=channel_id, customer=lead).update(customer=member)
    targets = CampaignTarget.objects.filter(channel_id=channel_id)
    in_campaigns = targets.filter(customer=member).values("campaign_id")
    targets.filter(customer=lead).exclude(campaign_id__in=in_campaigns).update(customer=member)
    have = CustomerTag.objects.filter(customer=member).values("tag_id")
    CustomerTag.objects.filter(customer=lead).exclude(tag_id__in=have).update(customer=member)
    # The lead's consent history is the person's: it stays with the survivor (R2.16b).
    ConsentChange.objects.filter(channel_id=channel_id, customer=lead).update(customer=member)
    # Import tags: one link per tag (the later date kept), then the newest 30 (R2.12).
    mine = {t.import_tag_id: t for t in CustomerImportTag.objects.filter(customer=member)}
    for theirs in CustomerImportTag.objects.filter(customer=lead):
        own = mine.get(theirs.import_tag_id)
        if own is None:
            theirs.customer = member
            theirs.save(update_fields=["customer"])
        elif theirs.added_at > own.added_at:
            own.added_at = theirs.added_at
            own.save(update_fields=["added_at"])
    lead_unified.send(sender=Customer, member=member, lead=lead)
    keep = CustomerImportTag.objects.filter(customer=member).order_by("-added_at", "-id")
    stale = list(keep.values_list("id", flat=True)[CustomerImportTag.MAX_PER_CUSTOMER :])
    if stale:
        CustomerImportTag.objects.filter(id__in=stale).delete()


def _locked(*ids: int) -> dict[int, Customer]:
    """The customers, row-locked in id order (two unifications never wait on each other in a
    cycle), as the database has them now."""
    rows = Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {c.pk: c for c in rows}


@transaction.atomic
def unify_lead_into_member(
    *,
    channel: Channel,
    lead: Customer,
    member: Customer,
    via: str,
    by: Actor = None,
    anonymous: bool = False,
) -> Customer:
    """Merge ``lead`` into ``member`` now and delete the lead (MU drops by one).

    Returns the member as saved. A lead already gone (unified or deleted meanwhile) leaves the
    member as it is. Raises ValueError when the pair may not unify (``unifiable``).
    """
    if lead.channel_id != channel.pk or member.channel_id != channel.pk:
        raise ValueError("both customers must belong to the channel")
    rows = _locked(lead.pk, member.pk)
    if member.pk not in rows:
        raise ValueError("the member no longer exists")
    member = rows[member.pk]
    if lead.pk not in rows:
        return member
    lead = rows[lead.pk]
    why = unifiable(lead, member, anonymous=anonymous)
    if why:
        raise ValueError(why)
    before = consent_values(member)
    taken = _apply_profile(member, lead)
    member.verified = True
    if lead.first_boot_at and (
        not member.first_boot_at or lead.first_boot_at < member.first_boot_at
    ):
        member.first_boot_at = lead.first_boot_at
    if lead.last_seen_at and (not member.last_seen_at or lead.last_seen_at > member.last_seen_at):
        member.last_seen_at = lead.last_seen_at
    _move_rows(member, lead)
    veil_id = lead.veil_id
    purge_customers(channel_id=channel.pk, ids=[lead.pk])  # its pending rows go with it
    if not member.veil_id and veil_id:
        member.veil_id = veil_id  # the lead's browser now boots as the member
    member.save(
        update_fields=[
            *BUILTIN_FIELDS.values(),
            "profile",
            "verified",
            "first_boot_at",
            "last_seen_at",
            "veil_id",
            "updated_at",
        ]
    )
    consent_record(customer=member, before=before, source=ConsentSource.unification(lead.pk))
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CUSTOMER_UNIFY,
        via=via,
        customer_id=member.pk,
        detail={"lead": lead.pk, "taken": taken},
    )
    return member


def unify_member_with_leads(
    *,
    channel: Channel,
    members: Iterable[Customer],
    via: str,
    by: Actor = None,
    booting: bool = False,
) -> tuple[int, int]:
    """Find verified leads sharing a member's email or mobile (R2.7): a lead that never booted is
    unified now, one that has booted waits for the member's boot (``booting``: this is that
    boot, so every such lead is unified now). Returns (unified now, newly deferred)."""
    members = [m for m in members if m.member_id and not m.blocked and (m.email or m.mobile_number)]
    if not members:
        return 0, 0
    by_email = {m.email: m for m in members if m.email}
    by_mobile = {m.mobile_number: m for m in members if m.mobile_number}
    leads = Customer.objects.filter(
        Q(email__in=list(by_email)) | Q(mobile_number__in=list(by_mobile)),
        channel=channel,
        member_id__isnull=True,
        verified=True,
        blocked=False,
    ).order_by("pk")
    now = deferred = 0
    for lead in leads:
        member = by_email.get(lead.email) if lead.email else None
        member = member or (by_mobile.get(lead.mobile_number) if lead.mobile_number else None)
        if member is None:
            continue
        if lead.first_boot_at is None or booting:
            unify_lead_into_member(channel=channel, lead=lead, member=member, via=via, by=by)
            now += 1
        else:
            _, made = PendingUnification.objects.get_or_create(
                channel=channel, lead=lead, member=member
            )
            deferred += int(made)
    return now, deferred


def unify_pending(*, channel: Channel, member: Customer, via: str, by: Actor = None) -> int:
    """Complete the unifications waiting for ``member`` to boot (R2.7, R7.3). A pair that may no
    longer unify is dropped, except a blocked one, which waits (blocks are lifted by hand)."""
    done = 0
    pending = PendingUnification.objects.filter(channel=channel, member=member).select_related(
        "lead"
    )
    for row in pending.order_by("pk"):
        why = unifiable(row.lead, member)
        if why is None:
            unify_lead_into_member(channel=channel, lead=row.lead, member=member, via=via, by=by)
            done += 1
        elif not (row.lead.blocked or member.blocked):
            row.delete()
    return done


def unify_at_member_boot(
    *, channel: Channel, member: Customer, visitor: Customer | None
) -> tuple[Customer, int]:
    """Everything a member's boot unifies (R7.3): the boot's own anonymous visitor or lead,
    pending unifications, and verified leads sharing the member's contact. Returns the member
    as saved and how many customers were unified into it."""
    via = ActivityLog.Via.BOOT
    count = 0
    if visitor is not None and unifiable(visitor, member, anonymous=True) is None:
        member = unify_lead_into_member(
            channel=channel, lead=visitor, member=member, via=via, anonymous=True
        )
        count += 1
    count += unify_pending(channel=channel, member=member, via=via)
    member.refresh_from_db()
    now, _ = unify_member_with_leads(channel=channel, members=[member], via=via, booting=True)
    if count or now:
        member.refresh_from_db()
    return member, count + now

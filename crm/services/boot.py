"""Boot (R7.1 to R7.3): the chat widget loads and the channel learns or refreshes its customer.

An anonymous boot carries a ``veilId`` (one is issued when it does not): it finds or creates
the unverified lead of that browser. A boot with a ``memberId`` (with its ``memberHash``, an
HMAC-SHA256 of the memberId with the channel's secret, where the channel requires one) finds or
creates the member, unifies the browser's own anonymous customer into it, and completes the
unifications waiting for it (R2.7). Profile values sent with the boot (a builder's member data)
are parsed like every other write path's and saved. A blocked customer's boot answers hidden
and changes nothing (R4.3). A block follows the person (R4.5): a blocked lead's browser that
logs in as a member hides the member too. Who the boot speaks for (the inputs cleaned, the
memberHash checked) is ``crm.services.widget.widget_caller``'s to say, as for every widget request.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import ActivityLog, BlockFollow, Channel, Customer, PendingUnification
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.services.blocking import customer_block
from crm.services.consent import ConsentSource, consent_record, consent_values
from crm.services.customers import profile_limits_check
from crm.services.unification import unify_at_member_boot
from crm.services.widget import MemberHashRefused as MemberHashRefused  # the boot's own refusal
from crm.services.widget import member_hash as member_hash  # what the widget's site computes
from crm.services.widget import widget_caller


@dataclass(frozen=True)
class Booted:
    customer: Customer
    hidden: bool
    created: bool
    unified: int = 0


def new_veil_id() -> str:
    return secrets.token_urlsafe(18)


def _apply(customer: Customer, clean: Mapping[str, Any]) -> None:
    """Put parsed profile values on the customer (a None value clears the key); R1.3 holds."""
    for key, value in clean.items():
        field = BUILTIN_FIELDS.get(key)
        if field is not None:
            setattr(customer, field, "" if field == "name" and value is None else value)
        elif value is None:
            customer.profile.pop(key, None)
        else:
            customer.profile[key] = value
    profile_limits_check(customer)


def _save(customer: Customer, clean: Mapping[str, Any], *, created: bool) -> None:
    """Apply the boot's values, mark the customer seen, save; a consent flag the boot changed
    goes into the consent history (R2.16b)."""
    before = None if created else consent_values(customer)
    _apply(customer, clean)
    _seen(customer)
    customer.save()
    consent_record(customer=customer, before=before, source=ConsentSource.boot())


def _seen(customer: Customer) -> None:
    now = timezone.now()
    customer.last_seen_at = now
    if customer.first_boot_at is None:
        customer.first_boot_at = now


def _by_veil(channel: Channel, veil_id: str | None) -> Customer | None:
    if not veil_id:
        return None
    return Customer.objects.select_for_update().filter(channel=channel, veil_id=veil_id).first()


@transaction.atomic
def customer_boot(
    *,
    channel: Channel,
    member_id: str | None = None,
    member_hash: str | None = None,
    veil_id: str | None = None,
    profile: Mapping[str, object] | None = None,
) -> Booted:
    """Boot the widget (R7.1). Raises ValidationError (by key) for a malformed value and
    MemberHashRefused for a missing or wrong memberHash; nothing is written then."""
    caller = widget_caller(
        channel=channel,
        member_id=member_id,
        member_hash=member_hash,
        veil_id=veil_id,
        profile=profile,
    )
    member_id, veil_id, clean = caller.member_id, caller.veil_id, caller.profile
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                if member_id is not None:
                    return _member_boot(channel, member_id, veil_id, clean)
                return _anonymous_boot(channel, veil_id, clean)
        except IntegrityError:
            # Two boots of one browser or member at once: the other created the row first;
            # the second attempt finds it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _anonymous_boot(channel: Channel, veil_id: str | None, clean: Mapping[str, Any]) -> Booted:
    customer = _by_veil(channel, veil_id)
    if customer is not None and customer.member_id:
        # A member's browser booting without its memberId (logged out): a new visitor, never
        # the member (the memberHash would be skipped).
        customer, veil_id = None, None
    if customer is not None and customer.blocked:
        return Booted(customer=customer, hidden=True, created=False)
    created = customer is None
    if customer is None:
        customer = Customer(channel=channel, verified=False, veil_id=veil_id or new_veil_id())
    _save(customer, clean, created=created)
    return Booted(customer=customer, hidden=False, created=created)


def _member_boot(
    channel: Channel, member_id: str, veil_id: str | None, clean: Mapping[str, Any]
) -> Booted:
    member = (
        Customer.objects.select_for_update().filter(channel=channel, member_id=member_id).first()
    )
    if member is not None and member.blocked:
        return Booted(customer=member, hidden=True, created=False)
    veil_owner = _by_veil(channel, veil_id)
    if veil_owner is not None and veil_owner.blocked and not veil_owner.member_id:
        return _block_follows(channel, member, member_id, veil_owner)
    visitor = veil_owner
    if visitor is not None and (visitor.blocked or (member and visitor.pk == member.pk)):
        visitor = None  # a blocked visitor stays as it is; the member's own veil is no visitor
    created = False
    if member is None and visitor is not None and not visitor.member_id:
        # The anonymous visitor (or lead) logs in as a new member: it becomes the member.
        member, visitor = visitor, None
        member.member_id = member_id
        member.verified = True
        PendingUnification.objects.filter(lead=member).delete()  # now member ↔ member
    elif member is None:
        member = Customer(
            channel=channel,
            member_id=member_id,
            verified=True,
            veil_id=veil_id if veil_id and veil_owner is None else new_veil_id(),
        )
        _save(member, clean, created=True)
        created = True
    if not created:
        _save(member, clean, created=False)
    if visitor is not None and visitor.member_id:
        visitor = None  # member ↔ member never unify
    member, unified = unify_at_member_boot(channel=channel, member=member, visitor=visitor)
    if not member.veil_id:
        free = veil_id and not Customer.objects.filter(channel=channel, veil_id=veil_id).exists()
        member.veil_id = veil_id if free else new_veil_id()
        member.save(update_fields=["veil_id"])
    return Booted(customer=member, hidden=False, created=created, unified=unified)


def _block_follows(
    channel: Channel, member: Customer | None, member_id: str, lead: Customer
) -> Booted:
    """R4.5: the blocked lead's browser logs in as ``member_id``: the member (created if new,
    with nothing else from the boot) is blocked too, the reason naming the lead, and the two
    are linked so that unblocking either unblocks both."""
    created = member is None
    if member is None:
        member = Customer(
            channel=channel, member_id=member_id, verified=True, veil_id=new_veil_id()
        )
        _seen(member)
        member.save()
    reason = f"blocked lead #{lead.pk} logged in as this member (its browser, veilId)"
    customer_block(
        channel=channel, customer=member, by=None, reason=reason, via=ActivityLog.Via.BOOT
    )
    BlockFollow.objects.get_or_create(channel=channel, source=lead, follower=member)
    return Booted(customer=member, hidden=True, created=created)

"""Adding leads and editing customer profiles by hand (R1.1, R1.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils.translation import gettext

from crm.db import ID_ARRAY
from crm.models import ActivityLog, Channel, Customer, ProfileKey
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.selectors import customer_profile, profile_keys_by_name
from crm.services.activity import activity_record
from crm.services.consent import ConsentSource, consent_record, consent_values
from crm.types import Actor
from crm.values import InvalidValue, check_profile, parser_for, to_json


def profile_clean(
    *,
    channel: Channel,
    values: Mapping[str, object],
    keys: Mapping[str, ProfileKey] | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """Parse raw values (form, API, builder) by their keys' types; ``None`` means clear.

    ``region`` reads national phone numbers in that country (R2.13a: where a manager types them);
    machine paths (API, boot, builders) leave it None. Raises ValidationError with one message
    per failing key, naming the rule.
    """
    keys = keys if keys is not None else profile_keys_by_name(channel)
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in values.items():
        profile_key = keys.get(name)
        if profile_key is None:
            errors[name] = gettext("the channel has no profile key %(key)s") % {"key": repr(name)}
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            clean[name] = None
            continue
        try:
            parse = parser_for(name, profile_key.type, region=region)
            clean[name] = to_json(profile_key.type, parse(raw))
        except InvalidValue as exc:
            errors[name] = exc.reason
    if errors:
        raise ValidationError(errors)
    return clean


def profile_assign(customer: Customer, clean: Mapping[str, Any]) -> list[str]:
    """Put cleaned values on the customer; returns the keys whose value changed."""
    changed: list[str] = []
    for name, value in clean.items():
        field = BUILTIN_FIELDS.get(name)
        if field is not None:
            stored = "" if field == "name" and value is None else value
            if getattr(customer, field) != stored:
                setattr(customer, field, stored)
                changed.append(name)
        elif value is None:
            if name in customer.profile:
                del customer.profile[name]
                changed.append(name)
        elif customer.profile.get(name) != value:
            customer.profile[name] = value
            changed.append(name)
    return changed


def _check_limits(customer: Customer) -> None:
    try:
        check_profile(customer_profile(customer))
    except InvalidValue as exc:
        raise ValidationError(exc.reason) from None


def profile_limits_check(customer: Customer) -> None:
    """R1.3 on the whole profile, for JSON write paths (API, boot): the error is keyed by
    ``profile.<key>`` (or ``profile``) so a client sees which of its keys broke the limit."""
    try:
        check_profile(customer_profile(customer))
    except InvalidValue as exc:
        raise ValidationError(
            {f"profile.{exc.key}" if exc.key else "profile": exc.reason}
        ) from None


def _check_member_id_free(customer: Customer) -> None:
    if not customer.member_id:
        return
    taken = Customer.objects.filter(channel_id=customer.channel_id, member_id=customer.member_id)
    if customer.pk:
        taken = taken.exclude(pk=customer.pk)
    if taken.exists():
        raise ValidationError(
            {
                "memberId": gettext("another customer has the memberId %(member_id)s")
                % {"member_id": repr(customer.member_id)}
            }
        )


@dataclass(frozen=True)
class LeadAdded:
    customer: Customer
    created: bool  # False: a customer with that contact existed; the manager is led to it


@transaction.atomic
def lead_add(
    *,
    channel: Channel,
    email: str = "",
    mobile_number: str = "",
    name: str = "",
    by: Actor = None,
) -> LeadAdded:
    """Add a verified lead by hand (R1.1): email or mobile, one suffices; an existing customer
    with either contact is returned instead of adding a duplicate."""
    if not (email or "").strip() and not (mobile_number or "").strip():
        raise ValidationError(gettext("give an email or a mobile number (one suffices)"))
    clean = profile_clean(
        channel=channel,
        values={"email": email, "mobileNumber": mobile_number, "name": name},
        region=str(channel.country),  # a manager types 010-1234-5678 (R2.13a)
    )
    match = Q()
    if clean["email"]:
        match |= Q(email=clean["email"])
    if clean["mobileNumber"]:
        match |= Q(mobile_number=clean["mobileNumber"])
    existing = (
        Customer.objects.select_for_update()
        .filter(match, channel=channel)
        .order_by(F("last_seen_at").desc(nulls_last=True), "-id")
        .first()
    )
    if existing is not None:
        return LeadAdded(customer=existing, created=False)
    customer = Customer(channel=channel, verified=True)
    profile_assign(customer, clean)
    customer.save()
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CUSTOMER_CREATE,
        via=ActivityLog.Via.HAND,
        customer_id=customer.pk,
    )
    return LeadAdded(customer=customer, created=True)


@transaction.atomic
def customer_update(
    *,
    channel: Channel,
    customer: Customer,
    values: Mapping[str, object],
    by: Actor = None,
    via: str = ActivityLog.Via.HAND,
) -> list[str]:
    """Edit a customer's profile; returns the keys that changed. Limits of R1.3 hold."""
    if customer.channel_id != channel.pk:
        raise ValidationError(gettext("the customer belongs to another channel"))
    # A manager's hand edit reads national numbers in the channel's country (R2.13a).
    region = str(channel.country) if via == ActivityLog.Via.HAND else None
    clean = profile_clean(channel=channel, values=values, region=region)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = consent_values(customer)
    changed = profile_assign(customer, clean)
    if not changed:
        return []
    _check_limits(customer)
    _check_member_id_free(customer)
    if (
        customer.member_id is None
        and not (customer.email or customer.mobile_number)
        and customer.verified
        and not customer.veil_id
    ):
        raise ValidationError(gettext("a lead needs an email or a mobile number"))
    if (
        via in (ActivityLog.Via.HAND, ActivityLog.Via.API)
        and {"email", "mobileNumber"} & set(changed)
        and (customer.email or customer.mobile_number)
    ):
        # A manager (or the business's API) giving a contact vouches for it: a lead that typed
        # its contact into the chat, or an anonymous visitor, becomes a verified lead (SPEC §0).
        customer.verified = True
    customer.save()
    consent_record(
        customer=customer,
        before=before,
        source=ConsentSource.api() if via == ActivityLog.Via.API else ConsentSource.manager(by),
    )
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.CUSTOMER_EDIT,
        via=via,
        customer_id=customer.pk,
        detail={"keys": changed},
    )
    return changed


def customers_hold(ids: Sequence[int]) -> set[int]:
    """Lock these customers until the transaction ends and return those still there.

    A writer that links rows to customers it neither created nor updates calls this before
    writing the links, or after them and then takes back the links of those not returned: the
    links' tables are not checked by the database (issue 15). A deletion waits for the lock
    (``FOR KEY SHARE``; an update does not) and deletes the links after the customers; one that
    came first is waited for, or seen done.
    On SQLite (one writer at a time) the read is the check."""
    if not ids:
        return set()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Customer._meta.db_table} WHERE id = ANY({ID_ARRAY})"
                " FOR KEY SHARE",
                [list(ids)],
            )
            return {i for (i,) in cursor.fetchall()}
    return set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True))

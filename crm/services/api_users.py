"""Open API writes (R6.2): upsert a user by memberId, under the rules an import follows.

``profile`` sets values (``null`` clears a key), ``profileOnce`` sets only keys that are empty
now, ``tags`` replaces the customer's tags, ``unsubscribeEmail``/``unsubscribeTexting`` set the
flags. Values go through the parsers and R1.3 limits of every write path. A new user needs both
unsubscribe flags (R2.10, as a new row of an import); a ``null`` or absent flag keeps an
existing user's. The member is unified with verified leads sharing its email or mobile number as
R2.7 says (at once, or when a lead that has booted logs in). A blocked user is updated and stays
blocked: only the blocking service unblocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from crm.models import ActivityLog, Channel, Customer, CustomerTag, Tag
from crm.models.profile_keys import BUILTIN_FIELDS
from crm.selectors import profile_keys_by_name
from crm.services.activity import activity_record
from crm.services.consent import ConsentSource, consent_record, consent_values
from crm.services.customers import profile_clean, profile_limits_check
from crm.services.unification import unify_member_with_leads
from crm.values import InvalidValue, parse_string, parse_tags

UNSUBSCRIBE_KEYS = ("unsubscribeEmail", "unsubscribeTexting")


class UpsertConflict(Exception):
    """Another request kept changing the same member while this one wrote it, twice over: the
    API answers 409 with the reason, and the caller sends the request again."""


@dataclass(frozen=True)
class Upserted:
    customer: Customer
    created: bool
    changed: list[str]
    unified: int = 0


@dataclass(frozen=True)
class _Clean:
    member_id: str
    values: dict[str, Any]
    once: dict[str, Any]
    tags: list[str] | None


def _prefixed(prefix: str, exc: ValidationError) -> dict[str, str]:
    return {f"{prefix}.{k}": " ".join(v) for k, v in exc.message_dict.items()}


def _clean(
    channel: Channel,
    member_id: str,
    profile: Mapping[str, object] | None,
    profile_once: Mapping[str, object] | None,
    tags: Sequence[object] | None,
    unsubscribe: Mapping[str, object],
) -> _Clean:
    errors: dict[str, str] = {}
    try:
        member_id = parse_string(member_id).strip()
    except InvalidValue as exc:
        errors["memberId"] = exc.reason
    if not member_id and "memberId" not in errors:
        errors["memberId"] = "the memberId is empty"
    keys = profile_keys_by_name(channel)
    parts: dict[str, dict[str, Any]] = {}
    for prefix, given in (
        ("profile", dict(profile or {})),
        ("profileOnce", dict(profile_once or {})),
    ):
        if "memberId" in given:
            errors[f"{prefix}.memberId"] = "the memberId is the one in the path; it cannot change"
            given.pop("memberId")
        try:
            parts[prefix] = profile_clean(channel=channel, values=given, keys=keys)
        except ValidationError as exc:
            errors.update(_prefixed(prefix, exc))
            parts[prefix] = {}
    values = parts["profile"]
    for key, raw in unsubscribe.items():
        if raw is None:
            continue
        try:
            clean = profile_clean(channel=channel, values={key: raw}, keys=keys)[key]
        except ValidationError as exc:
            errors[key] = " ".join(exc.message_dict.get(key, exc.messages))
            continue
        if key in values and values[key] is not None and values[key] != clean:
            errors[key] = f"{key} is given twice (beside and inside profile) with different values"
        values[key] = clean
    clean_tags = None
    if tags is not None:
        try:
            clean_tags = parse_tags(list(tags))
        except InvalidValue as exc:
            errors["tags"] = exc.reason
    if errors:
        raise ValidationError(errors)
    # R2.10: an empty or absent unsubscribe value keeps the stored one; it never clears it.
    for part in (values, parts["profileOnce"]):
        for key in UNSUBSCRIBE_KEYS:
            if key in part and part[key] is None:
                del part[key]
    return _Clean(member_id, values, parts["profileOnce"], clean_tags)


def api_user_upsert(
    *,
    channel: Channel,
    member_id: str,
    profile: Mapping[str, object] | None = None,
    profile_once: Mapping[str, object] | None = None,
    tags: Sequence[object] | None = None,
    unsubscribe_email: object = None,
    unsubscribe_texting: object = None,
) -> Upserted:
    """Create or update the member ``member_id`` of ``channel`` (R6.2).

    Raises ValidationError keyed by what is wrong (``profile.email``, ``tags``, …); nothing is
    written then.
    """
    clean = _clean(
        channel,
        member_id,
        profile,
        profile_once,
        tags,
        {"unsubscribeEmail": unsubscribe_email, "unsubscribeTexting": unsubscribe_texting},
    )
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _upsert(channel, clean)
        except IntegrityError as exc:
            # Two requests created the same member (or tag) at once: the other committed
            # first, and the second attempt updates what it made.
            if attempt == 2:
                raise UpsertConflict(
                    gettext(
                        "the user was being changed by another request at the same time;"
                        " nothing was written: send the request again"
                    )
                ) from exc
    raise AssertionError("unreachable")


def _empty(customer: Customer, key: str) -> bool:
    field = BUILTIN_FIELDS.get(key)
    value = getattr(customer, field) if field else customer.profile.get(key)
    return value is None or value == "" or value == []


def _set(customer: Customer, key: str, value: Any) -> bool:
    """Put one cleaned value on the customer; whether it changed."""
    field = BUILTIN_FIELDS.get(key)
    if field is not None:
        stored = "" if field == "name" and value is None else value
        if getattr(customer, field) == stored:
            return False
        setattr(customer, field, stored)
        return True
    if value is None:
        return customer.profile.pop(key, None) is not None
    if customer.profile.get(key) == value:
        return False
    customer.profile[key] = value
    return True


def _upsert(channel: Channel, clean: _Clean) -> Upserted:
    customer = (
        Customer.objects.select_for_update()
        .filter(channel=channel, member_id=clean.member_id)
        .first()
    )
    created = customer is None
    if customer is None:
        missing = [
            k for k in UNSUBSCRIBE_KEYS if clean.values.get(k) is None and clean.once.get(k) is None
        ]
        if missing:
            reason = (
                "must be given (true or false) for a new user: an existing user keeps its value"
                " when it is left out"
            )
            raise ValidationError({key: reason for key in missing})
        customer = Customer(channel=channel, member_id=clean.member_id, verified=True, profile={})
    before = None if created else consent_values(customer)
    changed = [key for key, value in clean.values.items() if _set(customer, key, value)]
    changed += [
        key
        for key, value in clean.once.items()
        if value is not None and _empty(customer, key) and _set(customer, key, value)
    ]
    profile_limits_check(customer)
    if created or changed:
        customer.save()
        consent_record(customer=customer, before=before, source=ConsentSource.api())
    if clean.tags is not None and _replace_tags(channel, customer, clean.tags):
        changed.append("tags")
    if created or changed:
        activity_record(
            channel=channel,
            actor=None,
            action=ActivityLog.Action.CUSTOMER_CREATE
            if created
            else ActivityLog.Action.CUSTOMER_EDIT,
            via=ActivityLog.Via.API,
            customer_id=customer.pk,
            detail={"keys": changed},
        )
    unified = 0
    if customer.email or customer.mobile_number:
        unified, _ = unify_member_with_leads(
            channel=channel, members=[customer], via=ActivityLog.Via.API
        )
        if unified:
            customer.refresh_from_db()
    return Upserted(customer=customer, created=created, changed=changed, unified=unified)


def _replace_tags(channel: Channel, customer: Customer, names: list[str]) -> bool:
    """The customer's tags become exactly ``names``; whether anything changed."""
    have = dict(CustomerTag.objects.filter(customer=customer).values_list("tag__name", "pk"))
    gone = [pk for name, pk in have.items() if name not in names]
    new = [name for name in names if name not in have]
    if gone:
        CustomerTag.objects.filter(pk__in=gone).delete()
    if new:
        existing = dict(Tag.objects.filter(channel=channel, name__in=new).values_list("name", "pk"))
        Tag.objects.bulk_create(
            [Tag(channel=channel, name=name) for name in new if name not in existing]
        )
        tag_ids = dict(Tag.objects.filter(channel=channel, name__in=new).values_list("name", "pk"))
        CustomerTag.objects.bulk_create(
            CustomerTag(channel=channel, customer=customer, tag_id=tag_ids[name]) for name in new
        )
    return bool(gone or new)

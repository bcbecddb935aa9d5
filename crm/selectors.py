"""Read-side queries of the crm app (STYLE rule 1): what the admin, commands and API list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import QuerySet, Sum
from guardian.shortcuts import get_objects_for_user

from crm.models import Channel, Customer, DeletionJob, MuDelta, ProfileKey
from crm.models.profile_keys import BUILTIN_FIELDS


def channels_for_user(
    user: AbstractBaseUser | AnonymousUser, perm: str = "view_customers"
) -> QuerySet[Channel]:
    """The channels on which ``user`` holds ``perm`` (superusers: all)."""
    if not user.is_authenticated or not user.is_active:
        return Channel.objects.none()
    if getattr(user, "is_superuser", False):
        return Channel.objects.all()
    return get_objects_for_user(
        user, f"crm.{perm}", klass=Channel, accept_global_perms=False, with_superuser=False
    )


def contacts(channel: Channel) -> QuerySet[Customer]:
    """The customers the contacts list shows: never the blocked ones (R4.2)."""
    return Customer.objects.filter(channel=channel, blocked=False)


def blocked_customers(channel: Channel) -> QuerySet[Customer]:
    return Customer.objects.filter(channel=channel, blocked=True).order_by("-blocked_at")


def contacts_matching(channel: Channel, params: Mapping[str, Any]) -> QuerySet[Customer]:
    """The contacts a ``crm.filters.CustomerFilter`` query matches (never a blocked customer):
    what a bulk deletion or a campaign's audience takes. Raises ValidationError, by parameter,
    when one is not valid (an import tag that is gone)."""
    from crm.filters import CustomerFilter

    filterset = CustomerFilter(dict(params), queryset=contacts(channel), channel=channel)
    if not filterset.is_valid():
        raise ValidationError({k: " ".join(v) for k, v in filterset.errors.items()})
    return filterset.qs


def channel_mu(channel: Channel) -> int:
    """Managed users (R1.5): customers in contacts, blocked ones not counted (R4.3).

    On PostgreSQL the database keeps it (crm/migrations/0003_mu_triggers.py): a sum over a few
    rows whatever the channel's size. Elsewhere (SQLite) it is the count.
    """
    if connections[MuDelta.objects.db].vendor == "postgresql":
        total = MuDelta.objects.filter(channel_id=channel.pk).aggregate(n=Sum("delta"))["n"]
        return int(total or 0)
    return channel_mu_counted(channel)


def channel_mu_counted(channel: Channel) -> int:
    """MU by counting the customers: what ``channel_mu`` must always equal."""
    return contacts(channel).count()


def deletion_jobs(channel: Channel) -> QuerySet[DeletionJob]:
    return DeletionJob.objects.filter(channel=channel).select_related("requested_by")


def profile_keys_by_name(channel: Channel) -> dict[str, ProfileKey]:
    return {pk.key: pk for pk in ProfileKey.objects.filter(channel=channel)}


def customer_profile(customer: Customer) -> dict[str, Any]:
    """The whole profile as one dict: the built-in keys that have a value, then custom keys."""
    profile: dict[str, Any] = {}
    for key, field in BUILTIN_FIELDS.items():
        value = getattr(customer, field)
        if value not in (None, ""):
            profile[key] = value
    profile.update(customer.profile)
    return profile

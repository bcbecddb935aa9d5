"""Read-side queries of the crm app (STYLE rule 1): what the admin, commands and API list."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from crm.models import Channel, Customer, ProfileKey
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


def channel_mu(channel: Channel) -> int:
    """Managed users (R1.5): customers in contacts, blocked ones not counted."""
    return contacts(channel).count()


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

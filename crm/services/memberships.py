"""Managers in channels: roles and the django-guardian grants that follow from them (R8.1)."""

from __future__ import annotations

from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from crm.models import (
    ROLE_PERMISSIONS,
    ActivityLog,
    Channel,
    ChannelUserObjectPermission,
    Membership,
    Role,
)
from crm.services.activity import activity_record
from crm.types import Actor


def _channel_permissions() -> dict[str, Permission]:
    perms = Permission.objects.filter(content_type__app_label="crm", content_type__model="channel")
    return {p.codename: p for p in perms}


def _sync_grants(membership: Membership) -> None:
    wanted = ROLE_PERMISSIONS[membership.role]
    by_codename = _channel_permissions()
    grants = ChannelUserObjectPermission.objects.filter(
        user=membership.user, content_object=membership.channel
    )
    grants.exclude(permission__codename__in=wanted).delete()
    have = set(grants.values_list("permission__codename", flat=True))
    ChannelUserObjectPermission.objects.bulk_create(
        ChannelUserObjectPermission(
            user=membership.user, content_object=membership.channel, permission=by_codename[code]
        )
        for code in sorted(wanted - have)
    )


@transaction.atomic
def membership_set(*, channel: Channel, user: User, role: str, by: Actor = None) -> Membership:
    """Give ``user`` the ``role`` in ``channel`` (creating the membership), with its grants."""
    if role not in Role.values:
        raise ValidationError(
            {
                "role": gettext("unknown role %(role)s: use one of %(roles)s")
                % {"role": repr(role), "roles": ", ".join(Role.values)}
            }
        )
    if role == Role.OWNER:
        current = Membership.objects.filter(channel=channel, role=Role.OWNER).exclude(user=user)
        if current.exists():
            raise ValidationError({"role": gettext("the channel already has an owner")})
    membership, _ = Membership.objects.update_or_create(
        channel=channel, user=user, defaults={"role": role}
    )
    _sync_grants(membership)
    # Managers reach the back-office through the admin site: staff, but no global permissions.
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.MANAGER_SET,
        via=ActivityLog.Via.HAND,
        detail={"manager": user.get_username(), "role": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, channel: Channel, user: User, by: Actor = None) -> None:
    """Remove a manager from a channel, and every grant they had on it."""
    membership = Membership.objects.filter(channel=channel, user=user).first()
    if membership is None:
        return
    if membership.role == Role.OWNER:
        raise ValidationError(
            gettext("the owner cannot be removed; make someone else the owner first")
        )
    membership.delete()  # crm.signals removes the grants, whatever deletes a membership
    activity_record(
        channel=channel,
        actor=by,
        action=ActivityLog.Action.MANAGER_REMOVE,
        via=ActivityLog.Via.HAND,
        detail={"manager": user.get_username()},
    )

"""Keeps django-guardian grants in step with memberships, whatever path deletes one."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from crm.models import ChannelUserObjectPermission, Membership


@receiver(post_delete, sender=Membership)
def membership_deleted(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    ChannelUserObjectPermission.objects.filter(
        user_id=instance.user_id, content_object_id=instance.channel_id
    ).delete()

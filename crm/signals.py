"""Keeps django-guardian grants in step with memberships, whatever path deletes one, and
forgets what a chat's requests knew of a customer who is deleted."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from crm.hooks import customers_purged
from crm.models import ChannelUserObjectPermission, InfoRequest, Membership


@receiver(post_delete, sender=Membership)
def membership_deleted(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    ChannelUserObjectPermission.objects.filter(
        user_id=instance.user_id, content_object_id=instance.channel_id
    ).delete()


@receiver(customers_purged, dispatch_uid="crm.signals.customers_purged")
def requests_forget_customers(sender: Any, channel_id: int, ids: list[int], **kwargs: Any) -> None:
    """R3.2: the values a follow-up or form saw when it was sent (kept for R2.25) are the
    customer's data, not conversation history: erased with the customer. The answers stay with
    the chat, as its messages do."""
    InfoRequest.objects.filter(channel_id=channel_id, chat__customer_id__in=ids).update(before={})

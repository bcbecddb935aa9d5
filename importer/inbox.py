"""The managers' inbox (R2.18): where the import bot's messages land, read and unread.

Selectors and the one write (marking read) for ``importer.views.inbox`` and the header count.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from crm.models import InboxMessage


def inbox_of(user: AbstractBaseUser | AnonymousUser) -> QuerySet[InboxMessage]:
    if not user.is_authenticated:
        return InboxMessage.objects.none()
    return InboxMessage.objects.filter(recipient_id=user.pk).select_related("channel")


def unread_count(user: AbstractBaseUser | AnonymousUser) -> int:
    """Served by the (recipient, read_at) index: cheap enough for every page's header."""
    return inbox_of(user).filter(read_at__isnull=True).count()


def inbox_mark_read(
    *, user: AbstractBaseUser | AnonymousUser, message_id: int | None = None
) -> int:
    """Mark one message of ``user`` (or all of them) read; returns how many changed."""
    unread = inbox_of(user).filter(read_at__isnull=True)
    if message_id is not None:
        unread = unread.filter(pk=message_id)
    return unread.update(read_at=timezone.now())

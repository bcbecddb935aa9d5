"""The managers' in-app inbox, where bot messages land (R2.18)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class InboxMessage(models.Model):
    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="inbox_messages",
        verbose_name=_("recipient"),
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    link = models.CharField(max_length=500, blank=True, verbose_name=_("link"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("inbox message")
        verbose_name_plural = _("inbox messages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="inbox_unread_idx")]

    def __str__(self) -> str:
        return self.title

"""The manager activity log: who did what to how many customers, and when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityLog(models.Model):
    class Action(models.TextChoices):
        CHANNEL_CREATE = "channel.create", _("Channel created")
        CHANNEL_EDIT = "channel.edit", _("Channel settings changed")
        MANAGER_SET = "manager.set", _("Manager role set")
        MANAGER_REMOVE = "manager.remove", _("Manager removed")
        PROFILE_KEY_CREATE = "profile_key.create", _("Profile key created")
        CUSTOMER_CREATE = "customer.create", _("Customer added")
        CUSTOMER_EDIT = "customer.edit", _("Customer info edit")
        CUSTOMER_DELETE = "customer.delete", _("Customers deleted")
        CUSTOMER_BLOCK = "customer.block", _("Customer blocked")
        CUSTOMER_UNBLOCK = "customer.unblock", _("Customer unblocked")
        CUSTOMER_UNIFY = "customer.unify", _("Customers unified")
        IMPORT = "import", _("Customer import")
        IMPORT_UNDO = "import.undo", _("Import undone")
        EXPORT = "export", _("Customer export")
        FOLLOW_UP_ANSWER = "follow_up.answer", _("Follow-up answered")
        FORM_SEND = "form.send", _("Input form sent")
        FORM_ANSWER = "form.answer", _("Input form answered")

    class Via(models.TextChoices):
        HAND = "hand", _("By hand")
        BULK = "bulk", _("Bulk action")
        IMPORT = "import", _("Import")
        API = "api", _("Open API")
        BUILDER = "builder", _("Builder")
        BOOT = "boot", _("Boot")
        COMMAND = "command", _("Command line")
        CHAT = "chat", _("Chat")  # the customer, answering in the chat widget (R1.6)

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="activity", verbose_name=_("channel")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(max_length=32, choices=Action.choices, verbose_name=_("action"))
    via = models.CharField(max_length=16, choices=Via.choices, verbose_name=_("via"))
    count = models.PositiveIntegerField(default=1, verbose_name=_("count"))
    # Not a foreign key: the entry outlives a deleted customer.
    customer_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("customer ID"))
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("detail"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("activity log")
        verbose_name_plural = _("activity logs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="activity_channel_idx"),
            # A customer's timeline (R11.4); created concurrently on PostgreSQL (crm 0008).
            models.Index(
                fields=["customer_id", "-created_at"],
                name="activity_customer_idx",
                condition=models.Q(customer_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} (x{self.count})"

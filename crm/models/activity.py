"""The manager activity log: who did what to how many customers, and when."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ActivityLog(models.Model):
    class Action(models.TextChoices):
        CHANNEL_CREATE = "channel.create", "Channel created"
        CHANNEL_EDIT = "channel.edit", "Channel settings changed"
        MANAGER_SET = "manager.set", "Manager role set"
        MANAGER_REMOVE = "manager.remove", "Manager removed"
        PROFILE_KEY_CREATE = "profile_key.create", "Profile key created"
        CUSTOMER_CREATE = "customer.create", "Customer added"
        CUSTOMER_EDIT = "customer.edit", "Customer info edit"
        CUSTOMER_DELETE = "customer.delete", "Customers deleted"
        CUSTOMER_BLOCK = "customer.block", "Customer blocked"
        CUSTOMER_UNBLOCK = "customer.unblock", "Customer unblocked"
        CUSTOMER_UNIFY = "customer.unify", "Customers unified"
        IMPORT = "import", "Customer import"
        IMPORT_UNDO = "import.undo", "Import undone"
        EXPORT = "export", "Customer export"

    class Via(models.TextChoices):
        HAND = "hand", "By hand"
        BULK = "bulk", "Bulk action"
        IMPORT = "import", "Import"
        API = "api", "Open API"
        BUILDER = "builder", "Builder"
        BOOT = "boot", "Boot"
        COMMAND = "command", "Command line"

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    via = models.CharField(max_length=16, choices=Via.choices)
    count = models.PositiveIntegerField(default=1)
    # Not a foreign key: the entry outlives a deleted customer.
    customer_id = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["channel", "-created_at"], name="activity_channel_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} (x{self.count})"

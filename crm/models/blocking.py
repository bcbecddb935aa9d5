"""The "Blocked customers" page's rows (R4.1, R4.2): the same table, another admin."""

from __future__ import annotations

from django.db import models

from crm.models.customers import Customer


class BlockedCustomer(Customer):
    class Meta:
        proxy = True
        verbose_name = "blocked customer"
        verbose_name_plural = "blocked customers"


class BlockFollow(models.Model):
    """A block that followed the person (R4.5): ``follower`` (a member) was hidden because the
    browser of ``source`` (a blocked lead) logged in as it. Unblocking either unblocks both."""

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    follower = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source", "follower"], name="block_follow_unique"
            )
        ]
        indexes = [models.Index(fields=["channel", "follower"], name="block_follow_follower_idx")]

    def __str__(self) -> str:
        return f"#{self.follower_id} blocked with #{self.source_id}"

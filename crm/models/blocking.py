"""The "Blocked customers" page's rows (R4.1, R4.2): the same table, another admin."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.customers import Customer


class BlockedCustomer(Customer):
    class Meta:
        proxy = True
        verbose_name = _("blocked customer")
        verbose_name_plural = _("blocked customers")


class BlockFollow(models.Model):
    """A block that followed the person (R4.5): ``follower`` (a member) was hidden because the
    browser of ``source`` (a blocked lead) logged in as it. Unblocking either unblocks both."""

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    # No database check per deleted customer (crm.services.deletion removes these rows).
    source = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        verbose_name=_("source"),
    )
    follower = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        verbose_name=_("follower"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("block follow")
        verbose_name_plural = _("block follows")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source", "follower"], name="block_follow_unique"
            )
        ]
        indexes = [models.Index(fields=["channel", "follower"], name="block_follow_follower_idx")]

    def __str__(self) -> str:
        return f"#{self.follower_id} blocked with #{self.source_id}"

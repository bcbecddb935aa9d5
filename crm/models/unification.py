"""Unifications waiting for a booted lead to log in as the member (R2.7)."""

from __future__ import annotations

from django.db import models


class PendingUnification(models.Model):
    """A verified lead that has booted shares a contact with a member: both count in MU until
    that person boots as the member (R2.7, R7.3)."""

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead", "member"], name="pending_unification_unique"),
        ]
        indexes = [
            models.Index(fields=["channel", "member"], name="pending_unification_member_idx")
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} → member {self.member_id}"

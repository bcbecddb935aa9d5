"""Unifications waiting for a booted lead to log in as the member (R2.7)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingUnification(models.Model):
    """A verified lead that has booted shares a contact with a member: both count in MU until
    that person boots as the member (R2.7, R7.3)."""

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    # No database check per deleted customer (crm.services.deletion removes these rows).
    lead = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        verbose_name=_("lead"),
    )
    member = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        verbose_name=_("member"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("pending unification")
        verbose_name_plural = _("pending unifications")
        constraints = [
            models.UniqueConstraint(fields=["lead", "member"], name="pending_unification_unique"),
        ]
        indexes = [
            models.Index(fields=["channel", "member"], name="pending_unification_member_idx")
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} → member {self.member_id}"

"""MU changes kept by the database itself (R1.5, R4.3): on PostgreSQL, triggers on
``crm_customer`` insert one row per statement (or per block/unblock) with the change of each
channel's MU, so that MU is a sum over a few rows instead of a count over a million.

Rows are only ever inserted by the triggers (no lock on a shared counter row, so concurrent
imports and boots never wait on each other) and folded together by ``crm.services.mu.mu_compact``.
On SQLite, the embedded development database, there are no triggers and MU is a count.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MuDelta(models.Model):
    # A plain column, not a foreign key: the triggers also write while a channel is being
    # deleted, and compaction drops the rows of channels that are gone.
    channel_id = models.BigIntegerField(verbose_name=_("channel id"))
    delta = models.BigIntegerField(verbose_name=_("delta"))

    class Meta:
        verbose_name = _("mu delta")
        verbose_name_plural = _("mu deltas")
        indexes = [models.Index(fields=["channel_id"], name="mu_delta_idx")]

    def __str__(self) -> str:
        return f"{self.delta:+} on channel {self.channel_id}"

"""The columns the job runtime (``crm.jobs``) keeps on every background job's row."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    """The states of a job that is queued, run by a worker and ends one of three ways: a
    deletion's and a column fix's (an import and a pull have states of their own)."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class LeasedJob(models.Model):
    """A job a worker holds by a lease: imports, deletions, builder pulls (and undo).

    The worker that claimed the job writes only while ``lease_token`` is its own; its heartbeat
    keeps ``heartbeat_at`` fresh; ``attempts`` counts claims (a hand-back on SIGTERM gives its
    attempt back); ``cancel_requested`` asks the worker to stop at its next chunk boundary.
    """

    lease_token = models.UUIDField(null=True, blank=True, verbose_name=_("lease token"))
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("heartbeat at"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    cancel_requested = models.BooleanField(default=False, verbose_name=_("cancel requested"))

    class Meta:
        verbose_name = _("leased job")
        verbose_name_plural = _("leased jobs")
        abstract = True

"""Deletion jobs: "delete everything matching this filter" run in the background (R3.1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.jobs import JobStatus, LeasedJob


class DeletionJob(LeasedJob):
    """What to delete (``criteria``), how far it got, and who asked.

    ``criteria`` is ``{"ids": [...]}`` or ``{"filter": {<CustomerFilter params>}}``, with
    ``maxId``: customers created after the manager confirmed are never deleted by the job.
    Re-running a job deletes what still matches, so a job that dies half-way is resumed by
    running it again (STYLE rule 5).
    """

    Status = JobStatus

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    via = models.CharField(max_length=16, verbose_name=_("via"))
    criteria = models.JSONField(default=dict, verbose_name=_("criteria"))
    description = models.CharField(max_length=300, blank=True, verbose_name=_("description"))
    total = models.PositiveIntegerField(
        default=0, verbose_name=_("total")
    )  # the count the manager confirmed
    deleted = models.PositiveIntegerField(default=0, verbose_name=_("deleted"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("deletion job")
        verbose_name_plural = _("deletion jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="deletion_job_channel_idx"),
            models.Index(
                fields=["heartbeat_at"],
                name="deletion_job_running_idx",
                condition=models.Q(status="running"),
            ),
        ]

    def __str__(self) -> str:
        return f"deletion #{self.pk} ({self.status})"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return min(99, int(100 * self.deleted / self.total)) if self.total else 0

"""The columns the job runtime (``crm.jobs``) keeps on every background job's row."""

from __future__ import annotations

from django.db import models


class LeasedJob(models.Model):
    """A job a worker holds by a lease: imports, deletions, builder pulls (and undo).

    The worker that claimed the job writes only while ``lease_token`` is its own; its heartbeat
    keeps ``heartbeat_at`` fresh; ``attempts`` counts claims (a hand-back on SIGTERM gives its
    attempt back); ``cancel_requested`` asks the worker to stop at its next chunk boundary.
    """

    lease_token = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        abstract = True

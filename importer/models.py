"""Import jobs, their failed rows and their change journal."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportKind(models.TextChoices):
    MEMBER = "member", "Members"
    LEAD = "lead", "Leads"


class Identity(models.TextChoices):
    MEMBER_ID = "memberId", "memberId"
    EMAIL = "email", "Email"
    MOBILE = "mobileNumber", "Mobile number"


class EmptyPolicy(models.TextChoices):
    KEEP = "keep", "Keep existing data"
    CLEAR = "clear", "Clear existing data"


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "Being prepared"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportJob(models.Model):
    """One import of one file into one channel (R2.19), from upload to its counts."""

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="imports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(max_length=32, default="web")  # web, command, builder:<platform>
    # The stored upload, relative to MEDIA_ROOT; removed when the job ends.
    source_path = models.CharField(max_length=500, blank=True)
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8, blank=True)
    encoding = models.CharField(max_length=16, blank=True)
    kind = models.CharField(max_length=8, choices=ImportKind.choices)
    identity = models.CharField(max_length=16, choices=Identity.choices)
    headers = models.JSONField(default=list, blank=True)  # the file's headers, in file order
    mapping = models.JSONField(default=dict, blank=True)  # header -> profile key, "" = skip
    empty_policy = models.CharField(
        max_length=8, choices=EmptyPolicy.choices, default=EmptyPolicy.KEEP
    )
    tag = models.CharField(max_length=512, blank=True)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.DRAFT
    )
    error = models.TextField(blank=True)

    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    # The spreadsheet row number of the last row whose writes are committed: a resumed run
    # starts after it (R2.17: a dead worker does not lose or repeat work).
    position = models.PositiveIntegerField(default=1)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    # Fencing: the worker that claimed the job writes only while its token is the job's.
    lease_token = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    failure_log_csv = models.CharField(max_length=500, blank=True)
    failure_log_xlsx = models.CharField(max_length=500, blank=True)
    failure_log_expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # R2.17: one import at a time per channel, held by the database itself, so it holds
            # across web processes and workers and with Redis gone.
            models.UniqueConstraint(
                fields=["channel"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_import_per_channel",
            ),
        ]
        indexes = [models.Index(fields=["channel", "-created_at"], name="import_log_idx")]

    def __str__(self) -> str:
        return f"import #{self.pk} {self.filename} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ImportFailure(models.Model):
    """A failed row (R2.15), committed with its chunk so a resumed import logs it once."""

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="failures")
    row_number = models.PositiveIntegerField()
    columns = models.JSONField(default=list)  # profile keys at fault
    reasons = models.JSONField(default=list)
    values = models.JSONField(default=list)  # the row's original cells, in file column order

    class Meta:
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="import_failure_row_unique"),
        ]

    def __str__(self) -> str:
        return f"row {self.row_number} of import {self.job_id}"


class ImportJournal(models.Model):
    """What an import did to each customer: created, or the previous values of changed keys.

    One row per customer per import: it makes counts exact across chunks and resumes (R2.14)
    and is the base for undo and consent history.
    """

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="journal")
    customer_id = models.BigIntegerField()
    created = models.BooleanField()
    previous = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "customer_id"], name="import_journal_unique"),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} in import {self.job_id}"

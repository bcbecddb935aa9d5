"""Import jobs, their failed rows and their change journal."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crm.models import LeasedJob


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


class ImportJob(LeasedJob):
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
    # R2.13a: the country national phone numbers are read in (the channel's, when the job was
    # made); "" when the manager turned it off for this import (they then fail their row).
    phone_region = models.CharField(max_length=2, blank=True, default="")
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
    # R2.14/R2.7: leads unified into the imported members at once, and leads that have booted,
    # unified when they log in as the member.
    unified = models.PositiveIntegerField(default=0)
    unify_later = models.PositiveIntegerField(default=0)

    # R2.16: an undo is a line of the import log too (one job at a time per channel): the import
    # it undoes, and what it did (``created``/``updated``/``failed`` stay an import's counts).
    undoes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="undos"
    )
    deleted = models.PositiveIntegerField(default=0)
    restored = models.PositiveIntegerField(default=0)
    kept = models.PositiveIntegerField(default=0)
    # The first values an undo left as changed after the import: customer, key, the import's
    # value, the value kept (the count is ``kept``).
    kept_samples = models.JSONField(default=list, blank=True)

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

    @property
    def encoding_pending(self) -> bool:
        """A text file whose encoding the manager has still to choose (R2.3a)."""
        return self.file_format == "csv" and not self.encoding

    @property
    def is_undo(self) -> bool:
        return self.undoes_id is not None


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

    # One row per imported customer, so each index and foreign-key check counts: the unique
    # (job, customer) index is the only one (it serves "this import's journal"), and the rows
    # go with their job and channel by Django's cascade, not by a check per row; a channel's
    # deletion reads the table for its rows.
    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="journal",
        db_index=False,
        db_constraint=False,
    )
    customer_id = models.BigIntegerField()
    created = models.BooleanField()
    previous = models.JSONField(null=True, blank=True)
    # R2.16: the value the import left in each key of ``previous`` (undo restores a key only
    # where the customer still has it), and the import tags the 30-limit dropped
    # ([[import tag id, added at], …]). NULL in journals written before undo existed.
    written = models.JSONField(null=True, blank=True)
    dropped_tags = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            # The channel in every unique (SPEC §10), last: the index still serves an import's
            # journal and a customer's entry in it.
            models.UniqueConstraint(
                fields=["job", "customer_id", "channel"], name="import_journal_channel_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} in import {self.job_id}"


class MappingTemplate(models.Model):
    """A saved mapping (beyond R2.8), offered again for a file with the same headers."""

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=ImportKind.choices)
    identity = models.CharField(max_length=16, choices=Identity.choices)
    headers = models.JSONField(default=list)  # in the order of the file it was saved from
    # The look-up of "a file with the same headers": a digest of the sorted header set, so
    # the same columns in another order find it too (the mapping is by header name).
    headers_key = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict)  # header -> profile key, "" = don't import
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "name"], name="mapping_template_name_unique")
        ]
        indexes = [models.Index(fields=["channel", "headers_key"], name="mapping_template_idx")]

    def __str__(self) -> str:
        return self.name


class CheckStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Checking"
    DONE = "done", "Checked"
    REFUSED = "refused", "File refused"


class ImportCheck(models.Model):
    """The whole-file check of a draft import (R2.9, R2.6): a dry run that writes no customer.

    One per job; checking again (after a mapping change) replaces the token, and a run whose
    token is no longer the check's stops writing, like the import's lease (crm.jobs).
    """

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    job = models.OneToOneField(ImportJob, on_delete=models.CASCADE, related_name="file_check")
    token = models.UUIDField()
    mapping = models.JSONField(default=dict)  # the mapping checked: another one needs a new check
    phone_region = models.CharField(max_length=2, blank=True, default="")  # as checked
    status = models.CharField(
        max_length=16, choices=CheckStatus.choices, default=CheckStatus.PENDING
    )
    error = models.TextField(blank=True)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    would_create = models.PositiveIntegerField(default=0)
    would_update = models.PositiveIntegerField(default=0)
    would_fail = models.PositiveIntegerField(default=0)  # rows
    would_unify = models.PositiveIntegerField(default=0)  # leads unified into members at once
    unify_later = models.PositiveIntegerField(default=0)  # booted leads: when they log in (R2.7)
    # R2.6: new verified leads for contacts that only unverified leads have.
    unverified_only = models.PositiveIntegerField(default=0)
    mu_change = models.IntegerField(default=0)
    failures_by_key = models.JSONField(default=dict)  # profile key ("" = the row) -> rows
    samples = models.JSONField(default=list)  # the first failed rows: row, columns, reasons
    # R2.13a: phone cells read as national numbers of phone_region, and a few of them
    # ([cell as written, number stored]).
    national_numbers = models.PositiveIntegerField(default=0)
    national_samples = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"check of import {self.job_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (CheckStatus.DONE, CheckStatus.REFUSED)

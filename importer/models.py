"""Import jobs, their failed rows and their change journal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import JobStatus, LeasedJob


class ImportKind(models.TextChoices):
    MEMBER = "member", _("Members")
    LEAD = "lead", _("Leads")


class Identity(models.TextChoices):
    MEMBER_ID = "memberId", _("memberId")
    EMAIL = "email", _("Email")
    MOBILE = "mobileNumber", _("Mobile number")


class EmptyPolicy(models.TextChoices):
    KEEP = "keep", _("Keep existing data")
    CLEAR = "clear", _("Clear existing data")


class ImportStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportJob(LeasedJob):
    """One import of one file into one channel (R2.19), from upload to its counts."""

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="imports", verbose_name=_("channel")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    origin = models.CharField(
        max_length=32, default="web", verbose_name=_("origin")
    )  # web, command, builder:<platform>
    # The stored upload, relative to MEDIA_ROOT; removed when the job ends.
    source_path = models.CharField(max_length=500, blank=True, verbose_name=_("source path"))
    filename = models.CharField(max_length=255, verbose_name=_("filename"))
    file_format = models.CharField(max_length=8, blank=True, verbose_name=_("file format"))
    encoding = models.CharField(max_length=16, blank=True, verbose_name=_("encoding"))
    kind = models.CharField(max_length=8, choices=ImportKind.choices, verbose_name=_("kind"))
    identity = models.CharField(max_length=16, choices=Identity.choices, verbose_name=_("identity"))
    headers = models.JSONField(
        default=list, blank=True, verbose_name=_("headers")
    )  # the file's headers, in file order
    mapping = models.JSONField(
        default=dict, blank=True, verbose_name=_("mapping")
    )  # header -> profile key, "" = skip
    # R2.13a: the country national phone numbers are read in (the channel's, when the job was
    # made); "" when the manager turned it off for this import (they then fail their row).
    phone_region = models.CharField(
        max_length=2, blank=True, default="", verbose_name=_("phone region")
    )
    empty_policy = models.CharField(
        max_length=8,
        choices=EmptyPolicy.choices,
        default=EmptyPolicy.KEEP,
        verbose_name=_("empty policy"),
    )
    tag = models.CharField(max_length=512, blank=True, verbose_name=_("tag"))
    status = models.CharField(
        max_length=16,
        choices=ImportStatus.choices,
        default=ImportStatus.DRAFT,
        verbose_name=_("status"),
    )
    error = models.TextField(blank=True, verbose_name=_("error"))

    rows_total = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("rows total"))
    rows_done = models.PositiveIntegerField(default=0, verbose_name=_("rows done"))
    # The spreadsheet row number of the last row whose writes are committed: a resumed run
    # starts after it (R2.17: a dead worker does not lose or repeat work).
    position = models.PositiveIntegerField(default=1, verbose_name=_("position"))
    created = models.PositiveIntegerField(default=0, verbose_name=_("created"))
    updated = models.PositiveIntegerField(default=0, verbose_name=_("updated"))
    failed = models.PositiveIntegerField(default=0, verbose_name=_("failed"))
    # R2.14/R2.7: leads unified into the imported members at once, and leads that have booted,
    # unified when they log in as the member.
    unified = models.PositiveIntegerField(default=0, verbose_name=_("unified"))
    unify_later = models.PositiveIntegerField(default=0, verbose_name=_("unify later"))

    # R2.16: an undo is a line of the import log too (one job at a time per channel): the import
    # it undoes, and what it did (``created``/``updated``/``failed`` stay an import's counts).
    undoes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="undos",
        verbose_name=_("undoes"),
    )
    # R2.16a: a follow-up import of the failed rows of a finished import, fixed in the grid
    # (importer.failed_rows); same kind, identity, mapping and tag as the import it fixes.
    fixes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followups",
        verbose_name=_("fixes"),
    )
    deleted = models.PositiveIntegerField(default=0, verbose_name=_("deleted"))
    restored = models.PositiveIntegerField(default=0, verbose_name=_("restored"))
    kept = models.PositiveIntegerField(default=0, verbose_name=_("kept"))
    # The first values an undo left as changed after the import: customer, key, the import's
    # value, the value kept (the count is ``kept``).
    kept_samples = models.JSONField(default=list, blank=True, verbose_name=_("kept samples"))

    failure_log_csv = models.CharField(
        max_length=500, blank=True, verbose_name=_("failure log csv")
    )
    failure_log_xlsx = models.CharField(
        max_length=500, blank=True, verbose_name=_("failure log xlsx")
    )
    failure_log_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("failure log expires at")
    )

    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    queued_at = models.DateTimeField(null=True, blank=True, verbose_name=_("queued at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
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

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="failures", verbose_name=_("import")
    )
    row_number = models.PositiveIntegerField(verbose_name=_("row number"))
    columns = models.JSONField(default=list, verbose_name=_("columns"))  # profile keys at fault
    reasons = models.JSONField(default=list, verbose_name=_("reasons"))
    values = models.JSONField(
        default=list, verbose_name=_("values")
    )  # the row's original cells, in file column order

    class Meta:
        verbose_name = _("import failure")
        verbose_name_plural = _("import failures")
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="import_failure_row_unique"),
        ]

    def __str__(self) -> str:
        return f"row {self.row_number} of import {self.job_id}"


class RowEdit(models.Model):
    """A failed row's cells as the manager fixed them in the grid (R2.16a): the cells edited,
    by file column index, over the row's original cells. One per job and row; a draft's are
    read over its file by the check and the import, a finished import's go to a follow-up
    import (``sent_to``) that reads them over its failed rows."""

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="row_edits", verbose_name=_("import")
    )
    row_number = models.PositiveIntegerField(verbose_name=_("row number"))
    cells = models.JSONField(default=dict, verbose_name=_("cells"))  # {"column index": text}
    sent_to = models.ForeignKey(
        ImportJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sent_edits",
        verbose_name=_("imported by"),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("row edit")
        verbose_name_plural = _("row edits")
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="row_edit_row_unique"),
        ]

    def __str__(self) -> str:
        return f"edited row {self.row_number} of import {self.job_id}"


FixStatus = JobStatus  # a column fix's states are a deletion's


class ColumnFixJob(LeasedJob):
    """A column-wide fix the manager accepted (R2.16a), applied to an import's failed rows by a
    worker, a page of rows at a time: each page's edits and ``after_row`` (the last row it
    read) commit together under the job's lease, so a retry resumes after the last committed
    page, never writing a page twice. One queued-or-running fix per import."""

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="fix_jobs", verbose_name=_("import")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    key = models.CharField(max_length=200, verbose_name=_("profile key"))
    fix = models.CharField(max_length=64, verbose_name=_("fix"))
    header = models.TextField(verbose_name=_("column"))  # as the file names it, for the result
    status = models.CharField(
        max_length=10, choices=FixStatus.choices, default=FixStatus.QUEUED, verbose_name=_("status")
    )
    after_row = models.PositiveIntegerField(default=0, verbose_name=_("done up to row"))
    cells = models.PositiveIntegerField(default=0, verbose_name=_("cells fixed"))
    rows_ok = models.PositiveIntegerField(default=0, verbose_name=_("rows passing"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("column fix")
        verbose_name_plural = _("column fixes")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A second click while one runs: refused by the database, in every process.
            models.UniqueConstraint(
                fields=["job"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_fix_per_import",
            ),
        ]

    def __str__(self) -> str:
        return f"fix {self.fix} of {self.key} in import {self.job_id} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in (FixStatus.QUEUED, FixStatus.RUNNING)


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
        verbose_name=_("channel"),
    )
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="journal",
        db_index=False,
        db_constraint=False,
        verbose_name=_("import"),
    )
    customer_id = models.BigIntegerField(verbose_name=_("customer ID"))
    created = models.BooleanField(verbose_name=_("created"))
    previous = models.JSONField(null=True, blank=True, verbose_name=_("previous"))
    # R2.16: the value the import left in each key of ``previous`` (undo restores a key only
    # where the customer still has it), and the import tags the 30-limit dropped
    # ([[import tag id, added at], …]). NULL in journals written before undo existed.
    written = models.JSONField(null=True, blank=True, verbose_name=_("written"))
    dropped_tags = models.JSONField(null=True, blank=True, verbose_name=_("dropped tags"))

    class Meta:
        verbose_name = _("import journal")
        verbose_name_plural = _("import journals")
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

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    kind = models.CharField(max_length=8, choices=ImportKind.choices, verbose_name=_("kind"))
    identity = models.CharField(max_length=16, choices=Identity.choices, verbose_name=_("identity"))
    headers = models.JSONField(
        default=list, verbose_name=_("headers")
    )  # in the order of the file it was saved from
    # The look-up of "a file with the same headers": a digest of the sorted header set, so
    # the same columns in another order find it too (the mapping is by header name).
    headers_key = models.CharField(max_length=64, verbose_name=_("headers key"))
    mapping = models.JSONField(
        default=dict, verbose_name=_("mapping")
    )  # header -> profile key, "" = don't import
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("mapping template")
        verbose_name_plural = _("mapping templates")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "name"], name="mapping_template_name_unique")
        ]
        indexes = [models.Index(fields=["channel", "headers_key"], name="mapping_template_idx")]

    def __str__(self) -> str:
        return self.name


class CheckStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a worker")
    RUNNING = "running", _("Checking")
    DONE = "done", _("Checked")
    REFUSED = "refused", _("File refused")


class ImportCheck(models.Model):
    """The whole-file check of a draft import (R2.9, R2.6): a dry run that writes no customer.

    One per job; checking again (after a mapping change) replaces the token, and a run whose
    token is no longer the check's stops writing, like the import's lease (crm.jobs).
    """

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    job = models.OneToOneField(
        ImportJob, on_delete=models.CASCADE, related_name="file_check", verbose_name=_("import")
    )
    token = models.UUIDField(verbose_name=_("token"))
    mapping = models.JSONField(
        default=dict, verbose_name=_("mapping")
    )  # the mapping checked: another one needs a new check
    phone_region = models.CharField(
        max_length=2, blank=True, default="", verbose_name=_("phone region")
    )  # as checked
    status = models.CharField(
        max_length=16,
        choices=CheckStatus.choices,
        default=CheckStatus.PENDING,
        verbose_name=_("status"),
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    rows_total = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("rows total"))
    rows_done = models.PositiveIntegerField(default=0, verbose_name=_("rows done"))
    would_create = models.PositiveIntegerField(default=0, verbose_name=_("would create"))
    would_update = models.PositiveIntegerField(default=0, verbose_name=_("would update"))
    would_fail = models.PositiveIntegerField(default=0, verbose_name=_("would fail"))  # rows
    would_unify = models.PositiveIntegerField(
        default=0, verbose_name=_("would unify")
    )  # leads unified into members at once
    unify_later = models.PositiveIntegerField(
        default=0, verbose_name=_("unify later")
    )  # booted leads: when they log in (R2.7)
    # R2.6: new verified leads for contacts that only unverified leads have.
    unverified_only = models.PositiveIntegerField(default=0, verbose_name=_("unverified only"))
    mu_change = models.IntegerField(default=0, verbose_name=_("mu change"))
    failures_by_key = models.JSONField(
        default=dict, verbose_name=_("failures by key")
    )  # profile key ("" = the row) -> rows
    samples = models.JSONField(
        default=list, verbose_name=_("samples")
    )  # the first failed rows: row, columns, reasons
    # R2.13a: phone cells read as national numbers of phone_region, and a few of them
    # ([cell as written, number stored]).
    national_numbers = models.PositiveIntegerField(default=0, verbose_name=_("national numbers"))
    national_samples = models.JSONField(default=list, verbose_name=_("national samples"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    def __str__(self) -> str:
        return f"check of import {self.job_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (CheckStatus.DONE, CheckStatus.REFUSED)

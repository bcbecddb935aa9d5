"""Customers (members and leads), their tags and import tags."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerType(models.TextChoices):
    MEMBER = "member", _("Member")
    LEAD = "lead", _("Lead")


class Customer(models.Model):
    """A person known to a channel. Built-in profile keys are columns; custom keys live in
    ``profile`` (JSON, values in their ``crm.values.to_json`` form)."""

    # Every index of the table is paid by every imported row: the channel's own index is left out
    # (the channel-first indexes below serve "customers of a channel"). Nor is the channel checked
    # by the database, row by row at each commit (8 % of an import's PostgreSQL time, issue 15):
    # channels are never deleted, and an import holds its channel while it writes.
    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="customers",
        db_index=False,
        db_constraint=False,
        verbose_name=_("channel"),
    )
    member_id = models.CharField(max_length=512, null=True, blank=True, verbose_name=_("member ID"))
    verified = models.BooleanField(default=False, verbose_name=_("verified"))
    name = models.CharField(max_length=512, blank=True, default="", verbose_name=_("name"))
    email = models.CharField(
        max_length=512, null=True, blank=True, verbose_name=_("email")
    )  # stored lower-cased
    mobile_number = models.CharField(
        max_length=32, null=True, blank=True, verbose_name=_("mobile number")
    )  # E.164
    landline_number = models.CharField(
        max_length=32, null=True, blank=True, verbose_name=_("landline number")
    )  # E.164
    unsubscribe_email = models.BooleanField(
        null=True, blank=True, verbose_name=_("unsubscribe email")
    )
    unsubscribe_texting = models.BooleanField(
        null=True, blank=True, verbose_name=_("unsubscribe texting")
    )
    profile = models.JSONField(default=dict, blank=True, verbose_name=_("profile"))
    veil_id = models.CharField(max_length=64, null=True, blank=True, verbose_name=_("veil ID"))
    first_boot_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("first boot at")
    )  # null: never booted
    last_seen_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last seen at"))
    blocked = models.BooleanField(default=False, verbose_name=_("blocked"))
    blocked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("blocked at"))
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("blocked by"),  # partial index below: only blocked customers have one
    )
    blocked_reason = models.CharField(
        max_length=512, blank=True, default="", verbose_name=_("blocked reason")
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        constraints = [
            # Partial: leads have no memberId and imported customers no veilId, and an index
            # entry for each of their NULLs would only cost (NULLs never conflict anyway).
            models.UniqueConstraint(
                fields=["channel", "member_id"],
                condition=models.Q(member_id__isnull=False),
                name="customer_member_id_unique",
            ),
            models.UniqueConstraint(
                fields=["channel", "veil_id"],
                condition=models.Q(veil_id__isnull=False),
                name="customer_veil_id_unique",
            ),
        ]
        indexes = [
            # Identity look-ups of import, boot and API (R2.4, R2.5): channel first, so the
            # schema can be distributed by channel (SPEC §10).
            models.Index(fields=["channel", "email"], name="customer_email_idx"),
            models.Index(fields=["channel", "mobile_number"], name="customer_mobile_idx"),
            # The contacts list (never blocked customers) newest first, and its range filters.
            models.Index(
                fields=["channel", "-id"],
                name="contacts_list_idx",
                condition=models.Q(blocked=False),
            ),
            models.Index(fields=["channel", "created_at"], name="customer_created_idx"),
            # Only customers ever seen (crm 0022): the last-seen filters are ranges, which
            # imply a value, and an imported customer (never seen) costs the index nothing.
            models.Index(
                fields=["channel", "last_seen_at"],
                name="customer_seen_idx",
                condition=models.Q(last_seen_at__isnull=False),
            ),
            # The blocked customers page.
            models.Index(
                fields=["channel", "-blocked_at"],
                name="blocked_list_idx",
                condition=models.Q(blocked=True),
            ),
            # A manager deleted: SET_NULL finds the customers they blocked.
            models.Index(
                fields=["blocked_by"],
                name="customer_blocked_by_idx",
                condition=models.Q(blocked_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.mobile_number or self.member_id or f"#{self.pk}"

    @property
    def type(self) -> str:
        return CustomerType.MEMBER if self.member_id else CustomerType.LEAD

    @property
    def booted(self) -> bool:
        return self.first_boot_at is not None


class Tag(models.Model):
    """A customer tag of a channel (``a`` or ``a/b``)."""

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="tags", verbose_name=_("channel")
    )
    name = models.CharField(max_length=512, verbose_name=_("name"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["channel", "name"], name="tag_unique")]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="customer_tags",
        db_constraint=False,  # no check per deleted customer: crm.services.deletion removes them
        verbose_name=_("customer"),
    )
    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, related_name="customer_tags", verbose_name=_("tag")
    )

    class Meta:
        verbose_name = _("customer tag")
        verbose_name_plural = _("customer tags")
        constraints = [
            # The channel in every unique (SPEC §10), last: the index still serves look-ups
            # by customer.
            models.UniqueConstraint(
                fields=["customer", "tag", "channel"], name="customer_tag_channel_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "tag", "customer"], name="customer_tag_filter_idx")
        ]

    def __str__(self) -> str:
        return f"{self.tag_id} on {self.customer_id}"


class ImportTag(models.Model):
    """``userImportTag``: a label an import puts on every customer it touched (R2.12)."""

    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="import_tags",
        verbose_name=_("channel"),
    )
    name = models.CharField(max_length=512, verbose_name=_("name"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("import tag")
        verbose_name_plural = _("import tags")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "name"], name="import_tag_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CustomerImportTag(models.Model):
    """One import tag on one customer; a customer keeps the 30 most recently added (R2.12)."""

    MAX_PER_CUSTOMER = 30

    # An import writes one of these per customer, so each index and each foreign-key check
    # counts: the two indexes below serve every query (by customer; by channel and tag), and
    # none of the three is checked by the database (the check of the customer was 60 % of the
    # links' COPY in a new import, issue 15). Every writer holds the customer it links: it
    # inserted it, updates it, or locks it after the insert (``CopyWriter._hold``, the undo);
    # a purge deletes the customers before their links. The channel and the tag are removed
    # with the channel by Django's cascade. Deleting an import tag alone (the product never
    # does) would read the table.
    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("channel"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="customer_import_tags",
        db_index=False,
        db_constraint=False,
        verbose_name=_("customer"),
    )
    import_tag = models.ForeignKey(
        ImportTag,
        on_delete=models.CASCADE,
        related_name="customer_import_tags",
        db_index=False,
        db_constraint=False,
        verbose_name=_("import tag"),
    )
    added_at = models.DateTimeField(verbose_name=_("added at"))

    class Meta:
        verbose_name = _("customer import tag")
        verbose_name_plural = _("customer import tags")
        ordering = ["added_at", "id"]
        constraints = [
            # The channel in every unique (SPEC §10), last: the index still serves look-ups
            # by customer (its only index).
            models.UniqueConstraint(
                fields=["customer", "import_tag", "channel"],
                name="customer_import_tag_channel_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["channel", "import_tag", "customer"], name="customer_import_tag_filter_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.import_tag_id} on {self.customer_id}"

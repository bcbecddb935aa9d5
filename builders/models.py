"""A channel's site-builder installations, the webhooks they delivered, and customer pulls."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from crm.models import LeasedJob


class Platform(models.TextChoices):
    CAFE24 = "cafe24", "Cafe24"
    SHOPIFY = "shopify", "Shopify"
    MAKESHOP = "makeshop", "MakeShop"
    SHOPBY = "shopby", "Shopby"
    IMWEB = "imweb", "imweb"


def new_webhook_token() -> str:
    return secrets.token_urlsafe(32)


class BuilderInstallation(models.Model):
    """One builder site connected to one channel (R5): where its webhooks come in, how they are
    verified, and how its customers are pulled.

    ``webhook_token`` is part of the per-channel webhook URL; for builders that document no
    signature it is what protects the endpoint (docs/builders.md). ``webhook_secret`` is the
    builder's signing key where one exists (Shopify: the app's client secret; Cafe24: the app's
    service key sent as ``x-api-key``). Both, and the API ``access_token``, are kept as given:
    the server needs them in clear to verify and to call the builder.
    """

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="builder_installations"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices)
    # The builder's id of the site: Shopify shop domain (x.myshopify.com), Cafe24 mall_id,
    # Shopby mallNo, imweb site code, MakeShop shop id. Events for another shop change nothing.
    shop_id = models.CharField(max_length=255)
    webhook_token = models.CharField(max_length=64, default=new_webhook_token)
    webhook_secret = models.CharField(max_length=255, blank=True)
    access_token = models.CharField(max_length=512, blank=True)
    # Blank: the builder's real API; set (http://127.0.0.1:…) by tests and staging fakes.
    api_base_url = models.CharField(max_length=255, blank=True)
    installed_at = models.DateTimeField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel", "platform"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "platform"], name="builder_installation_unique"
            ),
            models.UniqueConstraint(
                fields=["platform", "shop_id"], name="builder_installation_shop_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.shop_id}"


class WebhookReceipt(models.Model):
    """A webhook delivery that was verified and processed: a replay with the same event id
    (``X-Shopify-Webhook-Id``, or a digest of the body where the builder sends no id) finds
    its receipt and changes nothing."""

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    installation = models.ForeignKey(
        BuilderInstallation, on_delete=models.CASCADE, related_name="receipts"
    )
    event_id = models.CharField(max_length=255)
    topic = models.CharField(max_length=64)
    outcome = models.CharField(max_length=32)  # deleted, not_found, ignored, recorded, …
    detail = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "event_id"], name="webhook_receipt_unique"
            ),
        ]
        indexes = [models.Index(fields=["channel", "-received_at"], name="webhook_receipt_idx")]

    def __str__(self) -> str:
        return f"{self.topic} {self.event_id} ({self.outcome})"


class PullStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    FETCHING = "fetching", "Fetching pages"
    IMPORTING = "importing", "Importing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_PULL_STATUSES = (PullStatus.QUEUED, PullStatus.FETCHING, PullStatus.IMPORTING)


class BuilderPull(LeasedJob):
    """Customers registered before installation, pulled page by page from the builder's API
    and then imported as a member import job (R5.1): the job holds the counts, the failure log
    and the import's progress; this row holds the fetch's."""

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    installation = models.ForeignKey(
        BuilderInstallation, on_delete=models.CASCADE, related_name="pulls"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=PullStatus.choices, default=PullStatus.QUEUED)
    pages = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)  # HTTP attempts that failed and were retried
    import_job = models.ForeignKey(
        "importer.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One pull at a time per channel and builder, held by the database.
            models.UniqueConstraint(
                fields=["installation"],
                condition=models.Q(status__in=["queued", "fetching", "importing"]),
                name="one_active_pull_per_installation",
            ),
        ]
        indexes = [models.Index(fields=["channel", "-created_at"], name="builder_pull_idx")]

    def __str__(self) -> str:
        return f"pull #{self.pk} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_PULL_STATUSES

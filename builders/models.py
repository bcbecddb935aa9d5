"""A channel's site-builder installations, the webhooks they delivered, and customer pulls."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import LeasedJob


class Platform(models.TextChoices):
    CAFE24 = "cafe24", _("Cafe24")
    SHOPIFY = "shopify", _("Shopify")
    MAKESHOP = "makeshop", _("MakeShop")
    SHOPBY = "shopby", _("Shopby")
    IMWEB = "imweb", _("imweb")


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
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="builder_installations",
        verbose_name=_("channel"),
    )
    platform = models.CharField(max_length=16, choices=Platform.choices, verbose_name=_("platform"))
    # The builder's id of the site: Shopify shop domain (x.myshopify.com), Cafe24 mall_id,
    # Shopby mallNo, imweb site code, MakeShop shop id. Events for another shop change nothing.
    shop_id = models.CharField(max_length=255, verbose_name=_("shop id"))
    webhook_token = models.CharField(
        max_length=64, default=new_webhook_token, verbose_name=_("webhook token")
    )
    webhook_secret = models.CharField(max_length=255, blank=True, verbose_name=_("webhook secret"))
    access_token = models.CharField(max_length=512, blank=True, verbose_name=_("access token"))
    # Blank: the builder's real API; set (http://127.0.0.1:…) by tests and staging fakes.
    api_base_url = models.CharField(max_length=255, blank=True, verbose_name=_("api base url"))
    installed_at = models.DateTimeField(verbose_name=_("installed at"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("builder installation")
        verbose_name_plural = _("builder installations")
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

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    installation = models.ForeignKey(
        BuilderInstallation,
        on_delete=models.CASCADE,
        related_name="receipts",
        verbose_name=_("installation"),
    )
    event_id = models.CharField(max_length=255, verbose_name=_("event id"))
    topic = models.CharField(max_length=64, verbose_name=_("topic"))
    outcome = models.CharField(
        max_length=32, verbose_name=_("outcome")
    )  # deleted, not_found, ignored, recorded, …
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("detail"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))

    class Meta:
        verbose_name = _("webhook receipt")
        verbose_name_plural = _("webhook receipts")
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
    QUEUED = "queued", _("Queued")
    FETCHING = "fetching", _("Fetching pages")
    IMPORTING = "importing", _("Importing")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_PULL_STATUSES = (PullStatus.QUEUED, PullStatus.FETCHING, PullStatus.IMPORTING)


class BuilderPull(LeasedJob):
    """Customers registered before installation, pulled page by page from the builder's API
    and then imported as a member import job (R5.1): the job holds the counts, the failure log
    and the import's progress; this row holds the fetch's."""

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    installation = models.ForeignKey(
        BuilderInstallation,
        on_delete=models.CASCADE,
        related_name="pulls",
        verbose_name=_("installation"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        max_length=16,
        choices=PullStatus.choices,
        default=PullStatus.QUEUED,
        verbose_name=_("status"),
    )
    pages = models.PositiveIntegerField(default=0, verbose_name=_("pages"))
    fetched = models.PositiveIntegerField(default=0, verbose_name=_("fetched"))
    retries = models.PositiveIntegerField(
        default=0, verbose_name=_("retries")
    )  # HTTP attempts that failed and were retried
    import_job = models.ForeignKey(
        "importer.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("import job"),
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("builder pull")
        verbose_name_plural = _("builder pulls")
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

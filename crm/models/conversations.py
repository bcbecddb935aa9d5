"""The small conversation domain that carries the effects of blocking and deleting (R3.2, R4.3):
chats and their messages, calls, and marketing campaigns with target lists."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# History tables point at customers without a database constraint: PostgreSQL checks a foreign
# key once per deleted customer and table (~10 µs each), which made bulk deletion (R3.1) miss
# its mark; crm.services.deletion keeps these references right (set to NULL, or deleted). Their
# lookups go through the (channel, customer) index, so the single-column indexes are off too.


class Chat(models.Model):
    """A conversation with one customer. It outlives the customer (R3.2): deleting the customer
    sets ``customer`` to NULL, and the chat shows as from a deleted customer."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("channel"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
        db_constraint=False,
        db_index=False,
        verbose_name=_("customer"),
    )
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.OPEN, verbose_name=_("state")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["channel", "customer"], name="chat_customer_idx")]

    def __str__(self) -> str:
        return f"chat #{self.pk}"

    @property
    def from_deleted_customer(self) -> bool:
        return self.customer_id is None


class Message(models.Model):
    class Sender(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        MANAGER = "manager", _("Manager")
        BOT = "bot", _("Bot")

    class Delivery(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        # R4.3: a message to a blocked (or deleted) customer is kept but never delivered.
        UNDELIVERED = "undelivered", _("Not delivered")

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    chat = models.ForeignKey(
        Chat, on_delete=models.CASCADE, related_name="messages", verbose_name=_("chat")
    )
    sender = models.CharField(max_length=8, choices=Sender.choices, verbose_name=_("sender"))
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("manager"),
    )
    body = models.TextField(verbose_name=_("body"))
    delivery = models.CharField(
        max_length=12,
        choices=Delivery.choices,
        default=Delivery.DELIVERED,
        verbose_name=_("delivery"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["channel", "chat", "id"], name="message_chat_idx")]

    def __str__(self) -> str:
        return f"{self.sender}: {self.body[:40]}"


class Call(models.Model):
    """A phone call with a customer; kept, like chats, when the customer is deleted."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Status(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        MISSED = "missed", _("Missed")
        REFUSED = "refused", _("Refused")

    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("channel"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_constraint=False,
        db_index=False,
        verbose_name=_("customer"),
    )
    direction = models.CharField(
        max_length=8, choices=Direction.choices, verbose_name=_("direction")
    )
    status = models.CharField(max_length=10, choices=Status.choices, verbose_name=_("status"))
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("manager"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["channel", "customer"], name="call_customer_idx")]

    def __str__(self) -> str:
        return f"{self.direction} call #{self.pk} ({self.status})"


class Campaign(models.Model):
    """A marketing message to the customers a contacts filter matches (``audience``: the
    ``crm.filters.CustomerFilter`` query parameters)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", verbose_name=_("channel")
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    body = models.TextField(verbose_name=_("body"))
    audience = models.JSONField(default=dict, blank=True, verbose_name=_("audience"))
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    built_at = models.DateTimeField(null=True, blank=True, verbose_name=_("built at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    sent_count = models.PositiveIntegerField(default=0, verbose_name=_("sent count"))

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["channel", "-created_at"], name="campaign_channel_idx")]

    def __str__(self) -> str:
        return self.name


class CampaignTarget(models.Model):
    """One customer on a campaign's target list; ``sent_at`` set once the message went out."""

    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("channel"),
    )
    # The (campaign, customer) unique index serves the campaign's look-ups.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="targets",
        db_index=False,
        verbose_name=_("campaign"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="campaign_targets",
        db_constraint=False,
        db_index=False,
        verbose_name=_("customer"),
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_target_unique")
        ]
        indexes = [
            models.Index(fields=["channel", "customer"], name="campaign_target_customer_idx")
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} in campaign {self.campaign_id}"

"""The small conversation domain that carries the effects of blocking and deleting (R3.2, R4.3):
chats and their messages, calls, and marketing campaigns with target lists."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# History tables point at customers without a database constraint: PostgreSQL checks a foreign
# key once per deleted customer and table (~10 µs each), which made bulk deletion (R3.1) miss
# its mark; crm.services.deletion keeps these references right (set to NULL, or deleted). Their
# lookups go through the (channel, customer) index, so the single-column indexes are off too.


class Chat(models.Model):
    """A conversation with one customer. It outlives the customer (R3.2): deleting the customer
    sets ``customer`` to NULL, and the chat shows as from a deleted customer."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer = models.ForeignKey(
        "crm.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
        db_constraint=False,
        db_index=False,
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["channel", "customer"], name="chat_customer_idx")]

    def __str__(self) -> str:
        return f"chat #{self.pk}"

    @property
    def from_deleted_customer(self) -> bool:
        return self.customer_id is None


class Message(models.Model):
    class Sender(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        MANAGER = "manager", "Manager"
        BOT = "bot", "Bot"

    class Delivery(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        # R4.3: a message to a blocked (or deleted) customer is kept but never delivered.
        UNDELIVERED = "undelivered", "Not delivered"

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=8, choices=Sender.choices)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    delivery = models.CharField(max_length=12, choices=Delivery.choices, default=Delivery.DELIVERED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["channel", "chat", "id"], name="message_chat_idx")]

    def __str__(self) -> str:
        return f"{self.sender}: {self.body[:40]}"


class Call(models.Model):
    """A phone call with a customer; kept, like chats, when the customer is deleted."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        MISSED = "missed", "Missed"
        REFUSED = "refused", "Refused"

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer = models.ForeignKey(
        "crm.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_constraint=False,
        db_index=False,
    )
    direction = models.CharField(max_length=8, choices=Direction.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["channel", "customer"], name="call_customer_idx")]

    def __str__(self) -> str:
        return f"{self.direction} call #{self.pk} ({self.status})"


class Campaign(models.Model):
    """A marketing message to the customers a contacts filter matches (``audience``: the
    ``crm.filters.CustomerFilter`` query parameters)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"

    channel = models.ForeignKey("crm.Channel", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    body = models.TextField()
    audience = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["channel", "-created_at"], name="campaign_channel_idx")]

    def __str__(self) -> str:
        return self.name


class CampaignTarget(models.Model):
    """One customer on a campaign's target list; ``sent_at`` set once the message went out."""

    channel = models.ForeignKey(
        "crm.Channel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # The (campaign, customer) unique index serves the campaign's look-ups.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="targets", db_index=False
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="campaign_targets",
        db_constraint=False,
        db_index=False,
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_target_unique")
        ]
        indexes = [
            models.Index(fields=["channel", "customer"], name="campaign_target_customer_idx")
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} in campaign {self.campaign_id}"

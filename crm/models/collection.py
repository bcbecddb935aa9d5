"""Collecting customers' contacts in chat (R1.6): the follow-up that asks a customer the channel
cannot reach for an email or mobile number, and the input forms a manager sends into a chat.

Both are an ``InfoRequest``: a message in the chat that asks for profile keys, with the keys it
asks (a copy made when it was sent, so a form edited later does not change what was asked), the
customer's values of those keys when it was sent (R2.25: an answer never overwrites a value that
someone else wrote since), and, once answered, what was written and what was kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChatForm(models.Model):
    """An input form a manager builds from profile keys and sends into chats."""

    MAX_FIELDS = 20

    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the (channel, name) unique index serves it
        verbose_name=_("channel"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
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
        verbose_name = _("input form")
        verbose_name_plural = _("input forms")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "name"], name="chat_form_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ChatFormField(models.Model):
    """One question of a form: a profile key, its label in Korean and English, required or not."""

    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("channel"),
    )
    form = models.ForeignKey(
        ChatForm,
        on_delete=models.CASCADE,
        related_name="form_fields",
        db_index=False,  # the (form, key, channel) unique index serves it
        verbose_name=_("input form"),
    )
    key = models.CharField(max_length=64, verbose_name=_("profile key"))
    label_ko = models.CharField(max_length=200, blank=True, verbose_name=_("label (Korean)"))
    label_en = models.CharField(max_length=200, blank=True, verbose_name=_("label (English)"))
    required = models.BooleanField(default=False, verbose_name=_("required"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "key", "channel"], name="chat_form_field_unique"
            )
        ]

    def __str__(self) -> str:
        return self.key


class InfoRequest(models.Model):
    class Kind(models.TextChoices):
        FOLLOW_UP = "follow_up", _("Follow-up")
        FORM = "form", _("Input form")

    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("channel"),
    )
    chat = models.ForeignKey(
        "crm.Chat",
        on_delete=models.CASCADE,
        related_name="info_requests",
        db_index=False,
        verbose_name=_("chat"),
    )
    # The chat message that carries the request (a bot message for a follow-up, the manager's
    # for a form).
    message = models.OneToOneField(
        "crm.Message",
        on_delete=models.CASCADE,
        related_name="info_request",
        verbose_name=_("message"),
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, verbose_name=_("kind"))
    # The form sent (None for a follow-up, or once the form is deleted: ``fields`` remains).
    form = models.ForeignKey(
        ChatForm,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("input form"),
    )
    form_name = models.CharField(max_length=200, blank=True, verbose_name=_("form name"))
    # [{"key", "type", "labelKo", "labelEn", "required"}], in the order asked.
    fields = models.JSONField(default=list, verbose_name=_("fields"))
    # The customer's stored value of each asked key when the request was sent (null: empty).
    before = models.JSONField(default=dict, verbose_name=_("values when sent"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sent by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("sent at"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    # What the answer wrote (key → stored value), and the keys it did not write because someone
    # else had written them since the request was sent (key → the answer's value).
    written = models.JSONField(default=dict, blank=True, verbose_name=_("written"))
    kept = models.JSONField(default=dict, blank=True, verbose_name=_("kept"))

    class Meta:
        verbose_name = _("information request")
        verbose_name_plural = _("information requests")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["channel", "chat", "id"], name="info_request_chat_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def keys(self) -> list[str]:
        return [str(field["key"]) for field in self.fields]

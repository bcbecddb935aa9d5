"""Consent history (R2.16b): every change of a customer's ``unsubscribeEmail`` or
``unsubscribeTexting``, with its time, the value before and after, and what changed it.

Korean marketing law asks a business to prove when a customer agreed or refused; this is that
record. Rows are written only through ``crm.services.consent`` (one row per flag that changed).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The consent flags: profile key → Customer column.
CONSENT_FIELDS: dict[str, str] = {
    "unsubscribeEmail": "unsubscribe_email",
    "unsubscribeTexting": "unsubscribe_texting",
}


class ConsentChange(models.Model):
    class Key(models.TextChoices):
        # The profile keys themselves: data, the same in every language (export, API).
        EMAIL = "unsubscribeEmail", _("Email")
        TEXTING = "unsubscribeTexting", _("Text messages")

    class Source(models.TextChoices):
        """What changed the flag; ``reference`` and ``label`` say which one."""

        IMPORT = "import", _("Import")  # reference: the import job
        UNDO = "undo", _("Undo of an import")  # reference: the import undone; label: the undo
        API = "api", _("Open API")
        BOOT = "boot", _("Chat widget")
        MANAGER = "manager", _("Manager")  # reference: the manager; label: their name then
        BUILDER = "builder", _("Site builder")  # label: the platform; reference: its import
        FORM = "form", _("Input form")  # reference: the form; label: its name then
        UNIFICATION = "unification", _("Unification")  # reference: the lead unified

    channel = models.ForeignKey(
        "crm.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # a channel's rows go with its customers (the index below)
        # No check per row: an import writes two rows per new customer, and the check was a
        # third of the rows' cost. The rows are written in the transaction that writes their
        # customer, whose own channel check (at commit) keeps them from a deleted channel;
        # a channel's deletion removes them by Django's cascade, as the import journal's.
        db_constraint=False,
        verbose_name=_("channel"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,  # erased with the customer (R3.2), as the rest of its data
        related_name="consent_changes",
        db_index=False,
        db_constraint=False,  # no check per deleted customer: crm.services.deletion removes them
        verbose_name=_("customer"),
    )
    key = models.CharField(max_length=32, choices=Key.choices, verbose_name=_("consent"))
    old = models.BooleanField(null=True, blank=True, verbose_name=_("before"))  # None: no value
    new = models.BooleanField(null=True, blank=True, verbose_name=_("after"))
    at = models.DateTimeField(verbose_name=_("changed at"))
    source = models.CharField(max_length=16, choices=Source.choices, verbose_name=_("source"))
    reference = models.BigIntegerField(null=True, blank=True, verbose_name=_("reference"))
    label = models.CharField(max_length=255, blank=True, default="", verbose_name=_("label"))

    class Meta:
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")
        ordering = ["-at", "-id"]
        indexes = [
            # A customer's history (timeline, export) and, above all, deleting customers: the
            # foreign key's check at commit looks rows up by customer alone, and without an
            # index led by it each deleted customer cost a scan of the whole table (a channel's
            # 100,000-customer deletion ran for minutes). Customers are a channel's own, so the
            # channel need not lead (the link tables put it last too).
            models.Index(fields=["customer", "at"], name="consent_by_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.old} → {self.new} ({self.source})"

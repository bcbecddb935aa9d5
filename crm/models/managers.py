"""A manager's own settings in the back-office: for now, the language they read it in (R11.1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ManagerSettings(models.Model):
    """One row per manager who changed a setting; no row means every default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="manager_settings",
        verbose_name=_("user"),
    )
    # Blank: the language of the manager's channel's country (Korean for a Korean channel).
    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("manager settings")
        verbose_name_plural = _("manager settings")

    def __str__(self) -> str:
        return str(self.user)

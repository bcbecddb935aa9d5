"""Connecting a builder site to a channel: the installation row and its webhook URL."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from builders.models import BuilderInstallation, Platform, new_webhook_token
from crm.models import Channel


def normalized_shop(platform: str, shop_id: str) -> str:
    """Shop ids compare as the builder writes them, except Shopify domains (case-insensitive)."""
    shop_id = (shop_id or "").strip()
    return shop_id.lower() if platform == Platform.SHOPIFY else shop_id


@transaction.atomic
def installation_create(
    *,
    channel: Channel,
    platform: str,
    shop_id: str,
    installed_at: datetime | None = None,
    webhook_secret: str = "",
    access_token: str = "",
    api_base_url: str = "",
) -> BuilderInstallation:
    """Connect a builder site to the channel (one per builder per channel, one channel per site)."""
    if platform not in Platform.values:
        raise ValidationError(
            {"platform": gettext("unknown builder %(platform)s") % {"platform": repr(platform)}}
        )
    shop_id = normalized_shop(platform, shop_id)
    if not shop_id:
        raise ValidationError({"shop_id": gettext("the builder's site id is required")})
    if platform == Platform.SHOPIFY and not webhook_secret:
        raise ValidationError(
            {"webhook_secret": gettext("Shopify webhooks need the app's client secret")}
        )
    if installed_at is not None and timezone.is_naive(installed_at):
        raise ValidationError({"installed_at": gettext("give a time zone")})
    try:
        with transaction.atomic():
            return BuilderInstallation.objects.create(
                channel=channel,
                platform=platform,
                shop_id=shop_id,
                installed_at=installed_at or timezone.now(),
                webhook_secret=webhook_secret.strip(),
                access_token=access_token.strip(),
                api_base_url=api_base_url.strip(),
            )
    except IntegrityError:
        raise ValidationError(
            gettext("%(platform)s is already connected to this channel, or %(shop)s to another one")
            % {"platform": platform, "shop": repr(shop_id)}
        ) from None


def installation_rotate_token(*, installation: BuilderInstallation) -> BuilderInstallation:
    """A new secret webhook URL (the old one stops working at once)."""
    installation.webhook_token = new_webhook_token()
    installation.save(update_fields=["webhook_token"])
    return installation


def webhook_path(installation: BuilderInstallation) -> str:
    return reverse(
        "builders:webhook",
        kwargs={
            "platform": installation.platform,
            "installation_id": installation.pk,
            "token": installation.webhook_token,
        },
    )

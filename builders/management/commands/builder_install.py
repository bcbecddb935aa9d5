"""`builder_install SLUG PLATFORM --shop ID [...]`: connect a builder site to a channel and
print its webhook URL (JSON)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from builders.installations import installation_create, webhook_path
from builders.models import Platform
from crm.management.commands._cli import channel_or_error


class Command(BaseCommand):
    help = "Connect a site builder (its shop) to a channel; prints the webhook path."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("platform", choices=Platform.values)
        parser.add_argument("--shop", required=True, help="the builder's site id or domain")
        parser.add_argument("--secret", default="", help="Shopify app secret / Cafe24 service key")
        parser.add_argument("--access-token", default="", help="API token for customer pulls")
        parser.add_argument("--api-base-url", default="", help="override the builder's API URL")
        parser.add_argument("--installed-at", default=None, help="ISO 8601 with offset")

    def handle(self, *args: Any, **opts: Any) -> None:
        channel = channel_or_error(opts["slug"])
        installed_at = None
        if opts["installed_at"]:
            try:
                installed_at = datetime.fromisoformat(opts["installed_at"])
            except ValueError:
                raise CommandError(
                    gettext("--installed-at: use ISO 8601, e.g. 2025-05-04T09:00:00+09:00")
                ) from None
        try:
            installation = installation_create(
                channel=channel,
                platform=opts["platform"],
                shop_id=opts["shop"],
                installed_at=installed_at,
                webhook_secret=opts["secret"],
                access_token=opts["access_token"],
                api_base_url=opts["api_base_url"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            json.dumps({"id": installation.pk, "webhookPath": webhook_path(installation)})
        )

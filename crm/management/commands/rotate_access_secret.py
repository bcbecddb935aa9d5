"""``rotate_access_secret SLUG`` (R8.4, SPEC §9): a new Open API secret for the channel.

Prints one JSON object on stdout, ``{"accessKey", "accessSecret"}``; the secret is shown only
here (its hash is kept) and the old one stops at once."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from crm.management.commands._cli import channel_or_error
from crm.models import ActivityLog
from crm.services.channels import channel_rotate_access_secret


class Command(BaseCommand):
    help = "Give a channel a new Open API secret (printed once as JSON); the old one stops."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the channel")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = channel_or_error(options["slug"])
        secret = channel_rotate_access_secret(channel=channel, via=ActivityLog.Via.COMMAND)
        self.stdout.write(json.dumps({"accessKey": channel.access_key, "accessSecret": secret}))

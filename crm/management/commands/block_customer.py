"""``block_customer SLUG (--id ID | --member-id MID) [--reason TEXT]`` (R4.1, SPEC §9)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from crm.management.commands._cli import channel_or_error, validation_error
from crm.management.commands._customers import add_customer_arguments, customer_or_error
from crm.models import ActivityLog
from crm.services.blocking import customer_block


class Command(BaseCommand):
    help = "Block a customer: out of contacts and MU, hidden widget, no chat, call or marketing."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the channel")
        add_customer_arguments(parser)
        parser.add_argument("--reason", default="", help="why (optional, at most 512 characters)")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = channel_or_error(options["slug"])
        customer = customer_or_error(channel, options)
        try:
            customer_block(
                channel=channel,
                customer=customer,
                by=None,
                reason=options["reason"],
                via=ActivityLog.Via.COMMAND,
            )
        except ValidationError as exc:
            raise validation_error(exc) from None
        self.stdout.write(
            gettext("blocked customer %(id)s in channel %(channel)s")
            % {"id": customer.pk, "channel": repr(channel.slug)}
        )

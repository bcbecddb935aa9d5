"""``unblock_customer SLUG (--id ID | --member-id MID)`` (R4.1, SPEC §9)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from crm.management.commands._cli import channel_or_error, validation_error
from crm.management.commands._customers import add_customer_arguments, customer_or_error
from crm.models import ActivityLog
from crm.services.blocking import customer_unblock


class Command(BaseCommand):
    help = "Unblock a customer: back in contacts and MU."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the channel")
        add_customer_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        channel = channel_or_error(options["slug"])
        customer = customer_or_error(channel, options)
        try:
            customer_unblock(
                channel=channel, customer=customer, by=None, via=ActivityLog.Via.COMMAND
            )
        except ValidationError as exc:
            raise validation_error(exc) from None
        self.stdout.write(
            gettext("unblocked customer %(id)s in channel %(channel)s")
            % {"id": customer.pk, "channel": repr(channel.slug)}
        )

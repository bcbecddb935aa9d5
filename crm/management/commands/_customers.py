"""Finding the customer a crm command names: ``--id ID`` or ``--member-id MID`` in one channel.
Not a command: the name starts with _."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext

from crm.models import Channel, Customer


def add_customer_arguments(parser: ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, help="the customer's id")
    which.add_argument("--member-id", dest="member_id", help="the member's memberId")


def customer_or_error(channel: Channel, options: dict[str, Any]) -> Customer:
    """The channel's customer named by --id or --member-id (another channel's is never found)."""
    if options.get("id") is not None:
        found = Customer.objects.filter(channel=channel, pk=options["id"]).first()
        missing = gettext("no customer with the id %(id)s in channel %(channel)s") % {
            "id": options["id"],
            "channel": repr(channel.slug),
        }
    else:
        found = Customer.objects.filter(channel=channel, member_id=options["member_id"]).first()
        missing = gettext("no customer with the memberId %(member_id)s in channel %(channel)s") % {
            "member_id": repr(options["member_id"]),
            "channel": repr(channel.slug),
        }
    if found is None:
        raise CommandError(missing)
    return found

"""``create_profile_key SLUG KEY TYPE``: a custom profile key of a channel (R1.2)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from crm.management.commands._cli import channel_or_error, validation_error
from crm.models import ActivityLog, ProfileKeyType
from crm.services.profile_keys import profile_key_create


class Command(BaseCommand):
    help = "Create a custom profile key (name and type) in a channel."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the channel")
        parser.add_argument("key", help="a letter, then letters, digits or _ (at most 64)")
        # No argparse choices: the service's refusal names the types, like every other path's.
        parser.add_argument("type", help=f"one of: {' '.join(ProfileKeyType.values)}")
        parser.add_argument("--label", default="", help="a display label")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = channel_or_error(options["slug"])
        try:
            key = profile_key_create(
                channel=channel,
                key=options["key"],
                type=options["type"],
                label=options["label"],
                via=ActivityLog.Via.COMMAND,
            )
        except ValidationError as exc:
            raise validation_error(exc) from None
        self.stdout.write(
            gettext("created profile key %(key)s (%(type)s) in channel %(channel)s")
            % {"key": repr(key.key), "type": key.type, "channel": repr(channel.slug)}
        )

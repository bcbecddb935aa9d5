"""``channel_stats SLUG --json``: MU, customers and blocked customers of a channel (R1.5, R4.3)."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from crm import display
from crm.management.commands._cli import channel_or_error
from crm.selectors import blocked_customers, channel_mu


class Command(BaseCommand):
    help = "Print a channel's MU (blocked customers not counted), customers and blocked customers."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the channel")
        parser.add_argument(
            "--json", action="store_true", help='print {"mu": N, "customers": N, "blocked": N}'
        )

    def handle(self, *args: Any, **options: Any) -> None:
        channel = channel_or_error(options["slug"])
        mu = channel_mu(channel)
        blocked = blocked_customers(channel).count()
        # Every customer is either in MU or blocked; the sum keeps that true even when an import
        # commits between the two counts.
        stats = {"mu": mu, "customers": mu + blocked, "blocked": blocked}
        if options["json"]:
            self.stdout.write(json.dumps(stats))
        else:
            self.stdout.write(
                gettext("%(channel)s: MU %(mu)s · customers %(customers)s · blocked %(blocked)s")
                % {
                    "channel": channel.slug,
                    "mu": display.count(mu),
                    "customers": display.count(mu + blocked),
                    "blocked": display.count(blocked),
                }
            )

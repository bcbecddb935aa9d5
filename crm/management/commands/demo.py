"""``demo``: the demo channel, its managers and ~3,000 customers (``make run`` runs it at start).

Idempotent. The managers log in with a fixed, published development password, set again on every
run so the printed login always works. Because that password is public, the command refuses to
run unless DEBUG is on.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm.services.demo import demo_load

DEMO_PASSWORD = "contacts-demo"
ADMIN_URL = "http://127.0.0.1:8000/admin/"


class Command(BaseCommand):
    help = "Load the demo channel (development only: needs DEBUG=true). Safe to run again."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=3000, help="customers of a new demo channel"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "demo sets a published password on its managers: it runs only with DEBUG=true"
            )
        if options["customers"] < 0:
            raise CommandError("--customers must be 0 or more")
        loaded = demo_load(password=DEMO_PASSWORD, customers=options["customers"])
        owner, *others = loaded.usernames
        news = (
            f"{loaded.customers_created:,} customers added"
            if loaded.customers_created
            else "already loaded"
        )
        self.stdout.write(
            "\n".join(
                (
                    f"Demo channel {loaded.channel.slug!r} ({loaded.channel.name}): {news}",
                    f"  URL:      {ADMIN_URL}",
                    f"  username: {owner}  (owner; also {', '.join(others)})",
                    f"  password: {DEMO_PASSWORD}",
                    f"  MU:       {loaded.mu:,}",
                )
            )
        )

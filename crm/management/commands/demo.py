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
from django.utils.translation import gettext, ngettext

from crm import display
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
                gettext(
                    "demo sets a published password on its managers: it runs only with DEBUG=true"
                )
            )
        if options["customers"] < 0:
            raise CommandError(gettext("--customers must be 0 or more"))
        loaded = demo_load(password=DEMO_PASSWORD, customers=options["customers"])
        owner, *others = loaded.usernames
        news = (
            ngettext(
                "%(count)s customer added",
                "%(count)s customers added",
                loaded.customers_created,
            )
            % {"count": display.count(loaded.customers_created)}
            if loaded.customers_created
            else gettext("already loaded")
        )
        self.stdout.write(
            gettext(
                "Demo channel %(slug)s (%(name)s): %(news)s\n"
                "  URL:      %(url)s\n"
                "  username: %(owner)s  (owner; also %(others)s)\n"
                "  password: %(password)s\n"
                "  MU:       %(mu)s"
            )
            % {
                "slug": repr(loaded.channel.slug),
                "name": loaded.channel.name,
                "news": news,
                "url": ADMIN_URL,
                "owner": owner,
                "others": ", ".join(others),
                "password": DEMO_PASSWORD,
                "mu": display.count(loaded.mu),
            }
        )

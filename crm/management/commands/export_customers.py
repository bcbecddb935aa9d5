"""``export_customers SLUG [--format json|csv|xlsx] [--include-blocked] [--with-consent-history]
[--output PATH]``.

Streams the channel's customers (SPEC §9 shape; crm.exports) to stdout or to ``--output``.
XLSX is binary: it goes to ``--output`` or to a redirected stdout, never to a terminal, so the
contract's ``export_customers SLUG --format xlsx > file.xlsx`` works. ``--output`` is written
to ``PATH.part`` and renamed at the end, so a failed export leaves no half file behind.
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from crm.exports import FORMATS, customers_export
from crm.management.commands._cli import channel_or_error


class Command(BaseCommand):
    help = "Export a channel's customers as JSON (default), CSV or XLSX."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the channel")
        parser.add_argument("--format", choices=FORMATS, default="json")
        parser.add_argument(
            "--include-blocked", action="store_true", help="blocked customers too (R4.2)"
        )
        parser.add_argument(
            "--with-consent-history",
            action="store_true",
            help="JSON only: each customer's consentHistory, every change of its unsubscribe"
            " flags with time, values and source (R2.16b)",
        )
        parser.add_argument("--output", metavar="PATH", help="write to a file instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = channel_or_error(options["slug"])
        fmt: str = options["format"]
        buffer = getattr(self.stdout, "buffer", None)  # a real stdout's binary side
        if fmt == "xlsx" and not options["output"] and (buffer is None or self.stdout.isatty()):
            raise CommandError(
                gettext("XLSX is binary: give --output PATH or redirect stdout to a file")
            )
        if options["with_consent_history"] and fmt != "json":
            raise CommandError(gettext("--with-consent-history goes with --format json only"))
        blocks = customers_export(
            channel=channel,
            format=fmt,
            include_blocked=options["include_blocked"],
            consent_history=options["with_consent_history"],
        )
        # closing: a stream given up half-way closes its database cursor now, not at exit.
        with closing(blocks):
            if options["output"]:
                _write_file(Path(options["output"]), blocks)
            elif buffer is not None:
                _write_binary(buffer, blocks)
            else:  # a text stream (call_command(stdout=StringIO())): each block is whole UTF-8
                for block in blocks:
                    self.stdout.write(block.decode(), ending="")


def _write_binary(buffer: BinaryIO, blocks: Iterator[bytes]) -> None:
    """Bytes, not text: UTF-8 whatever the locale says, and the CSV's BOM stays a BOM."""
    try:
        for block in blocks:
            buffer.write(block)
        buffer.flush()
    except BrokenPipeError:
        # `export_customers … | head`: the reader has had enough. Point stdout at /dev/null so
        # that the interpreter's last flush does not fail again, and exit non-zero.
        os.dup2(os.open(os.devnull, os.O_WRONLY), buffer.fileno())
        raise CommandError(gettext("stdout was closed before the export ended")) from None


def _write_file(path: Path, blocks: Iterator[bytes]) -> None:
    part = path.with_name(path.name + ".part")
    try:
        with part.open("wb") as file:
            for block in blocks:
                file.write(block)
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise CommandError(
            gettext("cannot write %(path)s: %(reason)s")
            % {"path": path, "reason": exc.strerror or exc}
        ) from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise

"""``makemessages`` without fuzzy guesses: a new message starts empty in every catalog, so a
translator never ships another message's translation (the catalog test refuses fuzzy ones)."""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = ["-q", "--backup=none", "--update", "--no-fuzzy-matching"]

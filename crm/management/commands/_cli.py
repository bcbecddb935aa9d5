"""What the crm commands share: the channel named on the command line, and service errors as
CommandError (a clear message on stderr, a non-zero exit). Not a command: the name starts with _."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext

from crm.models import Channel


def channel_or_error(slug: str) -> Channel:
    channel = Channel.objects.filter(slug=slug).first()
    if channel is None:
        raise CommandError(gettext("no channel with the slug %(slug)s") % {"slug": repr(slug)})
    return channel


def validation_error(exc: ValidationError) -> CommandError:
    """One line per failing field, the field named, as a service's ValidationError puts it."""
    if hasattr(exc, "error_dict"):
        lines = [
            " ".join(messages) if field == NON_FIELD_ERRORS else f"{field}: {' '.join(messages)}"
            for field, messages in exc.message_dict.items()
        ]
    else:
        lines = list(exc.messages)
    return CommandError("\n".join(lines))

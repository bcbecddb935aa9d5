"""``create_channel SLUG --name NAME --owner USERNAME [--country CC] [--time-zone TZ]``: a new
channel and its API credentials.

Prints one JSON object on stdout (SPEC §9): ``slug``, ``pluginKey``, ``accessKey``,
``accessSecret`` (shown this once: only its hash is kept) and ``memberHashSecret``.

The owner is an existing user, or a new one created here. A new owner gets an unusable password
unless ``--password`` is given (then checked by the password validators): a password on a command
line lands in shell history, so the usual way is ``manage.py changepassword USERNAME`` afterwards.
``--password`` with an existing user is refused rather than silently changing someone's password.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext

from crm.management.commands._cli import validation_error
from crm.models.channels import DEFAULT_COUNTRY, DEFAULT_TIME_ZONE
from crm.services.channels import channel_create


class Command(BaseCommand):
    help = "Create a channel with its owner; prints its keys and secrets as one JSON object."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="lower-case letters, digits and '-', 1-64 long")
        parser.add_argument("--name", required=True, help="the channel's display name")
        parser.add_argument(
            "--owner", required=True, help="username of the owner (created if absent)"
        )
        parser.add_argument(
            "--country",
            default=DEFAULT_COUNTRY,
            help="ISO 3166 two-letter code of the channel's country: national phone numbers "
            f"(010-1234-5678) are read in it (default {DEFAULT_COUNTRY})",
        )
        parser.add_argument(
            "--time-zone",
            default=DEFAULT_TIME_ZONE,
            help=f"IANA name of the channel's time zone (default {DEFAULT_TIME_ZONE})",
        )
        parser.add_argument(
            "--password",
            help="password of a new owner (default: unusable; set it with changepassword)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["owner"]
        password: str | None = options["password"]
        try:
            # One transaction: a refused channel leaves no stray owner user behind.
            with transaction.atomic():
                owner, created = _owner(username, password)
                new = channel_create(
                    slug=options["slug"],
                    name=options["name"],
                    owner=owner,
                    country=options["country"],
                    time_zone=options["time_zone"],
                )
        except ValidationError as exc:
            raise validation_error(exc) from None
        except IntegrityError:  # a concurrent create_channel took the slug first
            raise CommandError(
                gettext("a channel with the slug %(slug)s already exists")
                % {"slug": repr(options["slug"])}
            ) from None
        if created and password is None:
            self.stderr.write(
                gettext(
                    "created user %(user)s without a password: "
                    "run `manage.py changepassword %(username)s` to let them log in"
                )
                % {"user": repr(username), "username": username}
            )
        channel = new.channel
        self.stdout.write(
            json.dumps(
                {
                    "slug": channel.slug,
                    "pluginKey": channel.plugin_key,
                    "accessKey": channel.access_key,
                    "accessSecret": new.access_secret,
                    "memberHashSecret": channel.member_hash_secret,
                }
            )
        )


def _owner(username: str, password: str | None) -> tuple[Any, bool]:
    """The owner user and whether it was created. Raises ValidationError naming ``owner`` or
    ``password``."""
    User = get_user_model()
    field = User._meta.get_field(User.USERNAME_FIELD)
    assert isinstance(field, models.Field)
    try:
        username = field.clean(username, None)
    except ValidationError as exc:
        raise ValidationError({"owner": exc.messages}) from None
    existing = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    if existing is not None:
        if password is not None:
            raise ValidationError(
                {
                    "password": gettext(
                        "user %(user)s exists: --password only sets the password of "
                        "a new owner (use changepassword for an existing user)"
                    )
                    % {"user": repr(username)}
                }
            )
        return existing, False
    user = User(**{User.USERNAME_FIELD: username})
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
    user.save()
    return user, True

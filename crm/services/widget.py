"""Who a chat widget request speaks for (R7.1, R1.6, R8.2): the one identification of the
widget's customer, for the boot (``crm.services.boot.customer_boot``) and for every request
after it (``widget_customer``: the waiting requests, the follow-up and form answers).

The widget names its customer as the boot knows it: a member by its ``memberId`` with its
``memberHash`` (an HMAC-SHA256 of the memberId with the channel's secret, required where the
channel says so), else the browser's ``veilId``. ``widget_caller`` cleans these inputs (and the
boot's profile values, through the parsers) and checks the memberHash; it raises
``ValidationError`` by key and ``MemberHashRefused``, and reads or writes no customer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.models import Channel, Customer
from crm.services.customers import profile_clean
from crm.values import InvalidValue, parse_string

VEIL_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class WidgetCaller:
    """The widget's customer as its request names it, cleaned and its memberHash checked."""

    channel: Channel
    member_id: str | None
    veil_id: str | None
    profile: dict[str, Any]  # the boot's profile values, parsed; empty without any


class MemberHashRefused(Exception):
    """The memberHash is missing where the channel requires one, or does not match."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def member_hash(channel: Channel, member_id: str) -> str:
    """The memberHash of a memberId: hex HMAC-SHA256 with the channel's secret."""
    key = channel.member_hash_secret.encode()
    return hmac.new(key, member_id.encode(), hashlib.sha256).hexdigest()


def member_hash_check(channel: Channel, member_id: str, given: str | None) -> None:
    if not given:
        if channel.member_hash_required:
            raise MemberHashRefused("this channel requires a memberHash with the memberId")
        return
    if not hmac.compare_digest(member_hash(channel, member_id), given.strip().lower()):
        raise MemberHashRefused("the memberHash does not match the memberId")


def boot_inputs_clean(
    channel: Channel,
    member_id: str | None,
    veil_id: str | None,
    profile: Mapping[str, object] | None,
) -> tuple[str | None, str | None, dict[str, Any]]:
    errors: dict[str, str] = {}
    if member_id is not None:
        try:
            member_id = str(parse_string(member_id)).strip() or None
        except InvalidValue as exc:
            errors["memberId"] = exc.reason
        if member_id is None and "memberId" not in errors:
            errors["memberId"] = "the memberId is empty"
    if veil_id is not None and not VEIL_PATTERN.match(veil_id):
        errors["veilId"] = "a veilId is 8 to 64 letters, digits, '-' or '_'"
    clean: dict[str, Any] = {}
    if profile:
        if "memberId" in profile:
            errors["profile.memberId"] = "give memberId beside the profile, not inside it"
        try:
            clean = profile_clean(
                channel=channel, values={k: v for k, v in profile.items() if k != "memberId"}
            )
        except ValidationError as exc:
            errors.update({f"profile.{k}": " ".join(v) for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return member_id, veil_id, clean


def widget_caller(
    *,
    channel: Channel,
    member_id: str | None = None,
    member_hash: str | None = None,
    veil_id: str | None = None,
    profile: Mapping[str, object] | None = None,
) -> WidgetCaller:
    """Who a widget request of ``channel`` speaks for (R7.1): its inputs cleaned, the memberHash
    checked where a memberId is given. Raises ValidationError (by key) and MemberHashRefused."""
    member_id, veil_id, clean = boot_inputs_clean(channel, member_id, veil_id, profile)
    if member_id is not None:
        member_hash_check(channel, member_id, member_hash)
    return WidgetCaller(channel=channel, member_id=member_id, veil_id=veil_id, profile=clean)


def widget_customer(
    *,
    channel: Channel,
    member_id: str | None = None,
    member_hash: str | None = None,
    veil_id: str | None = None,
) -> Customer | None:
    """The customer a widget request after the boot speaks for, known as the boot knows it: a
    member by its memberId (its memberHash checked as the boot checks it), else the browser's
    veilId (never a member's: a logged-out browser is a visitor). None: no such customer yet.
    Raises ValidationError and MemberHashRefused as the boot does."""
    caller = widget_caller(
        channel=channel, member_id=member_id, member_hash=member_hash, veil_id=veil_id
    )
    if caller.member_id is not None:
        return Customer.objects.filter(channel=channel, member_id=caller.member_id).first()
    if caller.veil_id is None:
        raise ValidationError({"veilId": _("Give the veilId the boot answered, or a memberId.")})
    customers = Customer.objects.filter(channel=channel, member_id__isnull=True)
    return customers.filter(veil_id=caller.veil_id).first()

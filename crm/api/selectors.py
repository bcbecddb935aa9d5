"""Open API reads: one channel's users, with their tags and import tags, oldest id first."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext

from crm.models import Channel, Customer, CustomerImportTag, CustomerTag
from crm.values import InvalidValue, parse_email, parse_mobile_number

MAX_LIMIT = 500
DEFAULT_LIMIT = 25


def api_users(channel: Channel) -> QuerySet[Customer]:
    """Every customer of the channel, blocked ones too (they carry ``blocked: true``): the API is
    the business's own record, not the contacts list (R4.2)."""
    return Customer.objects.filter(channel=channel)


# The cursor is the last id of the page, in digits: every value the schema's pattern allows is
# a cursor (issue 14: base64 cursors made "00" a schema-valid 400), and 18 digits stay within
# PostgreSQL's bigint.
CURSOR_PATTERN = r"^[0-9]{1,18}$"
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(customer_id: int) -> str:
    return str(customer_id)


def decode_cursor(cursor: str) -> int:
    if not _CURSOR.match(cursor):
        raise ValidationError(
            {"since": gettext("not a cursor this API gave out (the `next` of a page)")}
        )
    return int(cursor)


def api_user_page(channel: Channel, params: Mapping[str, str]) -> tuple[list[Customer], str | None]:
    """A page of users matching ``memberId``, ``email`` and ``mobileNumber`` (each exact, as
    stored: email lower-cased, mobile E.164), after the ``since`` cursor; and the next cursor.
    An email or number that cannot be one matches nobody; a bad ``limit`` or ``since`` (sent
    empty too) is refused by name."""
    errors: dict[str, str] = {}
    found = api_users(channel)
    if params.get("memberId"):
        found = found.filter(member_id=params["memberId"].strip())
    for name, parse, field in (
        ("email", parse_email, "email"),
        ("mobileNumber", parse_mobile_number, "mobile_number"),
    ):
        if params.get(name):
            try:
                found = found.filter(**{field: parse(params[name])})
            except InvalidValue:
                found = found.none()  # no user has a stored value that is not one
    limit = DEFAULT_LIMIT
    if "limit" in params:
        try:
            limit = int(params["limit"])
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            errors["limit"] = gettext("a whole number from 1 to %(max)s") % {"max": MAX_LIMIT}
    if "since" in params:
        try:
            found = found.filter(pk__gt=decode_cursor(params["since"]))
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    rows = list(found.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].pk) if more else None)


def user_data(customers: Iterable[Customer]) -> list[dict[str, Any]]:
    """Users as the API answers them, with two queries for all their tags and import tags."""
    customers = list(customers)
    ids = [c.pk for c in customers]
    tags: dict[int, list[str]] = {}
    for customer_id, name in (
        CustomerTag.objects.filter(customer_id__in=ids)
        .order_by("tag__name")
        .values_list("customer_id", "tag__name")
    ):
        tags.setdefault(customer_id, []).append(name)
    import_tags: dict[int, list[str]] = {}
    for customer_id, name in (
        CustomerImportTag.objects.filter(customer_id__in=ids)
        .order_by("added_at", "id")
        .values_list("customer_id", "import_tag__name")
    ):
        import_tags.setdefault(customer_id, []).append(name)
    return [
        {
            "id": c.pk,
            "type": c.type,
            "verified": c.verified,
            "memberId": c.member_id,
            "name": c.name,
            "email": c.email,
            "mobileNumber": c.mobile_number,
            "landlineNumber": c.landline_number,
            "unsubscribeEmail": c.unsubscribe_email,
            "unsubscribeTexting": c.unsubscribe_texting,
            "profile": dict(c.profile),
            "tags": tags.get(c.pk, []),
            "importTags": import_tags.get(c.pk, []),
            "blocked": c.blocked,
            "createdAt": c.created_at,
            "updatedAt": c.updated_at,
            "lastSeenAt": c.last_seen_at,
        }
        for c in customers
    ]

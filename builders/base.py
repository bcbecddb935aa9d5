"""The one small interface every builder adapter implements, and what it exchanges.

An adapter knows one builder's wire formats and nothing of our models' writes: it verifies a
webhook, turns it into a ``WebhookEvent``, pages through the builder's customers, and maps one
builder customer to our profile keys. The services (``builders.webhooks``, ``builders.pulls``)
do the writing through the crm and importer services.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from builders.http import JsonClient
    from builders.models import BuilderInstallation

SEOUL = ZoneInfo("Asia/Seoul")  # Korean builders' dates and times are KST

# The columns of a pulled customer, as written to the import file: exactly profile keys, so the
# import maps them without a mapping step.
PULL_COLUMNS = (
    "memberId",
    "name",
    "email",
    "mobileNumber",
    "landlineNumber",
    "unsubscribeEmail",
    "unsubscribeTexting",
)


class WebhookRefused(Exception):
    """The request is not from the builder (bad or missing signature or token): 401, nothing
    changes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookMalformed(Exception):
    """Verified, but not a payload we can read: 400, nothing changes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Action(StrEnum):
    DELETE = "delete"  # the member left the site: delete the customer (R3.5)
    REDACT = "redact"  # an erasure request: the member, or else every customer with the email
    DATA_REQUEST = "data_request"  # Shopify customers/data_request: recorded for the merchant
    SHOP_REDACT = "shop_redact"  # Shopify shop/redact: forget the installation's credentials
    IGNORE = "ignore"  # a topic that changes nothing here (Shopify customers/disable, …)


@dataclass(frozen=True)
class WebhookEvent:
    # The replay key (R5.2): made only of what the builder's signature covers (Shopify: the
    # body's digest) or, for builders that sign nothing, of what the event means (kind, member,
    # the builder's own time), never of a header or field a replay could change freely.
    event_id: str
    topic: str
    action: Action
    shop_id: str | None  # the builder's site the event is about; None: not in the payload
    member_id: str | None = None
    email: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    sent_at: datetime | None = None  # the builder's time of the event, where it sends one


class Builder:
    """Base of the adapters. Subclasses set the class attributes and override what they do."""

    platform: ClassVar[str]
    label: ClassVar[str]
    # Whether the builder documents a webhook signature we verify (docs/builders.md); where it
    # does not, the per-installation secret URL token is the protection.
    signs_webhooks: ClassVar[bool] = False
    can_pull: ClassVar[bool] = False

    def verify_webhook(
        self, installation: BuilderInstallation, headers: Mapping[str, str], body: bytes
    ) -> None:
        """Raise WebhookRefused unless the request is the builder's. The URL token has been
        checked already (every builder's endpoint carries one)."""

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotImplementedError

    def customer_pages(
        self, installation: BuilderInstallation, client: JsonClient
    ) -> Iterator[list[dict[str, Any]]]:
        """The customers registered before installation, one page (list) at a time."""
        raise NotImplementedError(f"{self.label} customers cannot be pulled")

    def customer_row(self, customer: Mapping[str, Any]) -> dict[str, str]:
        """One builder customer as import cells keyed by PULL_COLUMNS."""
        raise NotImplementedError


# --- helpers shared by adapters ----------------------------------------------------------------
def json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise WebhookMalformed("the body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookMalformed("the body must be a JSON object")
    return data


def body_digest(body: bytes) -> str:
    """The replay key of a signed body: exactly what the signature covers."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def replay_key(*parts: object) -> str:
    """The replay key of an unsigned event, from what it means: a replay can reorder, re-space
    or add fields and still be the same event."""
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return "event:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def content_key(data: Any) -> str:
    """The replay key of an event that changes nothing here: its JSON, canonical."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return replay_key("content", canonical)


def builder_time(value: object, zone: tzinfo) -> datetime | None:
    """A builder's timestamp (ISO 8601, or 'YYYY-MM-DD HH:MM:SS' in the builder's ``zone``)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def obj(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a JSON object, else an empty one."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def text_or_none(value: object) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def header(headers: Mapping[str, str], name: str) -> str:
    """A request header by case-insensitive name ('' when absent)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets; an empty expected secret never matches."""
    if not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def flag(value: bool) -> str:
    return "true" if value else "false"

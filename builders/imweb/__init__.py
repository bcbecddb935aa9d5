"""imweb: member-withdrawal notifications (sent since 2025-09-05, per the seed). We found no
public description of their payload or a signature: the shape below is our assumption and the
per-installation secret URL token protects the endpoint (docs/builders.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builders.base import (
    Action,
    Builder,
    WebhookEvent,
    WebhookMalformed,
    body_digest,
    json_object,
    obj,
    text_or_none,
)

WITHDRAWAL_EVENTS = frozenset({"member.withdraw", "member.withdrawal", "MEMBER_WITHDRAW"})


class Imweb(Builder):
    platform = "imweb"
    label = "imweb"

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        data = json_object(body)
        event = str(data.get("event") or data.get("eventType") or "")
        member: Mapping[str, Any] = obj(data, "data") or data
        shop = text_or_none(data.get("siteCode")) or text_or_none(member.get("siteCode"))
        event_id = text_or_none(data.get("eventId")) or body_digest(body)
        if event not in WITHDRAWAL_EVENTS:
            return WebhookEvent(event_id, event or "unknown", Action.IGNORE, shop)
        member_id = text_or_none(member.get("memberUid")) or text_or_none(member.get("memberId"))
        if member_id is None:
            raise WebhookMalformed("a withdrawal event without memberUid or memberId")
        return WebhookEvent(
            event_id,
            event,
            Action.DELETE,
            shop,
            member_id=member_id,
            email=text_or_none(member.get("email")),
        )

"""imweb: member-withdrawal notifications (sent since 2025-09-05, per the seed). We found no
public description of their payload or a signature: the shape below is our assumption and the
per-installation secret URL token protects the endpoint (docs/builders.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builders.base import (
    SEOUL,
    Action,
    Builder,
    WebhookEvent,
    WebhookMalformed,
    builder_time,
    content_key,
    json_object,
    obj,
    replay_key,
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
        if event not in WITHDRAWAL_EVENTS:
            return WebhookEvent(content_key(data), event or "unknown", Action.IGNORE, shop)
        member_id = text_or_none(member.get("memberUid")) or text_or_none(member.get("memberId"))
        if member_id is None:
            raise WebhookMalformed("a withdrawal event without memberUid or memberId")
        # Nothing is signed, so not eventId either (a replay could change it): the event is
        # its member and time.
        when = member.get("withdrawnAt") or data.get("withdrawnAt")
        return WebhookEvent(
            replay_key(self.platform, "withdraw", shop, member_id, when),
            event,
            Action.DELETE,
            shop,
            member_id=member_id,
            email=text_or_none(member.get("email")),
            sent_at=builder_time(when, SEOUL),
        )

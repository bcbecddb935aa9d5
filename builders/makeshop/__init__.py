"""MakeShop (Korea): member-withdrawal notifications. We found no public description of a
webhook payload or signature: the shape below is our assumption and the per-installation secret
URL token protects the endpoint (docs/builders.md)."""

from __future__ import annotations

from collections.abc import Mapping

from builders.base import (
    SEOUL,
    Action,
    Builder,
    WebhookEvent,
    WebhookMalformed,
    builder_time,
    content_key,
    json_object,
    replay_key,
    text_or_none,
)

WITHDRAWAL_EVENTS = frozenset({"member_withdrawal", "member.withdraw", "MEMBER_WITHDRAW"})


class MakeShop(Builder):
    platform = "makeshop"
    label = "MakeShop"

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        data = json_object(body)
        event = str(data.get("event") or data.get("eventType") or "")
        shop = text_or_none(data.get("shop_id")) or text_or_none(data.get("shopId"))
        if event not in WITHDRAWAL_EVENTS:
            return WebhookEvent(content_key(data), event or "unknown", Action.IGNORE, shop)
        member_id = text_or_none(data.get("member_id")) or text_or_none(data.get("memberId"))
        if member_id is None:
            raise WebhookMalformed("a withdrawal event without member_id")
        # Nothing is signed: the event is its member and time (KST when it names no zone).
        when = data.get("withdrawn_at") or data.get("withdrawnAt")
        return WebhookEvent(
            replay_key(self.platform, "withdraw", shop, member_id, when),
            event,
            Action.DELETE,
            shop,
            member_id=member_id,
            email=text_or_none(data.get("email")),
            sent_at=builder_time(when, SEOUL),
        )

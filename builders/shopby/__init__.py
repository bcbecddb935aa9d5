"""Shopby (NHN Commerce): the member-withdrawal webhook of an installed app. NHN documents the
body but no signature, so the per-installation secret URL token protects the endpoint
(docs/builders.md)."""

from __future__ import annotations

from collections.abc import Mapping

from builders.base import (
    Action,
    Builder,
    WebhookEvent,
    WebhookMalformed,
    content_key,
    json_object,
    replay_key,
    text_or_none,
)


class Shopby(Builder):
    platform = "shopby"
    label = "Shopby"

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        data = json_object(body)
        event_type = str(data.get("eventType") or "")
        shop = text_or_none(data.get("mallNo"))
        if event_type != "MEMBER_WITHDRAW":
            # MEMBER_INFO_CHANGED and the app install/delete events change nothing here.
            return WebhookEvent(content_key(data), event_type or "unknown", Action.IGNORE, shop)
        # memberId is null for members who signed up with an external id (KAKAO, PAYCO, …):
        # those are known to us by memberNo (docs/builders.md).
        member_id = text_or_none(data.get("memberId")) or text_or_none(data.get("memberNo"))
        if member_id is None:
            raise WebhookMalformed("MEMBER_WITHDRAW without memberId or memberNo")
        # Nothing is signed and no time is sent: the event is its member. memberNo is never
        # reused (a login id can be, after a withdrawal), so it keys the event where sent.
        member_no = text_or_none(data.get("memberNo"))
        return WebhookEvent(
            replay_key(self.platform, event_type, shop, member_no or member_id),
            event_type,
            Action.DELETE,
            shop,
            member_id=member_id,
            email=text_or_none(data.get("email")),
        )

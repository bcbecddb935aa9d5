"""Cafe24: the member-withdrawal webhook (event 90147) and the Admin API's customer list, read
in registration-date windows small enough for Cafe24's offset cap. Sources and assumptions:
docs/builders.md."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings

from builders.base import (
    SEOUL,  # Cafe24's dates are the mall's (KST) calendar days
    Action,
    Builder,
    WebhookEvent,
    WebhookMalformed,
    WebhookRefused,
    builder_time,
    content_key,
    flag,
    header,
    json_object,
    replay_key,
    same_secret,
    text_or_none,
)
from builders.http import PullFailed
from builders.phones import sort_phone

if TYPE_CHECKING:
    from builders.http import JsonClient
    from builders.models import BuilderInstallation

MEMBER_WITHDRAWAL = 90147  # "쇼핑몰에 회원이 탈퇴한 경우"


class Cafe24(Builder):
    platform = "cafe24"
    label = "Cafe24"
    can_pull = True

    def verify_webhook(
        self, installation: BuilderInstallation, headers: Mapping[str, str], body: bytes
    ) -> None:
        # No body signature we could verify is documented; where the installation knows the
        # app's service key, the x-api-key header Cafe24 sends must carry it (on top of the
        # secret URL token, checked by the view).
        if installation.webhook_secret and not same_secret(
            header(headers, "x-api-key").strip(), installation.webhook_secret
        ):
            raise WebhookRefused("x-api-key does not match the app's service key")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        data = json_object(body)
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise WebhookMalformed("a Cafe24 event carries a resource object")
        event_no = data.get("event_no")
        topic = f"event/{event_no}"
        shop = text_or_none(resource.get("mall_id"))
        if event_no != MEMBER_WITHDRAWAL:
            return WebhookEvent(content_key(data), topic, Action.IGNORE, shop)
        member_id = text_or_none(resource.get("member_id"))
        if member_id is None:
            raise WebhookMalformed("a member-withdrawal event without member_id")
        # Nothing is signed (x-api-key is a fixed key): the event is its member and time.
        when = resource.get("withdrawal_date")
        return WebhookEvent(
            replay_key(self.platform, topic, shop, member_id, when),
            topic,
            Action.DELETE,
            shop,
            member_id=member_id,
            sent_at=builder_time(when, SEOUL),
        )

    # --- pulls ------------------------------------------------------------------------------
    def base_url(self, installation: BuilderInstallation) -> str:
        if installation.api_base_url:
            return installation.api_base_url.rstrip("/")
        return f"https://{installation.shop_id}.cafe24api.com/api/v2"

    def customer_pages(
        self, installation: BuilderInstallation, client: JsonClient
    ) -> Iterator[list[dict[str, Any]]]:
        """Windows of registration dates, oldest first. A window holding more customers than
        the offset cap lets us reach is halved until each fits (a single day that still does
        not fit stops the pull with a clear reason rather than import part of it)."""
        base = f"{self.base_url(installation)}/admin/customersprivacy"
        auth = {
            "Authorization": f"Bearer {installation.access_token}",
            "X-Cafe24-Api-Version": settings.BUILDER_CAFE24_API_VERSION,
        }
        limit = int(settings.BUILDER_CAFE24_PAGE_SIZE)
        cap = int(settings.BUILDER_CAFE24_OFFSET_MAX) + limit
        first = date.fromisoformat(settings.BUILDER_CAFE24_EARLIEST)
        last = installation.installed_at.astimezone(SEOUL).date()
        windows: deque[tuple[date, date]] = deque([(first, last)])
        while windows:
            start, end = windows.popleft()
            span = {"shop_no": 1, "created_start_date": start, "created_end_date": end}
            counted = client.get(f"{base}/count", params=span, headers=auth).data
            total = counted.get("count") if isinstance(counted, dict) else None
            if not isinstance(total, int):
                raise PullFailed(f"{base}/count answered without a count")
            if total == 0:
                continue
            if total > cap:
                if start == end:
                    raise PullFailed(
                        f"{total:,} customers registered on {start}: more than the {cap:,} "
                        "Cafe24 lets one date range page through"
                    )
                middle = start + timedelta(days=(end - start).days // 2)
                windows.extendleft([(middle + timedelta(days=1), end), (start, middle)])
                continue
            for offset in range(0, total, limit):
                page = client.get(
                    base, params={**span, "limit": limit, "offset": offset}, headers=auth
                )
                rows = page.data.get("customersprivacy") if isinstance(page.data, dict) else None
                if not isinstance(rows, list):
                    raise PullFailed(f"{base} answered without a customersprivacy list")
                yield [r for r in rows if isinstance(r, dict)]
                if len(rows) < limit:
                    break

    def customer_row(self, customer: Mapping[str, Any]) -> dict[str, str]:
        mobile, _ = sort_phone(text_or_none(customer.get("cellphone")))
        _, landline = sort_phone(text_or_none(customer.get("phone")))
        return {
            "memberId": text_or_none(customer.get("member_id")) or "",
            "name": text_or_none(customer.get("name")) or "",
            "email": text_or_none(customer.get("email")) or "",
            "mobileNumber": mobile,
            "landlineNumber": landline,
            # "T": the member agreed to marketing e-mail / SMS.
            "unsubscribeEmail": flag(customer.get("news_mail") != "T"),
            "unsubscribeTexting": flag(customer.get("sms") != "T"),
        }

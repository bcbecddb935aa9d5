"""Shopify: HMAC-signed webhooks (customers/delete, the mandatory compliance topics) and the
REST Admin API's cursor-paginated customer list. Sources and assumptions: docs/builders.md."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings

from builders.base import (
    Action,
    Builder,
    WebhookEvent,
    WebhookMalformed,
    WebhookRefused,
    body_digest,
    flag,
    header,
    json_object,
    obj,
    text_or_none,
)
from builders.http import PullFailed, next_link
from builders.phones import sort_phone

if TYPE_CHECKING:
    from builders.http import JsonClient
    from builders.models import BuilderInstallation

PAGE_SIZE = 250  # the REST Admin API's largest page
FIELDS = "id,first_name,last_name,email,phone,email_marketing_consent,sms_marketing_consent"

_IGNORED = {"customers/disable", "customers/enable", "customers/update", "customers/create"}


def signature(secret: str, body: bytes) -> str:
    """What Shopify sends in X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Shopify(Builder):
    platform = "shopify"
    label = "Shopify"
    signs_webhooks = True
    can_pull = True

    def verify_webhook(
        self, installation: BuilderInstallation, headers: Mapping[str, str], body: bytes
    ) -> None:
        given = header(headers, "X-Shopify-Hmac-Sha256").strip()
        if not given:
            raise WebhookRefused("X-Shopify-Hmac-Sha256 is missing")
        if not installation.webhook_secret:
            raise WebhookRefused("the installation has no app secret to verify with")
        try:
            decoded = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRefused("X-Shopify-Hmac-Sha256 is not base64") from None
        expected = hmac.new(installation.webhook_secret.encode(), body, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, decoded):
            raise WebhookRefused("X-Shopify-Hmac-Sha256 does not match the body")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        topic = header(headers, "X-Shopify-Topic").strip().lower()
        if not topic:
            raise WebhookMalformed("X-Shopify-Topic is missing")
        data = json_object(body)
        # The HMAC covers the body only: X-Shopify-Webhook-Id (and the topic) could be changed
        # by whoever replays a signed body, so the body's digest is the replay key. Shopify
        # never reuses a customer id, so one customer's delete body is one event for good.
        event_id = body_digest(body)
        shop = (
            header(headers, "X-Shopify-Shop-Domain").strip().lower()
            or str(data.get("shop_domain") or "").lower()
            or None
        )
        if topic == "customers/delete":
            member_id = text_or_none(data.get("id"))
            if member_id is None:
                raise WebhookMalformed("customers/delete without the customer's id")
            return WebhookEvent(event_id, topic, Action.DELETE, shop, member_id=member_id)
        if topic == "customers/redact":
            customer = obj(data, "customer")
            member_id = text_or_none(customer.get("id"))
            email = text_or_none(customer.get("email"))
            if member_id is None and email is None:
                raise WebhookMalformed("customers/redact without the customer's id or email")
            return WebhookEvent(
                event_id,
                topic,
                Action.REDACT,
                shop,
                member_id=member_id,
                email=email,
                detail={"orders_to_redact": len(data.get("orders_to_redact") or [])},
            )
        if topic == "customers/data_request":
            customer = obj(data, "customer")
            request = obj(data, "data_request")
            return WebhookEvent(
                event_id,
                topic,
                Action.DATA_REQUEST,
                shop,
                member_id=text_or_none(customer.get("id")),
                email=text_or_none(customer.get("email")),
                detail={"data_request_id": text_or_none(request.get("id"))},
            )
        if topic == "shop/redact":
            return WebhookEvent(event_id, topic, Action.SHOP_REDACT, shop)
        # customers/disable deletes nothing (R3.5); other topics are not ours to act on.
        return WebhookEvent(event_id, topic, Action.IGNORE, shop)

    # --- pulls ------------------------------------------------------------------------------
    def base_url(self, installation: BuilderInstallation) -> str:
        if installation.api_base_url:
            return installation.api_base_url.rstrip("/")
        version = settings.BUILDER_SHOPIFY_API_VERSION
        return f"https://{installation.shop_id}/admin/api/{version}"

    def customer_pages(
        self, installation: BuilderInstallation, client: JsonClient
    ) -> Iterator[list[dict[str, Any]]]:
        base = self.base_url(installation)
        auth = {"X-Shopify-Access-Token": installation.access_token}
        url: str | None = f"{base}/customers.json"
        params: dict[str, object] | None = {
            "limit": PAGE_SIZE,
            "fields": FIELDS,
            "created_at_max": installation.installed_at.isoformat(),
        }
        while url is not None:
            response = client.get(url, params=params, headers=auth)
            customers = response.data.get("customers") if isinstance(response.data, dict) else None
            if not isinstance(customers, list):
                raise PullFailed(f"{base}/customers.json answered without a customers list")
            yield [c for c in customers if isinstance(c, dict)]
            url = next_link(response.headers)
            if url is not None and not url.startswith(base + "/"):
                raise PullFailed("the next-page link points outside the shop's API")
            params = None  # the next link carries page_info, limit and fields

    def customer_row(self, customer: Mapping[str, Any]) -> dict[str, str]:
        parts = (text_or_none(customer.get("first_name")), text_or_none(customer.get("last_name")))
        name = " ".join(part for part in parts if part)
        mobile, landline = sort_phone(text_or_none(customer.get("phone")))
        return {
            "memberId": text_or_none(customer.get("id")) or "",
            "name": name,
            "email": text_or_none(customer.get("email")) or "",
            "mobileNumber": mobile,
            "landlineNumber": landline,
            "unsubscribeEmail": flag(
                not _consented(
                    customer.get("email_marketing_consent"), customer.get("accepts_marketing")
                )
            ),
            "unsubscribeTexting": flag(not _consented(customer.get("sms_marketing_consent"), None)),
        }


def _consented(consent: object, legacy: object) -> bool:
    """Only an explicit "subscribed" is consent to marketing; no record is no consent."""
    if isinstance(consent, dict):
        return consent.get("state") == "subscribed"
    return legacy is True

"""Builder webhook endpoints (R3.5, R5.2): parse the request, find the installation, call the
service, answer. JSON out: ``{"outcome": …}`` or ``{"errors": {…}}``.

``POST /builders/webhooks/<platform>/<installation id>/<secret token>/`` is every channel's own
endpoint; ``POST /builders/webhooks/shopify/`` is the one URL a Shopify app registers for the
mandatory compliance topics, routed by the verified shop domain.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from builders.base import WebhookMalformed, WebhookRefused, same_secret
from builders.installations import normalized_shop
from builders.models import BuilderInstallation, Platform
from builders.webhooks import webhook_receive
from crm.ratelimit import rate_hit, too_many


def _errors(status: int, key: str, reason: str) -> JsonResponse:
    return JsonResponse({"errors": {key: reason}}, status=status)


def _rate_limited(endpoint: str) -> HttpResponse | None:
    """R7.4: deliveries per installation URL (a builder's retries stay far below it)."""
    state = rate_hit(
        "webhook",
        endpoint,
        limit=settings.WEBHOOK_RATE_LIMIT,
        window=settings.WEBHOOK_RATE_WINDOW_SECONDS,
    )
    return None if state.allowed else too_many(state, "deliveries")


def _receive(request: HttpRequest, installation: BuilderInstallation) -> HttpResponse:
    try:
        received = webhook_receive(
            installation=installation, headers=request.headers, body=request.body
        )
    except WebhookRefused as exc:
        return _errors(401, "signature", exc.reason)
    except WebhookMalformed as exc:
        return _errors(400, "body", exc.reason)
    return JsonResponse({"outcome": received.outcome, "deleted": received.deleted})


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, platform: str, installation_id: int, token: str) -> HttpResponse:
    limited = _rate_limited(f"{platform}/{installation_id}")
    if limited:
        return limited
    installation = (
        BuilderInstallation.objects.select_related("channel")
        .filter(pk=installation_id, platform=platform)
        .first()
    )
    # An unknown installation and a wrong token answer alike: the URL is the secret.
    if installation is None or not same_secret(token, installation.webhook_token):
        return _errors(401, "token", "unknown webhook URL")
    return _receive(request, installation)


@csrf_exempt
@require_POST
def shopify_app_webhook(request: HttpRequest) -> HttpResponse:
    shop = normalized_shop(Platform.SHOPIFY, request.headers.get("X-Shopify-Shop-Domain", ""))
    limited = _rate_limited(f"shopify-app/{shop}")
    if limited:
        return limited
    installation = (
        BuilderInstallation.objects.select_related("channel")
        .filter(platform=Platform.SHOPIFY, shop_id=shop)
        .first()
        if shop
        else None
    )
    if installation is None:
        return _errors(401, "signature", "no installation of this shop to verify with")
    return _receive(request, installation)

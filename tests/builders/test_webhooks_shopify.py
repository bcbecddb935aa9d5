"""Shopify webhooks (R3.5, R5.2): HMAC-SHA256 of the raw body with the app secret, base64 in
X-Shopify-Hmac-Sha256; customers/delete deletes, customers/disable does not; the mandatory
compliance topics; a replay (recognised by the signed body's digest) processed once."""

from __future__ import annotations

import pytest

from builders.models import BuilderInstallation, WebhookReceipt
from builders.shopify import signature
from crm.models import ActivityLog, Channel, Chat, Customer
from tests.builders.conftest import SECRETS, SHOPS, Install, member, payload, post

pytestmark = pytest.mark.django_db

SHOPIFY_ID = "706405506930370084"  # the customer id in the fixtures


def headers(
    topic: str,
    body: bytes,
    *,
    secret: str = SECRETS["shopify"],
    webhook_id: str = "wh-1",
    shop: str = SHOPS["shopify"],
) -> dict[str, str]:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature(secret, body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-API-Version": "2025-01",
        "X-Shopify-Triggered-At": "2025-05-04T00:00:00.000000Z",
    }


@pytest.fixture
def shop(channel: Channel, install: Install) -> BuilderInstallation:
    return install(channel, "shopify")


def test_r3_5_customers_delete_deletes_the_member_keeping_conversations(
    channel: Channel, shop: BuilderInstallation
) -> None:
    customer = member(channel, SHOPIFY_ID, email="bob@biller.com")
    Chat.objects.create(channel=channel, customer=customer)
    body = payload("shopify", "customers_delete.json")
    status, answer = post(shop, body, headers("customers/delete", body))
    assert (status, answer) == (200, {"outcome": "deleted", "deleted": 1})
    assert not Customer.objects.filter(channel=channel).exists()
    assert Chat.objects.get().customer_id is None  # R3.2
    entry = ActivityLog.objects.get(action="customer.delete")
    assert (entry.via, entry.count, entry.customer_id) == ("builder", 1, customer.pk)  # R3.6


def test_r5_2_a_replay_is_recognised_by_the_signed_body_not_the_webhook_id(
    channel: Channel, shop: BuilderInstallation
) -> None:
    """Issue 14's attack: the same signed body with another X-Shopify-Webhook-Id (which the
    HMAC does not cover) deleted a re-created member again."""
    body = payload("shopify", "customers_delete.json")
    member(channel, SHOPIFY_ID)
    assert post(shop, body, headers("customers/delete", body))[1]["outcome"] == "deleted"
    # The member is created again; the same delivery replayed deletes nothing, whatever the
    # unsigned headers say.
    again = member(channel, SHOPIFY_ID)
    for webhook_id in ("wh-1", "wh-2", "replayed-3"):
        sent = headers("customers/delete", body, webhook_id=webhook_id)
        assert post(shop, body, sent)[1]["outcome"] == "duplicate"
    assert Customer.objects.filter(pk=again.pk).exists()
    assert WebhookReceipt.objects.filter(installation=shop).count() == 1


def test_r5_2_a_signed_body_replayed_under_another_topic_acts_not(
    channel: Channel, shop: BuilderInstallation
) -> None:
    """The topic header is not signed either: a customers/disable body (which deletes nothing)
    resent as customers/delete is the delivery already received."""
    customer = member(channel, SHOPIFY_ID)
    body = payload("shopify", "customers_disable.json")
    assert post(shop, body, headers("customers/disable", body))[1]["outcome"] == "ignored"
    sent = headers("customers/delete", body, webhook_id="wh-9")
    assert post(shop, body, sent)[1]["outcome"] == "duplicate"
    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.parametrize(
    "spoil",
    [
        lambda h: h.pop("X-Shopify-Hmac-Sha256"),
        lambda h: h.update({"X-Shopify-Hmac-Sha256": "not base64!"}),
        lambda h: h.update({"X-Shopify-Hmac-Sha256": signature("another-secret", b"{}")}),
        lambda h: h.update({"X-Shopify-Hmac-Sha256": h["X-Shopify-Hmac-Sha256"].lower()}),
    ],
)
def test_r5_2_a_bad_signature_is_401_and_changes_nothing(
    channel: Channel, shop: BuilderInstallation, spoil: object
) -> None:
    customer = member(channel, SHOPIFY_ID)
    body = payload("shopify", "customers_delete.json")
    sent = headers("customers/delete", body)
    spoil(sent)  # type: ignore[operator]
    status, answer = post(shop, body, sent)
    assert status == 401 and "signature" in answer["errors"]
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert not WebhookReceipt.objects.exists()


def test_r5_2_the_body_signed_is_the_body_checked(
    channel: Channel, shop: BuilderInstallation
) -> None:
    customer = member(channel, SHOPIFY_ID)
    signed = payload("shopify", "customers_delete.json")
    tampered = signed.replace(b"706405506930370084", b"706405506930370085")
    status, _ = post(shop, tampered, headers("customers/delete", signed))
    assert status == 401
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_r5_2_a_wrong_url_token_is_401(channel: Channel, shop: BuilderInstallation) -> None:
    member(channel, SHOPIFY_ID)
    body = payload("shopify", "customers_delete.json")
    wrong = f"/builders/webhooks/shopify/{shop.pk}/not-the-token/"
    status, _ = post(shop, body, headers("customers/delete", body), path=wrong)
    assert status == 401
    other_platform = f"/builders/webhooks/cafe24/{shop.pk}/{shop.webhook_token}/"
    assert post(shop, body, headers("customers/delete", body), path=other_platform)[0] == 401
    assert Customer.objects.filter(channel=channel).count() == 1


def test_r8_2_an_event_for_another_channels_shop_changes_nothing(
    channel: Channel, other_channel: Channel, shop: BuilderInstallation, install: Install
) -> None:
    theirs = install(other_channel, "shopify", shop="globex.myshopify.com", webhook_secret="s2")
    mine = member(channel, SHOPIFY_ID)
    their_member = member(other_channel, SHOPIFY_ID)
    body = payload("shopify", "customers_delete.json")
    # Signed with our secret, sent to our URL, but about the other shop.
    status, answer = post(
        shop, body, headers("customers/delete", body, shop="globex.myshopify.com")
    )
    assert (status, answer["outcome"]) == (200, "other_shop")
    # Their shop's event, correctly signed for them, deletes only their customer.
    status, answer = post(
        theirs, body, headers("customers/delete", body, secret="s2", shop="globex.myshopify.com")
    )
    assert answer["outcome"] == "deleted"
    assert Customer.objects.filter(pk=mine.pk).exists()
    assert not Customer.objects.filter(pk=their_member.pk).exists()
    # Our secret on their URL is a bad signature.
    assert post(theirs, body, headers("customers/delete", body, webhook_id="x"))[0] == 401


def test_r3_5_customers_disable_deletes_nothing(
    channel: Channel, shop: BuilderInstallation
) -> None:
    customer = member(channel, SHOPIFY_ID)
    body = payload("shopify", "customers_disable.json")
    status, answer = post(shop, body, headers("customers/disable", body))
    assert (status, answer["outcome"]) == (200, "ignored")
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_customers_redact_erases_the_customer(channel: Channel, shop: BuilderInstallation) -> None:
    by_id = member(channel, SHOPIFY_ID)
    body = payload("shopify", "customers_redact.json")
    assert post(shop, body, headers("customers/redact", body))[1] == {
        "outcome": "deleted",
        "deleted": 1,
    }
    assert not Customer.objects.filter(pk=by_id.pk).exists()


def test_customers_redact_by_email_when_the_id_is_unknown(
    channel: Channel, shop: BuilderInstallation
) -> None:
    by_email = member(channel, "someone-else", email="bob@biller.com")
    untouched = member(channel, "third", email="other@example.com")
    body = payload("shopify", "customers_redact.json")
    assert post(shop, body, headers("customers/redact", body))[1]["outcome"] == "deleted"
    assert not Customer.objects.filter(pk=by_email.pk).exists()
    assert Customer.objects.filter(pk=untouched.pk).exists()


def test_customers_data_request_is_recorded_and_changes_nothing(
    channel: Channel, shop: BuilderInstallation
) -> None:
    customer = member(channel, SHOPIFY_ID)
    body = payload("shopify", "customers_data_request.json")
    status, answer = post(shop, body, headers("customers/data_request", body))
    assert (status, answer["outcome"]) == (200, "recorded")
    receipt = WebhookReceipt.objects.get()
    assert (receipt.topic, receipt.detail["data_request_id"]) == ("customers/data_request", "9999")
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_shop_redact_disconnects_the_installation(
    channel: Channel, shop: BuilderInstallation
) -> None:
    customer = member(channel, SHOPIFY_ID)
    body = payload("shopify", "shop_redact.json")
    assert post(shop, body, headers("shop/redact", body))[1]["outcome"] == "disconnected"
    shop.refresh_from_db()
    assert (shop.active, shop.access_token) == (False, "")
    # Later deliveries are verified and change nothing.
    delete = payload("shopify", "customers_delete.json")
    answer = post(shop, delete, headers("customers/delete", delete, webhook_id="later"))[1]
    assert answer["outcome"] == "disconnected"
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_app_level_compliance_url_routes_by_verified_shop(
    channel: Channel, shop: BuilderInstallation
) -> None:
    customer = member(channel, SHOPIFY_ID)
    body = payload("shopify", "customers_redact.json")
    url = "/builders/webhooks/shopify/"
    assert post(shop, body, headers("customers/redact", body, secret="bad"), path=url)[0] == 401
    assert (
        post(shop, body, headers("customers/redact", body, shop="unknown.myshopify.com"), path=url)[
            0
        ]
        == 401
    )
    status, answer = post(shop, body, headers("customers/redact", body), path=url)
    assert (status, answer["outcome"]) == (200, "deleted")
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_a_verified_body_that_is_not_json_is_400(
    channel: Channel, shop: BuilderInstallation
) -> None:
    body = b"not json"
    status, answer = post(shop, body, headers("customers/delete", body))
    assert status == 400 and "body" in answer["errors"]
    assert not WebhookReceipt.objects.exists()


def test_only_post_reaches_the_endpoint(shop: BuilderInstallation) -> None:
    from django.test import Client

    from builders.installations import webhook_path

    assert Client().get(webhook_path(shop)).status_code == 405

"""Text PostgreSQL cannot store never reaches it (R8.3): a NUL or an unpaired surrogate in a
path, query, header or body is a 400 naming where, on every endpoint (the URL conf is walked,
so a new one is covered too); the back-office's unlisted query parameters are no lookups.

Each attack of issue 14 is reproduced as it was sent; on PostgreSQL (the services pass) each
of them answered 500 before."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from builders.installations import installation_create, webhook_path
from builders.models import BuilderInstallation
from crm.models import ActivityLog, Channel, Customer
from crm.services.channels import NewChannel
from tests.builders.conftest import SECRETS, SHOPS, member
from tests.crm.test_api_support import NEW, Api

pytestmark = pytest.mark.django_db

NUL_REASON = "contains a NUL character (U+0000), which cannot be stored"


def refused(response: Any, where: str) -> str:
    assert response.status_code == 400, response.content[:300]
    errors = response.json()["errors"]
    assert list(errors) == [where]
    return str(errors[where])


def install(channel: Channel, platform: str) -> BuilderInstallation:
    return installation_create(
        channel=channel,
        platform=platform,
        shop_id=SHOPS[platform],
        webhook_secret=SECRETS.get(platform, ""),
    )


@pytest.fixture
def api(new_channel: NewChannel) -> Api:
    return Api.of(new_channel.channel, new_channel.access_secret)


# --- the attacks of issue 14, as sent -------------------------------------------------------


def test_r8_3_nul_in_the_access_key_header_is_400_not_a_database_error(channel: Channel) -> None:
    response = Client().get(
        "/open/v5/users", headers={"x-access-key": "ab\x00cd", "x-access-secret": "s"}
    )
    assert refused(response, "header.X-Access-Key") == NUL_REASON


def test_r8_3_nul_in_a_boot_plugin_key_is_400_and_creates_nothing(channel: Channel) -> None:
    response = Client().post(
        "/front/boot", data='{"pluginKey":"k\\u0000x"}', content_type="application/json"
    )
    assert refused(response, "body.pluginKey") == NUL_REASON
    assert response["Access-Control-Allow-Origin"] == "*"  # the widget can read why
    assert not Customer.objects.exists()


def test_r8_3_an_unpaired_surrogate_in_a_boot_profile_is_400(channel: Channel) -> None:
    body = f'{{"pluginKey": "{channel.plugin_key}", "profile": {{"name": "\\ud800"}}}}'
    response = Client().post("/front/boot", data=body, content_type="text/plain")
    assert "unpaired surrogate (U+D800)" in refused(response, "body.profile.name")
    assert not Customer.objects.exists()


def test_r8_3_nul_in_a_json_key_is_named_escaped(channel: Channel) -> None:
    body = f'{{"pluginKey": "{channel.plugin_key}", "profile": {{"a\\u0000b": "x"}}}}'
    response = Client().post("/front/boot", data=body, content_type="application/json")
    assert refused(response, "body.profile.a\\u0000b") == NUL_REASON


def test_r8_3_nul_in_the_shopify_shop_domain_header_is_400(channel: Channel) -> None:
    response = Client().post(
        "/builders/webhooks/shopify/",
        data=b'{"id": 1}',
        content_type="application/json",
        headers={"X-Shopify-Shop-Domain": "a\x00b.myshopify.com"},
    )
    assert refused(response, "header.X-Shopify-Shop-Domain") == NUL_REASON


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_r8_3_nul_in_a_member_id_path_is_400_with_credentials(
    api: Api, channel: Channel, method: str
) -> None:
    member(channel, "x")
    answer = api.call(method, "/open/v5/users/@x%00", NEW if method == "PUT" else None)
    assert answer.status == 400
    assert answer.body == {"errors": {"path": NUL_REASON}}
    assert Customer.objects.filter(channel=channel).count() == 1


@pytest.mark.parametrize("name", ["memberId", "email", "mobileNumber", "since", "limit"])
def test_r8_3_nul_in_an_api_filter_is_400(api: Api, name: str) -> None:
    answer = api.call("GET", "/open/v5/users", **{name: "x\x00"})
    assert answer.status == 400
    assert answer.body == {"errors": {f"query.{name}": NUL_REASON}}


def test_r8_3_nul_in_an_api_upsert_body_is_400_and_writes_nothing(api: Api) -> None:
    answer = api.put_member("m-1", {**NEW, "profile": {"name": "a\x00"}, "tags": ["t\x00"]})
    assert answer.status == 400
    assert answer.body == {"errors": {"body.profile.name": NUL_REASON}}
    assert not Customer.objects.exists()


def test_r8_3_nul_in_a_makeshop_member_id_is_400_and_deletes_nothing(
    channel: Channel,
) -> None:
    installation = install(channel, "makeshop")
    kept = member(channel, "mx")
    body = '{"event": "member_withdrawal", "shop_id": "acmemall", "member_id": "m\\u0000x"}'
    response = Client().post(webhook_path(installation), data=body, content_type="application/json")
    assert refused(response, "body.member_id") == NUL_REASON
    assert Customer.objects.filter(pk=kept.pk).exists()
    assert not ActivityLog.objects.filter(action=ActivityLog.Action.CUSTOMER_DELETE).exists()


@pytest.fixture
def owner_client(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.mark.parametrize("param", ["email", "member_id", "name", "mobile_number"])
def test_r8_3_admin_contacts_nul_in_an_unlisted_parameter_is_400(
    owner_client: Client, channel: Channel, param: str
) -> None:
    url = reverse("admin:crm_customer_changelist")
    response = owner_client.get(url, {"channel": channel.slug, param: "a\x00b"})
    assert refused(response, f"query.{param}") == NUL_REASON


@pytest.mark.parametrize("param", ["email", "member_id", "name__startswith", "profile__has_key"])
def test_r8_3_unlisted_admin_parameters_are_no_database_lookups(
    owner_client: Client, channel: Channel, param: str
) -> None:
    """``?email=…`` once filtered contacts as a raw lookup; now only the sidebar filters do."""
    member(channel, "m-1", email="kim@example.com")
    url = reverse("admin:crm_customer_changelist")
    response = owner_client.get(url, {"channel": channel.slug, param: "kim@example.com"})
    assert response.status_code == 400
    blocked = reverse("admin:crm_blockedcustomer_changelist")
    assert owner_client.get(blocked, {param: "x"}).status_code == 400


def test_r8_3_declared_admin_filters_still_filter(owner_client: Client, channel: Channel) -> None:
    member(channel, "m-1", email="kim@example.com")
    contacts = reverse("admin:crm_customer_changelist")
    assert owner_client.get(contacts, {"channel": channel.slug, "q": "kim"}).status_code == 200
    activity = reverse("admin:crm_activitylog_changelist")
    response = owner_client.get(activity, {"action__exact": "channel.create"})
    assert response.status_code == 200
    assert owner_client.get(activity, {"channel__id__exact": channel.pk}).status_code == 200
    blocked = reverse("admin:crm_blockedcustomer_changelist")
    assert owner_client.get(blocked, {"channel__id__exact": channel.pk}).status_code == 200


def test_r8_3_admin_autocomplete_nul_in_the_term_is_400(owner_client: Client) -> None:
    query = {
        "app_label": "crm",
        "model_name": "customertag",
        "field_name": "customer",
        "term": "a\x00",
    }
    response = owner_client.get(reverse("admin:autocomplete"), query)
    assert refused(response, "query.term") == NUL_REASON


def test_r8_3_nul_in_the_session_cookie_is_400(owner_client: Client) -> None:
    owner_client.cookies["sessionid"] = "abc\x00def"
    response = owner_client.get(reverse("admin:index"))
    assert refused(response, "cookie.sessionid") == NUL_REASON


def test_r8_3_absurdly_nested_json_is_400(channel: Channel) -> None:
    body = '{"pluginKey": "k", "profile": ' + "[" * 5000 + "]" * 5000 + ', "x": "\\u0041"}'
    response = Client().post("/front/boot", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in next(iter(response.json()["errors"].values()))


def test_r8_3_escaped_text_that_is_storable_passes(channel: Channel) -> None:
    """``\\u`` escapes of ordinary characters (and a literal backslash-u) are fine."""
    body = json.dumps({"pluginKey": channel.plugin_key, "profile": {"name": "김\\u0000"}})
    response = Client().post("/front/boot", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert Customer.objects.get().name == "김\\u0000"


# --- every endpoint of the URL conf, walked ---------------------------------------------------

_SAMPLES = {"int": "1", "slug": "acme", "str": "x", "path": "x", "uuid": "0" * 32}


def _route(text: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLES[m.group(1) or "str"], text)


def _regex(text: str) -> str:
    # Enough for the project's and the admin's regex routes: groups become a sample value.
    text = text.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    text = re.sub(r"\(\?P<\w+>[^()]*(\([^()]*\)[^()]*)*\)", "x", text)
    return re.sub(r"[()?*+\[\]^$|]", "", text)


def endpoints(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        text = str(pattern)
        piece = _regex(text) if pattern.__class__.__name__ == "RegexPattern" else _route(text)
        if isinstance(entry, URLResolver):
            yield from endpoints(entry, prefix + piece)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + piece


ALL = sorted(set(endpoints()))


def test_the_url_conf_walk_reaches_every_edge() -> None:
    for edge in ("/front/boot", "/open/v5/users", "/open/v5/users/@x", "/admin/autocomplete/"):
        assert edge in ALL
    assert any(url.startswith("/builders/webhooks/") for url in ALL)
    assert any(url.startswith("/imports/") for url in ALL)
    assert len(ALL) > 40


@pytest.mark.parametrize("url", ALL)
def test_r8_3_every_endpoint_refuses_unstorable_text_before_it_runs(
    url: str, owner_client: Client, channel: Channel
) -> None:
    bad = "a\x00b"
    assert owner_client.get(url, {"q": bad}).status_code == 400
    assert owner_client.get(url, headers={"x-access-key": bad}).status_code == 400
    response = owner_client.post(url, data='{"a": "\\u0000"}', content_type="application/json")
    assert refused(response, "body.a") == NUL_REASON
    response = owner_client.post(url, {"field": bad})  # multipart
    assert response.status_code == 400
    # A form field by name where the view's forms are parsed (CSRF would), else the raw body.
    assert list(response.json()["errors"]) in (["body.field"], ["body"])
    response = owner_client.put(url, data='["\\udfff"]', content_type="application/json")
    assert response.status_code == 400
    if not url.endswith("/"):
        url += "/"
    assert owner_client.get(url + "%00").status_code == 400


def test_r8_3_a_webhook_installation_is_untouched_by_a_refused_request(
    channel: Channel,
) -> None:
    installation = install(channel, "shopify")
    response = Client().post(
        webhook_path(installation),
        data=b'{"id": "1\\u0000"}',
        content_type="application/json",
        headers={
            "X-Shopify-Topic": "customers/delete",
            "X-Shopify-Hmac-Sha256": SECRETS["shopify"],
        },
    )
    assert refused(response, "body.id") == NUL_REASON
    assert BuilderInstallation.objects.get().active


@pytest.mark.parametrize("url", ["/front/boot", "/admin/login/"])
@pytest.mark.parametrize("boundary", ["", "; boundary=", "; boundary=x"])
def test_r8_3_a_multipart_body_anywhere_is_a_4xx_with_a_reason(
    channel: Channel, boundary: str, url: str
) -> None:
    """Form bodies are parsed by the check only where CSRF would parse them: an exempt view
    (boot) still reads its raw body and says it is not JSON; elsewhere a broken one is 400."""
    body = b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--'
    response = Client().post(url, data=body, content_type="multipart/form-data" + boundary)
    if url == "/front/boot" or not boundary.endswith("x"):
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
    else:
        assert response.status_code == 200  # a well-formed form: the login page answers it


@pytest.mark.parametrize("url", ["/open/v5/users", "/front/boot"])
def test_r8_3_a_body_over_what_django_reads_is_a_413_with_a_reason(
    url: str, settings: Any, channel: Channel
) -> None:
    """Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) answered a bare HTML 400 before."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"pluginKey": channel.plugin_key, "x": "a" * 1000})
    response = Client().post(url, data=body, content_type="application/json")
    assert response.status_code == 413
    reason = "the body is over 1000 bytes, more than this server reads"
    assert response.json() == {"errors": {"body": reason}}

"""The Open API's schema (R6.5): at a stable URL, with a docs page, and every answer the API
gives in these tests matches what the schema says for that path, method and status."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from jsonschema import Draft202012Validator

from crm.services.channels import NewChannel, channel_create
from crm.services.profile_keys import profile_key_create
from tests.conftest import make_user
from tests.crm.test_api_support import NEW, Answer, Api

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/open/v5/openapi.json"


def schema() -> dict[str, Any]:
    response = Client().get(SCHEMA_URL)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operation(doc: dict[str, Any], answer: Answer) -> dict[str, Any]:
    for template, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^?]+", re.escape(template)) + "$"
        if re.match(pattern, answer.path.split("?")[0]) and answer.method in item:
            if template.endswith("{id}") and not answer.path.rsplit("/", 1)[1].isdigit():
                continue
            return item[answer.method]  # type: ignore[no-any-return]
    raise AssertionError(f"{answer.method.upper()} {answer.path} is not in the schema")


def check(doc: dict[str, Any], answer: Answer) -> None:
    responses = operation(doc, answer)["responses"]
    assert str(answer.status) in responses, f"{answer.status} undocumented for {answer.path}"
    content = responses[str(answer.status)].get("content")
    if content is None:
        assert answer.body is None
        return
    wrapper = {**content["application/json"]["schema"], "components": doc["components"]}
    errors = sorted(Draft202012Validator(wrapper).iter_errors(answer.body), key=str)
    assert not errors, f"{answer.method} {answer.path} {answer.status}: {errors[0]}"


def test_r6_5_schema_is_served_and_documents_every_endpoint() -> None:
    doc = schema()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {
        "/open/v5/users",
        "/open/v5/users/{id}",
        "/open/v5/users/@{memberId}",
    }
    assert {"put", "get", "delete"} <= set(doc["paths"]["/open/v5/users/@{memberId}"])
    schemes = doc["components"]["securitySchemes"]
    assert {s["name"] for s in schemes.values()} == {"x-access-key", "x-access-secret"}
    Draft202012Validator.check_schema(doc["components"]["schemas"]["User"])
    docs = Client().get("/open/v5/docs")
    assert docs.status_code == 200 and SCHEMA_URL.encode() in docs.content
    # Its script is served by us (drf-spectacular-sidecar), not fetched from a CDN.
    assert b"/static/drf_spectacular_sidecar/redoc/" in docs.content
    assert b"cdn.jsdelivr" not in docs.content


@override_settings(API_RATE_LIMIT=40)
def test_r6_5_answers_match_the_schema(new_channel: NewChannel) -> None:
    cache.clear()
    doc = schema()
    channel = new_channel.channel
    profile_key_create(channel=channel, key="grade", type="string", by=None)
    api = Api.of(channel, new_channel.access_secret)
    other = channel_create(slug="globex", name="Globex", owner=make_user("o2"))
    answers = [
        api.put_member("m-1", {"profile": {"name": "김", "grade": "a"}, "tags": ["vip"], **NEW}),
        api.put_member("m-1", {"profileOnce": {"email": "k@example.com"}}),
        api.put_member("m-2", {"profile": {"grade": 5, "x": 1}}),
        api.put_member("m-3", {"tags": "vip"}),
        api.get_member("m-1"),
        api.get_member("nobody"),
        api.call("GET", "/open/v5/users", limit="1"),
        api.call("GET", "/open/v5/users", email="not an email"),
        Api(None, None).call("GET", "/open/v5/users"),
        Api.of(other.channel, "wrong").get_member("m-1"),
    ]
    user_id = answers[0].body["user"]["id"]
    answers += [
        api.call("GET", f"/open/v5/users/{user_id}"),
        api.call("GET", "/open/v5/users/424242"),
        api.delete_member("m-1"),
        api.call("DELETE", f"/open/v5/users/{user_id}"),
    ]
    with override_settings(API_RATE_LIMIT=1):
        answers.append(api.call("GET", "/open/v5/users"))
    assert {a.status for a in answers} == {200, 201, 204, 400, 401, 404, 422, 429}
    for answer in answers:
        check(doc, answer)

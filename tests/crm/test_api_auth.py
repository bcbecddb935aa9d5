"""Open API access (R6.1, R8.2): per-channel keys, another channel's data, rate limits."""

from __future__ import annotations

import pytest
from django.test import override_settings

from crm.models import Channel, Customer
from crm.services.channels import NewChannel, channel_create, channel_rotate_access_secret
from tests.conftest import make_user
from tests.crm.test_api_support import NEW, Api

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(rate_clock: list[float]) -> list[float]:
    return rate_clock


@pytest.fixture
def api(new_channel: NewChannel) -> Api:
    return Api.of(new_channel.channel, new_channel.access_secret)


@pytest.fixture
def other() -> NewChannel:
    return channel_create(slug="globex", name="Globex", owner=make_user("globex-owner"))


ENDPOINTS = [
    ("GET", "/open/v5/users"),
    ("GET", "/open/v5/users/1"),
    ("DELETE", "/open/v5/users/1"),
    ("GET", "/open/v5/users/@m-1"),
    ("PUT", "/open/v5/users/@m-1"),
    ("DELETE", "/open/v5/users/@m-1"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_r6_1_missing_or_wrong_credentials_answer_401_and_change_nothing(
    method: str, path: str, new_channel: NewChannel, other: NewChannel
) -> None:
    channel = new_channel.channel
    body = NEW if method == "PUT" else None
    callers = [
        Api(None, None),
        Api(channel.access_key, None),
        Api(None, new_channel.access_secret),
        Api(channel.access_key, "wrong"),
        Api("no-such-key", new_channel.access_secret),
        Api(channel.access_key, other.access_secret),  # a secret of another channel
    ]
    for caller in callers:
        answer = caller.call(method, path, body)
        assert answer.status == 401, (caller.headers, answer.body)
        assert "auth" in answer.body["errors"]
        assert "x-ratelimit-limit" not in answer.headers
    assert not Customer.objects.exists()


def test_r6_1_a_rotated_secret_stops_working(api: Api, channel: Channel) -> None:
    assert api.call("GET", "/open/v5/users").status == 200
    secret = channel_rotate_access_secret(channel=channel)
    assert api.call("GET", "/open/v5/users").status == 401
    assert Api(channel.access_key, secret).call("GET", "/open/v5/users").status == 200


def test_r8_2_a_key_never_reaches_another_channels_users(api: Api, other: NewChannel) -> None:
    theirs = Api.of(other.channel, other.access_secret)
    user = theirs.put_member("shared-id", NEW).body["user"]
    # The same memberId, the other channel's id: not found, never changed, never deleted.
    assert api.get_member("shared-id").status == 404
    assert api.call("GET", f"/open/v5/users/{user['id']}").status == 404
    assert api.call("DELETE", f"/open/v5/users/{user['id']}").status == 404
    assert api.delete_member("shared-id").status == 404
    listed = api.call("GET", "/open/v5/users", memberId="shared-id")
    assert listed.body == {"users": [], "next": None}
    # An upsert of the same memberId makes this channel's own user.
    mine = api.put_member("shared-id", NEW)
    assert mine.status == 201 and mine.body["user"]["id"] != user["id"]
    assert Customer.objects.get(pk=user["id"]).channel_id == other.channel.pk


@override_settings(API_RATE_LIMIT=3, API_RATE_WINDOW_SECONDS=60)
def test_rate_limit_headers_and_429_per_access_key(api: Api, other: NewChannel) -> None:
    answers = [api.call("GET", "/open/v5/users") for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["x-ratelimit-limit"] for a in answers} == {"3"}
    resets = {int(a.headers["x-ratelimit-reset"]) for a in answers}
    assert len(resets) == 1
    limited = answers[-1]
    assert "rate" in limited.body["errors"]
    assert limited.headers["retry-after"] == "30"  # the clock stands 30 s into the window
    # Writes are counted and refused too; another key has its own count.
    assert api.put_member("m-1", NEW).status == 429
    assert not Customer.objects.exists()
    theirs = Api.of(other.channel, other.access_secret).call("GET", "/open/v5/users")
    assert theirs.status == 200 and theirs.headers["x-ratelimit-remaining"] == "2"


@override_settings(API_RATE_LIMIT=2, API_RATE_WINDOW_SECONDS=10)
def test_rate_limit_window_resets(api: Api, clock: list[float]) -> None:
    statuses = [api.call("GET", "/open/v5/users").status for _ in range(3)]
    assert statuses[-1] == 429
    clock[0] += 10  # the next window
    again = api.call("GET", "/open/v5/users")
    assert again.status == 200 and again.headers["x-ratelimit-remaining"] == "1"


@pytest.mark.redis
@override_settings(API_RATE_LIMIT=5, API_RATE_WINDOW_SECONDS=60)
def test_rate_limit_counts_in_redis_when_configured(api: Api) -> None:
    """The count lives in the shared cache (Redis), so every web process sees the same."""
    from django.conf import settings
    from django.core.cache import caches

    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
    api.call("GET", "/open/v5/users")
    keys = [k for k in caches["default"]._cache.get_client().keys("*:open-api:*")]  # type: ignore[attr-defined]
    assert keys

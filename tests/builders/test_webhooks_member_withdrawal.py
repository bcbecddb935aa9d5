"""Member-withdrawal webhooks of Cafe24, MakeShop, Shopby and imweb (R3.5, R5.2): the member
who left the site is deleted; a wrong URL token (and, for Cafe24, a wrong x-api-key) is 401
and changes nothing; another shop's event changes nothing; a replay is processed once."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from builders.models import BuilderInstallation, WebhookReceipt
from crm.models import ActivityLog, Channel, Chat, Customer
from tests.builders.conftest import SECRETS, Install, member, payload, post

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    platform: str
    fixture: str
    member_id: str
    shop_path: tuple[str, ...]  # where the payload names the shop
    headers: dict[str, str]


CASES = [
    Case(
        "cafe24",
        "member_withdrawal.json",
        "kim123",
        ("resource", "mall_id"),
        {"x-api-key": SECRETS["cafe24"]},
    ),
    Case("shopby", "member_withdraw.json", "shopby_kim", ("mallNo",), {}),
    Case("imweb", "member_withdraw.json", "m20250905abc", ("siteCode",), {}),
    Case("makeshop", "member_withdrawal.json", "makeshop_kim", ("shop_id",), {}),
]
IDS = [c.platform for c in CASES]


def with_shop(case: Case, shop: str) -> bytes:
    data = json.loads(payload(case.platform, case.fixture))
    node = data
    for key in case.shop_path[:-1]:
        node = node[key]
    node[case.shop_path[-1]] = shop
    return json.dumps(data).encode()


@pytest.fixture(params=CASES, ids=IDS)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def site(channel: Channel, install: Install, case: Case) -> BuilderInstallation:
    return install(channel, case.platform)


def test_r3_5_withdrawal_deletes_the_member(
    channel: Channel, site: BuilderInstallation, case: Case
) -> None:
    leaving = member(channel, case.member_id, email="minji@example.kr")
    staying = member(channel, "someone-else")
    Chat.objects.create(channel=channel, customer=leaving)
    status, answer = post(site, payload(case.platform, case.fixture), case.headers)
    assert (status, answer) == (200, {"outcome": "deleted", "deleted": 1})
    assert list(Customer.objects.filter(channel=channel)) == [staying]
    assert Chat.objects.get().customer_id is None
    assert ActivityLog.objects.get(action="customer.delete").via == "builder"


def test_r5_2_replay_is_processed_once(
    channel: Channel, site: BuilderInstallation, case: Case
) -> None:
    body = payload(case.platform, case.fixture)
    member(channel, case.member_id)
    assert post(site, body, case.headers)[1]["outcome"] == "deleted"
    back = member(channel, case.member_id)  # signed up again since
    assert post(site, body, case.headers)[1]["outcome"] == "duplicate"
    assert Customer.objects.filter(pk=back.pk).exists()


def test_r5_2_a_wrong_token_is_401_and_changes_nothing(
    channel: Channel, site: BuilderInstallation, case: Case
) -> None:
    customer = member(channel, case.member_id)
    body = payload(case.platform, case.fixture)
    for path in (
        f"/builders/webhooks/{case.platform}/{site.pk}/{site.webhook_token[:-1]}x/",
        f"/builders/webhooks/{case.platform}/{site.pk + 1000}/{site.webhook_token}/",
    ):
        status, answer = post(site, body, case.headers, path=path)
        assert status == 401 and "token" in answer["errors"]
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert not WebhookReceipt.objects.exists()


def test_r8_2_another_shops_event_changes_nothing(
    channel: Channel, site: BuilderInstallation, case: Case
) -> None:
    customer = member(channel, case.member_id)
    status, answer = post(site, with_shop(case, "someone-elses-shop"), case.headers)
    assert (status, answer["outcome"]) == (200, "other_shop")
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_r8_2_a_withdrawal_never_reaches_another_channel(
    channel: Channel, other_channel: Channel, site: BuilderInstallation, case: Case
) -> None:
    theirs = member(other_channel, case.member_id)
    status, answer = post(site, payload(case.platform, case.fixture), case.headers)
    assert (status, answer["outcome"]) == (200, "not_found")
    assert Customer.objects.filter(pk=theirs.pk).exists()


def test_cafe24_checks_the_service_key_it_sends(channel: Channel, install: Install) -> None:
    site = install(channel, "cafe24")
    customer = member(channel, "kim123")
    body = payload("cafe24", "member_withdrawal.json")
    for sent in ({}, {"x-api-key": "wrong"}):
        status, answer = post(site, body, sent)
        assert status == 401 and "signature" in answer["errors"]
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_cafe24_other_events_change_nothing(channel: Channel, install: Install) -> None:
    site = install(channel, "cafe24")
    customer = member(channel, "kim123")
    body = payload("cafe24", "member_login.json")
    assert post(site, body, {"x-api-key": SECRETS["cafe24"]})[1]["outcome"] == "ignored"
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_shopby_member_info_changed_changes_nothing(channel: Channel, install: Install) -> None:
    site = install(channel, "shopby")
    customer = member(channel, "shopby_kim", email="minji@example.kr")
    assert post(site, payload("shopby", "member_info_changed.json"))[1]["outcome"] == "ignored"
    customer.refresh_from_db()
    assert customer.email == "minji@example.kr"


def test_shopby_external_id_members_are_known_by_member_no(
    channel: Channel, install: Install
) -> None:
    site = install(channel, "shopby")
    kakao = member(channel, "2345679")
    _status, answer = post(site, payload("shopby", "member_withdraw_kakao.json"))
    assert answer["outcome"] == "deleted"
    assert not Customer.objects.filter(pk=kakao.pk).exists()


def test_a_withdrawal_without_a_member_is_400(channel: Channel, install: Install) -> None:
    site = install(channel, "makeshop")
    body = json.dumps({"event": "member_withdrawal", "shop_id": "acmemall"}).encode()
    status, answer = post(site, body)
    assert status == 400 and "body" in answer["errors"]

"""R11.4: the customer's timeline and the activity log read as sentences in the manager's
language, each entry leading to what it is about."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import ActivityLog, Channel, Customer, DeletionJob, ManagerSettings
from crm.services.blocking import customer_block, customer_unblock
from crm.services.customers import customer_update
from tests.importer.conftest import run_import, write_csv

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("korean")]

LOG = reverse("admin:crm_activitylog_changelist")
HEADERS = ("memberId", "name", "unsubscribeEmail", "unsubscribeTexting")


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def kim(channel: Channel, owner: Any, tmp_path: Path) -> Customer:
    """Created by an import, updated by a second one, edited, blocked and unblocked by the owner."""
    first = write_csv(tmp_path / "회원 5월.csv", [[*HEADERS], ["m-1", "김민준", "false", "false"]])
    run_import(channel, first, "--kind", "member", "--tag", "5월 행사")
    second = write_csv(
        tmp_path / "회원 6월.csv", [[*HEADERS], ["m-1", "김민준2", "false", "false"]]
    )
    run_import(channel, second, "--kind", "member", "--tag", "6월 행사")
    customer = Customer.objects.get(channel=channel, member_id="m-1")
    customer_update(channel=channel, customer=customer, values={"name": "김민준"}, by=owner)
    customer_block(channel=channel, customer=customer, by=owner, reason="광고 스팸")
    customer_unblock(channel=channel, customer=customer, by=owner)
    return customer


def first_import(customer: Customer) -> int:
    from importer.models import ImportJob

    return ImportJob.objects.get(channel_id=customer.channel_id, tag="5월 행사").pk


def page(user: Any, url: str, **params: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def timeline(html: str) -> list[str]:
    block = html[html.index('id="timeline"') :]
    return [
        re.sub(r"<[^>]+>", "", text).strip()
        for text in re.findall(r'<span class="crm-event-text">(.*?)</span>', block, re.S)
    ]


def test_r11_4_the_timeline_tells_who_changed_the_customer_newest_first(
    owner: Any, kim: Customer
) -> None:
    events = timeline(page(owner, reverse("admin:crm_customer_change", args=[kim.pk])))
    assert events == [
        "owner님이 고객의 차단을 해제했습니다",
        "owner님이 고객을 차단했습니다: 광고 스팸",
        "owner님이 name을(를) 변경했습니다",
        "명령줄에서 회원 6월.csv 파일을 가져와 name을(를) 업데이트했습니다 (태그 6월 행사)",
        f"이메일 수신 동의, 문자 수신 동의 · 가져오기 #{first_import(kim)}",  # R2.16b
        "명령줄에서 회원 5월.csv 파일을 가져와 고객을 만들었습니다 (태그 5월 행사)",
    ]


def test_r11_4_the_timeline_in_english(owner: Any, kim: Customer) -> None:
    ManagerSettings.objects.create(user=owner, language="en")
    events = timeline(page(owner, reverse("admin:crm_customer_change", args=[kim.pk])))
    assert events[0] == "owner unblocked the customer"
    assert (
        events[-1]
        == "The command line created the customer by importing 회원 5월.csv (tag 5월 행사)"
    )


def test_r11_4_the_activity_log_reads_as_sentences_linking_to_their_object(
    owner: Any, kim: Customer
) -> None:
    html = page(owner, LOG)
    assert (
        "가져오기 작업이 회원 5월.csv 파일을 가져왔습니다: 1명 생성, 0명 업데이트, 0행 실패" in html
    )
    assert "owner님이 고객을 차단했습니다: 광고 스팸" in html
    assert reverse("admin:crm_customer_change", args=[kim.pk]) in html
    job = ActivityLog.objects.filter(action="import").order_by("pk").first()
    assert job is not None
    assert reverse("importer:job", args=["acme", job.detail["import"]]) in html
    assert '{"' not in html  # no raw JSON


def test_r11_4_the_activity_log_filters_by_action_and_manager(
    owner: Any, agent: Any, kim: Customer, channel: Channel
) -> None:
    customer_block(channel=channel, customer=kim, by=agent)
    blocks = page(owner, LOG, action__exact="customer.block")
    assert "agent님이 고객을 차단했습니다" in blocks and "가져왔습니다" not in blocks
    by_agent = page(owner, LOG, actor__id__exact=str(agent.pk))
    assert "agent님이 고객을 차단했습니다" in by_agent
    assert "owner님이" not in by_agent


def test_r11_4_a_running_deletion_shows_on_contacts_with_its_progress(
    owner: Any, channel: Channel
) -> None:
    job = DeletionJob.objects.create(
        channel=channel,
        requested_by=owner,
        via="bulk",
        description="가져오기 태그 “5월 행사”",
        total=200000,
        deleted=50000,
        status=DeletionJob.Status.RUNNING,
    )
    html = page(owner, reverse("admin:crm_customer_changelist"))
    panel = html[html.index('id="running-jobs"') :]
    assert "고객 삭제 중 (가져오기 태그 “5월 행사”)" in panel
    assert "200,000 중 50,000" in panel
    assert reverse("admin:crm_deletion", args=[job.pk]) in panel
    job.status = DeletionJob.Status.SUCCEEDED
    job.save()
    assert 'id="running-jobs"' not in page(owner, reverse("admin:crm_customer_changelist"))

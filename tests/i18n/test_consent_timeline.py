"""R2.16b on the customer's profile (R11.4): the consent history in its timeline, and each
flag's present state with when and through what it was set, in Korean and in English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from crm.models import Channel, Customer, ManagerSettings
from crm.services.api_users import api_user_upsert
from crm.services.consent import ConsentSource, consent_record, consent_values
from crm.services.customers import customer_update
from importer.models import ImportJob
from importer.undo import run_undo, undo_start
from tests.i18n.test_screens import page, timeline
from tests.importer.conftest import run_import, write_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("korean")]

HEADERS = ("memberId", "name", "unsubscribeEmail", "unsubscribeTexting")


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def lee(channel: Channel, owner: Any, tmp_path: Path) -> Customer:
    """Imported opted in to both; a second import opts out of email and is undone; the Open API
    opts out of texts; the owner opts back in to texts; an input form opts out of email."""
    owner.first_name = "김매니저"
    owner.save()
    first = write_csv(tmp_path / "a.csv", [[*HEADERS], ["m-2", "이서연", "false", "false"]])
    run_import(channel, first, "--kind", "member", "--tag", "a")
    second = write_csv(tmp_path / "b.csv", [[*HEADERS], ["m-2", "이서연", "true", ""]])
    run_import(channel, second, "--kind", "member", "--tag", "b")
    run_undo(undo_start(job=imported("b"), by=owner, dispatch=False).pk)
    api_user_upsert(channel=channel, member_id="m-2", unsubscribe_texting=True)
    customer = Customer.objects.get(channel=channel, member_id="m-2")
    customer_update(
        channel=channel, customer=customer, values={"unsubscribeTexting": "false"}, by=owner
    )
    customer.refresh_from_db()
    before = consent_values(customer)
    customer.unsubscribe_email = True
    customer.save()
    consent_record(customer=customer, before=before, source=ConsentSource.form(5, name="뉴스레터"))
    return customer


def imported(tag: str) -> ImportJob:
    return ImportJob.objects.get(tag=tag, undoes=None)


def profile(owner: Any, customer: Customer) -> str:
    return page(owner, reverse("admin:crm_customer_change", args=[customer.pk]))


def consent_lines(html: str) -> list[str]:
    block = html[html.index('id="consent"') : html.index("</ul>", html.index('id="consent"'))]
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<li>(.*?)</li>", block, re.S)]


def test_r2_16b_the_timeline_tells_each_consent_change_and_its_source_in_korean(
    owner: Any, lee: Customer
) -> None:
    a, b = (imported(t).pk for t in ("a", "b"))
    html = profile(owner, lee)
    consent = [e for e in timeline(html) if "수신" in e]
    assert consent == [
        "이메일 수신 거부 (이전: 수신 동의) · 입력 폼 뉴스레터",
        "문자 수신 동의 (이전: 수신 거부) · 김매니저 매니저",
        "문자 수신 거부 (이전: 수신 동의) · Open API",
        f"이메일 수신 동의 (이전: 수신 거부) · 가져오기 #{b} 취소",
        f"이메일 수신 거부 (이전: 수신 동의) · 가져오기 #{b}",
        f"이메일 수신 동의, 문자 수신 동의 · 가져오기 #{a}",
    ]
    # The import's entries lead to the import (the undo's to the import it undid).
    assert reverse("importer:job", args=["acme", b]) in html
    # When did they opt out, and through what: the present state of each flag.
    lines = consent_lines(html)
    assert len(lines) == 2
    assert lines[0].startswith("이메일: ") and lines[0].endswith(
        "부터 수신 거부 (입력 폼 뉴스레터)"
    )
    assert lines[1].startswith("문자: ") and "부터 수신 동의 (" in lines[1]


def test_r2_16b_the_timeline_in_english(owner: Any, lee: Customer) -> None:
    ManagerSettings.objects.create(user=owner, language="en")
    b = imported("b").pk
    html = profile(owner, lee)
    events = timeline(html)
    assert "Email opted out (before: opted in) · input form 뉴스레터" in events
    assert f"Email opted in (before: opted out) · undo of import #{b}" in events
    assert "Text messages opted out (before: opted in) · Open API" in events
    lines = consent_lines(html)
    assert lines[0].startswith("Email: opted out since ")
    assert lines[0].endswith("(input form 뉴스레터)")


def test_r2_16b_a_customer_without_history_shows_its_flags_and_no_consent_event(
    owner: Any, channel: Channel
) -> None:
    customer = Customer.objects.create(channel=channel, member_id="old", unsubscribe_email=True)
    html = profile(owner, customer)
    assert consent_lines(html) == ["이메일: 수신 거부", "문자: 미지정"]
    assert not [e for e in timeline(html) if "수신" in e]

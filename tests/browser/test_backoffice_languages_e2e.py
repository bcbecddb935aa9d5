"""The back-office in Korean and in English in headless Chromium (R11.1, R11.2, R11.4): contacts
-> a customer's profile with its timeline -> block -> blocked customers -> unblock -> activity
log -> import log, as a manager of a Korean channel (Korean by default) and as one who chose
English. The Korean walk must show no stock English admin phrase. Screenshots of every step go to
docs/screenshots/tmp/ (the README shows the Korean ones).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from crm.models import Channel, ManagerSettings
from crm.services.channels import channel_create
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The admin's own English that a Korean manager must never meet (data aside).
STOCK_ENGLISH = [
    "Log out",
    "Change password",
    "Home",
    "Select ",
    " to change",
    " to view",
    "Save and continue editing",
    "Filter",
    "Clear all filters",
    "Welcome",
    "Action:",
    "Run the selected action",
    "Delete",
    "History",
    "Contacts",
    "Blocked customers",
    "Activity log",
    "Import log",
    "Timeline",
    "customers",
]

WORDS = {
    "ko": {
        "contacts": "연락처",
        "timeline": "타임라인",
        "block": "차단",
        "blocked_done": "고객을 차단했습니다",
        "blocked_list": "차단된 고객",
        "unblock": "차단 해제",
        "unblocked_done": "차단을 해제했습니다",
        "activity": "활동 기록",
        "import_sentence": "회원 5월.csv 파일을 가져왔습니다: 2명 생성",
        "blocked_sentence": "kim님이 고객을 차단했습니다: 광고 스팸",
        "import_log": "가져오기 기록",
        "phone": "010-1111-2222",
    },
    "en": {
        "contacts": "Contacts",
        "timeline": "Timeline",
        "block": "Block",
        "blocked_done": "is blocked",
        "blocked_list": "Blocked customers",
        "unblock": "Unblock",
        "unblocked_done": "is unblocked",
        "activity": "Activity log",
        "import_sentence": "imported 회원 5월.csv: 2 created",
        "blocked_sentence": "kim blocked the customer: 광고 스팸",
        "import_log": "Import log",
        "phone": "010-1111-2222",
    },
}


@pytest.fixture
def channel(db: None, tmp_path: Path, settings: Any) -> Channel:
    owner = make_user("kim", email="kim@example.com")
    channel = channel_create(slug="acme", name="Acme 상점", owner=owner).channel
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        [
            ["memberId", "name", "mobileNumber", "unsubscribeEmail", "unsubscribeTexting"],
            ["M001", "김철수", "010-1111-2222", "false", "false"],
            ["M002", "이영희", "010-3333-4444", "false", "true"],
        ]
    )
    path = tmp_path / "회원 5월.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    call_command(
        "import_customers",
        "acme",
        str(path),
        "--kind",
        "member",
        "--tag",
        "5월 행사",
        stdout=io.StringIO(),
    )
    return channel


def no_stock_english(page: Page) -> None:
    text = page.locator("body").inner_text()
    found = [phrase for phrase in STOCK_ENGLISH if phrase in text]
    assert not found, f"English admin phrases on a Korean page {page.url}: {found}"


@pytest.mark.parametrize("language", ["ko", "en"])
def test_r11_4_the_back_office_walk_in_each_language(
    page: Page,
    live_server: Any,
    channel: Channel,
    screenshots: Path,
    settings: Any,
    language: str,
) -> None:
    settings.LANGUAGE_CODE = "ko"
    settings.LANGUAGE_BY_COUNTRY = {"KR": "ko"}
    if language == "en":
        ManagerSettings.objects.create(user=channel.memberships.get().user, language="en")
    words = WORDS[language]
    page.set_default_timeout(30_000)

    def step(name: str) -> None:
        page.screenshot(path=str(screenshots / f"backoffice-{language}-{name}.png"), full_page=True)
        if language == "ko":
            no_stock_english(page)

    # The login page follows the browser's language.
    browser_language = "ko-KR,ko;q=0.9" if language == "ko" else "en-US,en;q=0.9"
    page.set_extra_http_headers({"Accept-Language": browser_language})
    page.goto(f"{live_server.url}/admin/login/")
    login = "로그인" if language == "ko" else "Log in"
    expect(page.locator("input[type=submit]")).to_have_value(login)
    page.fill("#id_username", "kim")
    page.fill("#id_password", "pw-kim")
    page.click("input[type=submit]")

    # Contacts: the channel's customers, phones in the national format.
    page.goto(f"{live_server.url}/admin/crm/customer/")
    expect(page.locator("h1")).to_have_text(words["contacts"])
    expect(page.locator("#result_list")).to_contain_text(words["phone"])
    step("1-contacts")

    # The profile with its timeline: the import that created the customer.
    page.get_by_role("link", name="김철수").click()
    expect(page.locator("#timeline h2")).to_have_text(words["timeline"])
    expect(page.locator("#timeline")).to_contain_text("회원 5월.csv")
    step("2-profile")

    # Block, with a reason.
    page.locator(".object-tools").get_by_role("link", name=words["block"], exact=True).click()
    page.fill("#id_reason", "광고 스팸")
    step("3-block")
    page.locator("input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text(words["blocked_done"])
    expect(page.locator("#timeline")).to_contain_text("광고 스팸")
    step("4-blocked-profile")

    # Blocked customers, then unblock from there.
    page.goto(f"{live_server.url}/admin/crm/blockedcustomer/")
    expect(page.locator("h1")).to_have_text(words["blocked_list"])
    expect(page.locator("#result_list")).to_contain_text("김철수")
    step("5-blocked-customers")
    page.locator("#result_list").get_by_role("link", name=words["unblock"], exact=True).click()
    step("6-unblock")
    page.locator("input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text(words["unblocked_done"])

    # The activity log as sentences, each leading to its object.
    page.goto(f"{live_server.url}/admin/crm/activitylog/")
    expect(page.locator("h1")).to_have_text(words["activity"])
    log = page.locator("#result_list")
    expect(log).to_contain_text(words["import_sentence"])
    expect(log).to_contain_text(words["blocked_sentence"])
    step("7-activity-log")

    # The import log, reached from contacts.
    page.goto(f"{live_server.url}/admin/crm/customer/")
    page.locator(".object-tools").get_by_role("link", name=words["import_log"]).click()
    expect(page.locator("#import-log")).to_contain_text("회원 5월.csv")
    expect(page).to_have_url(re.compile(r"/imports/acme/$"))
    step("8-import-log")

    # The import's result.
    page.locator("#import-log tbody a").first.click()
    expect(page.locator("#result-counts")).to_be_visible()
    step("9-import-result")

"""The import wizard end to end in headless Chromium (R2.1 to R2.22): log in, upload a CP949 CSV
of good and bad rows, map a column to a key created on the spot, check, import, watch the bar
reach 100 %, download the failure log, read the inbox, find the import's customers.

Every step leaves a screenshot in docs/screenshots/tmp/ (the README shows two of them).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from crm.models import Channel
from crm.services.channels import channel_create
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEAD = ["회원번호", "이름", "이메일", "휴대폰", "등급", "이메일수신거부", "문자수신거부"]
ROWS = [
    ["M001", "김철수", "kim@example.com", "+821011112222", "VIP", "false", "true"],
    ["M002", "이영희", "lee@example.com", "+82 010-3333-4444", "일반", "true", "false"],
    ["M003", "박민수", "not-an-email", "+821055556666", "VIP", "false", "false"],
    ["", "최지우", "choi@example.com", "+821077778888", "일반", "false", "false"],
    ["M004", "정우성", "jung@example.com", "010-1234", "일반", "false", "true"],
    ["M005", "한가인", "han@example.com", "+821099990000", "골드", "false", "false"],
]
TIMEOUT = 90_000  # ms: a worker may need to start on a busy machine


def cp949_file(folder: Path) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEAD, *ROWS])
    path = folder / "회원 5월.csv"
    path.write_bytes(out.getvalue().encode("cp949"))
    return path


def choose(page: Page, select_id: str, text: str) -> None:
    """Pick an option in a searchable select (select2) with the keyboard, as a manager would."""
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially(text)
    page.locator(".select2-results__option--highlighted", has_text=text).wait_for()
    page.keyboard.press("Enter")


@pytest.fixture
def channel(db: None) -> Channel:
    owner = make_user("kim", email="kim@example.com")
    return channel_create(slug="acme", name="Acme 상점", owner=owner).channel


def test_import_wizard_end_to_end(
    page: Page,
    live_server: Any,
    channel: Channel,
    tmp_path: Path,
    screenshots: Path,
    request: pytest.FixtureRequest,
) -> None:
    if settings.REDIS_URL:
        request.getfixturevalue("celery_worker_process")  # the real worker runs check and import
    page.set_default_timeout(TIMEOUT)

    def shot(name: str) -> None:
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)

    # Log in; the back-office sends the manager on to the wizard.
    page.goto(f"{live_server.url}/admin/login/?next=/imports/")
    page.fill("#id_username", "kim")
    page.fill("#id_password", "pw-kim")
    page.click("input[type=submit]")
    expect(page.locator("h1")).to_have_text("Import customers")
    expect(page.locator("#templates")).to_contain_text("Leads by mobile number")
    shot("01-start")

    # 1 Start: a member import (the default).
    page.get_by_role("button", name="Next: upload the file").click()
    expect(page.locator(".dropzone")).to_contain_text("Up to 200 MB")
    shot("02-upload")

    # 2 Upload a CP949 CSV: the encoding is detected and shown.
    page.set_input_files("input[type=file]", str(cp949_file(tmp_path)))
    expect(page.locator("[data-dropzone-file]")).to_contain_text("회원 5월.csv")
    page.get_by_role("button", name="Upload and read the file").click()
    expect(page.locator("#file-encoding")).to_contain_text("CP949")
    expect(page.locator("#preview-table")).to_contain_text("김철수")

    # 3 Mapping: identity column, a key used twice refused inline, then fixed; a new key.
    choose(page, "id_identity_column", "회원번호")
    choose(page, "id_col_3", "email")
    duplicate = page.locator("tr[data-column='3'] [data-errors]")
    expect(duplicate).to_contain_text("email is also used by “이메일”")
    shot("03a-mapping-duplicate")
    choose(page, "id_col_3", "mobileNumber")
    expect(duplicate).to_be_empty()
    page.locator("tr[data-column='4'] [data-new-key]").click()
    page.fill("#id_new-key", "grade")
    page.select_option("#id_new-type", "string")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key")).to_contain_text("Created the profile key grade")
    expect(page.locator("#id_col_4")).to_have_value("grade")
    expect(page.locator("[data-preview-column='4'] [data-preview-key]")).to_have_text("→ grade")
    page.locator("#new-key summary").click()  # fold the panel away again
    shot("03-mapping")
    page.get_by_role("button", name="Next: check the whole file").click()

    # 4 Check: the whole file, in the background; counts and sample failures with row numbers.
    counts = page.locator("#check-counts")
    expect(counts).to_be_visible()
    expect(counts.locator("[data-count=create]")).to_have_text("3")
    expect(counts.locator("[data-count=fail]")).to_have_text("3")
    expect(counts.locator("[data-count=mu]")).to_have_text("+3")
    failures = page.locator("#check-failures")
    expect(failures).to_contain_text("not-an-email")
    expect(failures).to_contain_text("memberId is empty")
    shot("04-check")
    page.get_by_role("link", name="Go on without the failing rows").click()

    # 5 Settings: the tag is the file's name until changed.
    expect(page.locator("#id_tag")).to_have_value("회원 5월")
    expect(page.locator("#unsubscribe-note")).to_contain_text("unsubscribeEmail")
    shot("05-settings")
    page.get_by_role("button", name="Next: confirm").click()

    # 6 Confirm: it can be undone for 30 days (R2.16).
    expect(page.locator("#can-undo")).to_contain_text("This import can be undone for 30 days.")
    shot("06-confirm")
    page.get_by_role("button", name="Start the import").click()

    # 7 Progress, live, to 100 %; then the result.
    expect(page.locator("#import-progress [role=progressbar]")).to_be_visible()
    shot("07-progress")
    expect(page.locator("#import-progress [role=progressbar]")).to_have_attribute(
        "aria-valuenow", "100", timeout=TIMEOUT
    )
    result = page.locator("#result-counts")
    expect(result.locator("[data-count=created]")).to_have_text("3")
    expect(result.locator("[data-count=updated]")).to_have_text("0")
    expect(result.locator("[data-count=failed]")).to_have_text("3")
    expect(page.locator("#user-tools")).to_contain_text(re.compile(r"Inbox\s*1"))
    shot("08-result")

    # The failure log: only the failed rows, with their numbers and original values.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["rowNumber", "errorColumns", "errorReasons"]
    assert [r[0] for r in rows[1:]] == [4, 5, 6]  # numbers, not text
    assert [r[1] for r in rows[1:]] == ["email", "memberId", "mobileNumber"]
    assert rows[1][3:5] == ["M003", "박민수"] and rows[3][6] == "010-1234"
    with page.expect_download() as download_csv:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download_csv.value.path()).read_text("utf-8-sig")
    assert "최지우" in text and text.count("\n") == 4

    # The inbox: the bot's message, unread until opened.
    page.click("#inbox-link")
    expect(page.locator("#inbox-messages")).to_contain_text("Import of 회원 5월.csv finished")
    expect(page.locator("#inbox-messages")).to_contain_text(
        "3 customers created, 0 updated, 0 leads unified, 3 rows failed"
    )
    shot("09-inbox")
    page.get_by_role("button", name="Open the import").click()
    expect(page.locator("#result-counts")).to_be_visible()
    expect(page.locator("#inbox-link .inbox-badge")).to_have_count(0)

    # R2.21: the import's customers, by its tag, in contacts.
    page.click("#tagged-contacts")
    expect(page.locator("#result_list")).to_contain_text("김철수")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    shot("10-contacts-by-import-tag")


# The wizard's own English that a Korean manager must not meet on the mapping step (data aside:
# the file's Korean headers and values, profile key names such as email or memberId).
MAPPING_ENGLISH = [
    "is also used by",
    "a profile key may be used by one column only",
    "Created the profile key",
    "not imported",
    "(identity)",
    "Create key",
    "New key",
    "Next: check the whole file",
    "Upload another file",
    "Log out",
    "Imports",
    "Contacts",
    "Map columns",
    "Settings",
    "Confirm",
]


def test_import_wizard_mapping_step_in_korean(
    page: Page,
    live_server: Any,
    channel: Channel,
    tmp_path: Path,
    screenshots: Path,
    korean: None,
) -> None:
    """R11.1: a Korean channel's manager maps a file in Korean, the script's live messages too
    (its JavaScript catalog); the screenshot is the README's Korean mapping step."""
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{live_server.url}/admin/login/?next=/imports/acme/new/")
    page.fill("#id_username", "kim")
    page.fill("#id_password", "pw-kim")
    page.click("input[type=submit]")
    page.locator(".wizard-actions input.default").click()
    page.set_input_files("input[type=file]", str(cp949_file(tmp_path)))
    page.locator(".wizard-actions input.default").click()
    expect(page.locator("#preview-table")).to_contain_text("김철수")

    choose(page, "id_identity_column", "회원번호")
    choose(page, "id_col_3", "email")
    duplicate = page.locator("tr[data-column='3'] [data-errors]")
    expect(duplicate).to_contain_text("email 키는 “이메일” 열에도 쓰이고 있습니다")
    choose(page, "id_col_3", "mobileNumber")
    expect(duplicate).to_be_empty()
    expect(page.locator("[data-preview-column='0'] [data-preview-key]")).to_have_text(
        "→ memberId (식별 키)"
    )
    page.locator("tr[data-column='4'] [data-new-key]").click()
    page.fill("#id_new-key", "grade")
    page.select_option("#id_new-type", "string")
    page.locator("[data-create-key]").click()
    expect(page.locator("#new-key")).to_contain_text(
        "프로필 키 grade을(를) 만들고 “등급” 열에 연결했습니다."
    )
    expect(page.locator("[data-preview-column='4'] [data-preview-key]")).to_have_text("→ grade")
    page.locator("#new-key summary").click()
    page.screenshot(path=str(screenshots / "ko-03-mapping.png"), full_page=True)
    text = page.locator("body").inner_text()
    assert "가져오기" in text and "매핑" in text
    left = [phrase for phrase in MAPPING_ENGLISH if phrase in text]
    assert not left, left

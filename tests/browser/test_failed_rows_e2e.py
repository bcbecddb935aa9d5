"""Fixing failed rows in the browser, in Korean (R2.16a, R2.16): upload a file with failures,
fix two rows in the grid (each cell checked as it changes), import, then undo the import from
the import log. Screenshots of each step go to docs/screenshots/tmp/ (fix-*.png).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page, expect

from crm.models import Channel, Customer
from crm.services.channels import channel_create
from importer.models import ImportJob
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEAD = ["memberId", "name", "email", "unsubscribeEmail", "unsubscribeTexting"]
ROWS = [
    ["M001", "김철수", "kim@example.com", "false", "true"],
    ["M002", "이영희", "not-an-email", "false", "false"],  # row 3: the email to fix
    ["", "박민수", "park@example.com", "false", "false"],  # row 4: the memberId to fill
    ["M004", "최지우", "choi@example.com", "아마도", "false"],  # row 5: left failing
]
TIMEOUT = 90_000


@pytest.fixture
def channel(db: None) -> Channel:
    owner = make_user("kim", email="kim@example.com")
    return channel_create(slug="acme", name="Acme 상점", owner=owner).channel


def member_file(folder: Path) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEAD, *ROWS])
    path = folder / "회원 6월.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def test_r2_16a_fix_two_rows_in_the_grid_import_then_undo_in_korean(
    page: Page,
    live_server: Any,
    channel: Channel,
    tmp_path: Path,
    screenshots: Path,
    settings: Any,
    request: pytest.FixtureRequest,
) -> None:
    if django_settings.REDIS_URL:
        request.getfixturevalue("celery_worker_process")  # the real worker runs the jobs
    settings.LANGUAGE_CODE = "ko"
    page.set_default_timeout(TIMEOUT)
    page.set_extra_http_headers({"Accept-Language": "ko-KR,ko;q=0.9"})

    def shot(name: str) -> None:
        page.screenshot(path=str(screenshots / f"fix-{name}.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/login/?next=/imports/acme/new/")
    page.fill("#id_username", "kim")
    page.fill("#id_password", "pw-kim")
    page.click("input[type=submit]")
    page.locator("input.default[type=submit]").click()
    page.set_input_files("input[type=file]", str(member_file(tmp_path)))
    page.locator("input.default[type=submit]").click()
    expect(page.locator("#preview-table")).to_contain_text("김철수")
    page.locator("input.default[type=submit]").click()  # the headers are the keys: mapped

    # The check finds three failing rows; the grid opens from it.
    counts = page.locator("#check-counts")
    expect(counts.locator("[data-count=fail]")).to_have_text("3")
    shot("01-check")
    page.click("#fix-failed-rows")
    grid = page.locator("#grid-table")
    expect(grid.locator("tr[data-row='3'] td[data-column='2'] [data-reason]")).to_contain_text(
        "not-an-email"
    )
    expect(page.locator("h2").first).to_contain_text("3개 행이 실패할 예정입니다")
    shot("02-grid")

    # Two rows fixed: each cell is checked by the server as soon as it changes.
    page.fill("input[name='cell-3-2']", "lee@example.com")
    page.press("input[name='cell-3-2']", "Tab")
    expect(grid.locator("tr[data-row='3']")).to_have_class("grid-fixed")
    page.fill("input[name='cell-4-0']", "M003")
    page.press("input[name='cell-4-0']", "Tab")
    expect(grid.locator("tr[data-row='4']")).to_have_class("grid-fixed")
    page.fill("input[name='cell-5-3']", "글쎄요")
    page.press("input[name='cell-5-3']", "Tab")
    expect(grid.locator("tr[data-row='5'] td[data-column='3'] [data-reason]")).to_contain_text(
        "글쎄요"
    )
    expect(grid.locator("tr[data-row='5']")).to_have_class("grid-failing")
    shot("03-grid-fixed")

    # Import these rows: the file is checked again with them; one row still fails.
    page.click("#grid-import")
    expect(counts.locator("[data-count=fail]")).to_have_text("1")
    expect(counts.locator("[data-count=create]")).to_have_text("3")
    shot("04-checked-again")
    page.click("#check-continue")
    page.locator("input.default[type=submit]").click()  # settings
    page.locator("input.default[type=submit]").click()  # confirm: start
    result = page.locator("#result-counts")
    expect(result.locator("[data-count=created]")).to_have_text("3", timeout=TIMEOUT)
    expect(result.locator("[data-count=failed]")).to_have_text("1")
    shot("05-result")
    assert Customer.objects.get(channel=channel, member_id="M002").email == "lee@example.com"

    # Undo from the import log.
    job = ImportJob.objects.get(channel=channel, undoes__isnull=True)
    page.goto(f"{live_server.url}/imports/acme/")
    page.locator(f"a[href='/imports/acme/{job.pk}/undo/']").click()
    shot("06-undo-confirm")
    page.click("#undo-submit")
    expect(page.locator("body")).to_contain_text("3", timeout=TIMEOUT)
    page.goto(f"{live_server.url}/imports/acme/")
    expect(page.locator("#import-log")).to_contain_text(f"#{job.pk}")
    shot("07-import-log-undone")
    assert not Customer.objects.filter(channel=channel).exists()

"""Column-wide fixes in headless Chromium (R2.16a): a checked file whose dates, numbers and
consent words fail; the grid of its failed rows offers each fix with its count and before/after
samples; the manager applies the date fix, which a background job applies (on PostgreSQL + Redis
a real, slowed worker: the grid says it is being applied, polls, then shows what it changed),
sees the cells fixed, and imports the rows.

Screenshots in docs/screenshots/tmp/ (fixes-*.png).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from playwright.sync_api import Page, expect

from crm.models import Channel, Customer
from crm.services.profile_keys import profile_key_create
from importer.models import ImportJob
from tests.conftest import start_worker, stop_worker
from tests.importer.test_column_fixes_grid import ROWS
from tests.importer.test_failed_rows_grid import checked
from tests.importer.wizard_support import client_for, url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TIMEOUT = 90_000  # ms: a busy machine


def test_r2_16a_apply_a_date_fix_in_the_grid_then_import(
    page: Page,
    live_server: Any,
    owner: Any,
    channel: Channel,
    screenshots: Path,
    eager_celery: None,
    settings: Any,
    request: pytest.FixtureRequest,
) -> None:
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)
    profile_key_create(channel=channel, key="joined", type="date")
    profile_key_create(channel=channel, key="points", type="number")
    job = checked(client_for(owner), channel, ROWS)  # checked in-process
    assert job.file_check.would_fail == 5
    worker = None
    if django_settings.REDIS_URL and connection.vendor == "postgresql":
        from config.celery import app

        request.getfixturevalue("worker_queue")
        app.conf.task_always_eager = False  # from here on a worker runs the jobs
        worker = start_worker(settings, "fixes", module="tests.slow_worker", SLOW_CHUNK_SECONDS="2")
    try:
        walk(page, live_server, channel, job, screenshots, slowed=worker is not None)
    finally:
        if worker is not None:
            stop_worker(worker)


def walk(
    page: Page, live_server: Any, channel: Channel, job: ImportJob, screenshots: Path, slowed: bool
) -> None:

    def shot(name: str) -> None:
        page.screenshot(path=str(screenshots / f"fixes-{name}.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/login/?next={url('failed_rows', channel, job)}")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "pw-owner")
    page.click("input[type=submit]")
    offers = page.locator("#column-fixes .column-fix")
    expect(offers).to_have_count(3)
    dates = page.locator(".column-fix[data-fix='date.dots']")
    expect(dates).to_contain_text("Dates written with dots (2025.05.04)")
    expect(dates).to_contain_text("3 cells in column “joined”")
    expect(dates.locator("tbody tr").first).to_contain_text("2025-05-04")
    shot("01-offers")

    dates.get_by_role("button", name="Apply to 3 cells").click()
    if slowed:  # the worker waits 2 s at the page: the grid says so, and polls
        expect(page.locator("#fix-status")).to_contain_text("Applying the fix to column “joined”…")
        expect(page.locator("#grid-import")).to_be_disabled()
        expect(page.locator("#column-fixes")).to_have_count(0)
        shot("02-applying")
    # Then (the page reloads itself once the job ended) what it changed.
    expect(page.locator("#fix-result")).to_contain_text("Fixed 3 cells in column “joined”.")
    expect(page.locator("input[name='cell-2-5']")).to_have_value("2025-05-04")
    expect(page.locator("td[data-column='5']:has(input[name='cell-2-5'])")).not_to_have_class(
        "grid-bad"
    )
    expect(page.locator(".column-fix[data-fix='date.dots']")).to_have_count(0)
    shot("03-applied")

    for fix, column in (("number.thousands", "points"), ("boolean.consent", ROWS[0][3])):
        page.locator(f".column-fix[data-fix='{fix}'] button").click()
        expect(page.locator("#fix-result")).to_contain_text(f"Fixed 2 cells in column “{column}”.")
        expect(page.locator(f".column-fix[data-fix='{fix}']")).to_have_count(0)
    expect(page.locator("#column-fixes")).to_have_count(0)
    page.get_by_role("button", name="Import these rows").click()
    expect(page.locator("#check-counts [data-count=fail]")).to_have_text("2")
    shot("04-checked-again")
    job.refresh_from_db()
    assert job.status == "draft"
    assert ImportJob.objects.filter(channel=channel).count() == 1
    assert not Customer.objects.filter(channel=channel).exists()  # nothing imported yet

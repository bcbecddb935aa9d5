"""R2.3a in headless Chromium: a Western-European CSV whose encoding cannot be told for certain
is not guessed; the wizard shows it read in each likely encoding, the manager picks the one that
looks right, and the mapping step shows the names as written. Screenshot: 02b-encoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from crm.models import Channel
from crm.services.channels import channel_create
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "memberId,name,city,unsubscribeEmail,unsubscribeTexting\r\n"
    "m1,José Müller,Köln,false,false\r\n"
    "m2,André Ångström,Malmö,false,true\r\n"
    "m3,François Gérard,Besançon,true,false\r\n"
)


@pytest.fixture
def channel(db: None) -> Channel:
    owner = make_user("kim", email="kim@example.com")
    return channel_create(slug="acme", name="Acme", owner=owner).channel


def test_r2_3a_the_manager_chooses_the_encoding_seeing_each_reading(
    page: Page, live_server: Any, channel: Channel, tmp_path: Path, screenshots: Path
) -> None:
    page.set_default_timeout(60_000)
    path = tmp_path / "customers-eu.csv"
    path.write_bytes(TEXT.encode("cp1252"))
    page.goto(f"{live_server.url}/admin/login/?next=/imports/acme/upload/?kind=member")
    page.fill("#id_username", "kim")
    page.fill("#id_password", "pw-kim")
    page.click("input[type=submit]")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Upload and read the file").click()

    western = page.locator("#encoding-cp1252")
    expect(western).to_contain_text("Western European (Windows-1252)")
    expect(western).to_contain_text("José Müller")
    expect(page.locator("#file-encoding")).to_contain_text("encoding to choose")
    page.screenshot(path=str(screenshots / "02b-encoding.png"), full_page=True)
    expect(page.locator("input[name=encoding]:checked")).to_have_count(0)  # nothing guessed
    western.locator("input[type=radio]").check()
    page.get_by_role("button", name="Read the file in this encoding").click()

    expect(page.locator("#file-encoding")).to_contain_text("Windows-1252")
    expect(page.locator("#preview-table")).to_contain_text("André Ångström")

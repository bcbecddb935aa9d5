"""R2.13a: spreadsheet cells read as the manager sees them — number cells in text keys are the
text the cell shows, Excel dates fill date keys — and Korean files need no manual fix."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from openpyxl import Workbook

from crm.models import Channel, Customer
from crm.services.profile_keys import profile_key_create
from tests.importer.conftest import run_import
from tests.importer.wizard_support import (
    client_for,
    csv_bytes,
    eager_tasks,
    latest_job,
    upload,
    url,
)

__all__ = ["eager_tasks"]  # the fixture: the check and the import run inside the request


@pytest.fixture
def shop(channel: Channel) -> Channel:
    profile_key_create(channel=channel, key="code", type="string")
    profile_key_create(channel=channel, key="joined", type="date", label="가입일")
    profile_key_create(channel=channel, key="joinedText", type="string")
    return channel


def test_r2_13a_number_and_date_cells_read_as_the_cell_shows(shop: Channel, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["memberId", "code", "가입일", "joinedText", "unsubscribeEmail", "unsubscribeTexting"]
    )
    # What openpyxl gives for Excel's cells: floats for numbers, datetimes for date cells.
    sheet.append([1001.0, 0.1 + 0.2, datetime(2025, 5, 4), datetime(2025, 5, 4), 0, 0])
    sheet.append([1002, 1e20, datetime(2025, 5, 4, 9, 30), datetime(2025, 5, 4, 9, 30), 0, 0])
    sheet.append([1003, 12.5, "2025-05-06", "memo", 0, 0])
    path = tmp_path / "members.xlsx"
    book.save(path)
    result = run_import(shop, path, "--kind", "member")
    assert (result["created"], result["failed"]) == (3, 0)
    profiles = {c.member_id: c.profile for c in Customer.objects.all()}
    assert profiles == {
        "1001": {"code": "0.3", "joined": "2025-05-04", "joinedText": "2025-05-04"},
        "1002": {
            "code": "100000000000000000000",
            "joined": "2025-05-04",
            "joinedText": "2025-05-04 09:30:00",
        },
        "1003": {"code": "12.5", "joined": "2025-05-06", "joinedText": "memo"},
    }


# --- a Korean manager's CP949 lead file, by mobile --------------------------------------------


@pytest.fixture
def client(owner: Any, channel: Channel) -> Client:
    return client_for(owner)


@pytest.mark.parametrize("header", ["휴대폰", "핸드폰", "연락처"])
def test_r2_8a_lead_import_by_mobile_finds_its_identity_column(
    client: Client, channel: Channel, header: str
) -> None:
    rows = [["이름", header, "이메일 수신거부", "문자 수신거부"], ["김", "010-1234-5678", "N", "N"]]
    response = upload(
        client, channel, csv_bytes(rows, "cp949"), kind="lead", identity="mobileNumber"
    )
    assert response.status_code == 302
    job = latest_job(channel)
    page = client.get(url("mapping", channel, job)).content.decode()
    assert f'<option value="1" selected>{header}</option>' in page
    data = {"identity_column": "1", "col_0": "name", "col_2": "unsubscribeEmail"}
    data["col_3"] = "unsubscribeTexting"
    assert client.post(url("mapping", channel, job), data).status_code == 302
    client.get(url("check", channel, job))
    assert (
        client.post(url("settings", channel, job), {"empty_policy": "keep", "tag": "t"}).status_code
        == 302
    )
    client.post(url("confirm", channel, job))
    lead = Customer.objects.get()
    assert (lead.name, lead.mobile_number, lead.member_id) == ("김", "+821012345678", None)

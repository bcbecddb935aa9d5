"""R2.3 beyond: an XLSX file imports directly, its native cells (numbers, dates, booleans)
parsed by the same rules as CSV text."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

from crm.models import Channel, Customer
from tests.importer.conftest import run_import


def test_r2_3_xlsx_with_native_cells_imports_like_csv(keys: Channel, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "memberId",
            "name",
            "mobileNumber",
            "points",
            "vip",
            "birthday",
            "lastOrderAt",
            "unsubscribeEmail",
            "unsubscribeTexting",
        ]
    )
    sheet.append(
        [
            "m1",
            "김철수",
            "+82 010-1111-2222",
            1500,
            True,
            date(1990, 5, 4),
            datetime(2025, 5, 4, 9, 30),
            False,
            "TRUE",
        ]
    )
    sheet.append(
        [
            "m2",
            "이영희",
            "+821033334444",
            2.5,
            "no",
            "1991-01-02",
            "2025-05-04T09:00:00+09:00",
            0,
            1,
        ]
    )
    sheet.append(["m3", "박", "01055556666", "1,000", "maybe", "1991/01/02", None, False, False])
    path = tmp_path / "members.xlsx"
    book.save(path)
    result = run_import(keys, path, "--kind", "member")
    assert (result["created"], result["failed"], result["encoding"]) == (2, 1, None)
    m1 = Customer.objects.get(member_id="m1")
    assert (m1.name, m1.mobile_number, m1.unsubscribe_email, m1.unsubscribe_texting) == (
        "김철수",
        "+821011112222",
        False,
        True,
    )
    assert m1.profile == {
        "points": 1500,
        "vip": True,
        "birthday": "1990-05-04",
        "lastOrderAt": "2025-05-04T09:30:00.000Z",
    }
    m2 = Customer.objects.get(member_id="m2")
    assert m2.profile == {
        "points": 2.5,
        "vip": False,
        "birthday": "1991-01-02",
        "lastOrderAt": "2025-05-04T00:00:00.000Z",
    }
    assert not Customer.objects.filter(member_id="m3").exists()
